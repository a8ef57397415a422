"""Publish N clips to each fake target (with latency) and print the wall time against the ideal
(clips / concurrency x per-clip latency of that fake), aiming at <= 1.2x.

Per-clip latency is what each fake deliberately waits: Cloudinary one upload; Bynder the finalise and the save's
answer (latency each); Shopify the staged upload, storage POST and attach (latency in all) plus processing to
READY (latency again). Shopify's
query-cost bucket is set beyond any plan (2000 points, 20000/s) so the bench measures our
concurrency, not a plan's rate limit; a second Shopify line with the Standard plan's bucket shows that cost.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import socket
import struct
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import httpx
import numpy as np

from skureel.publish.fakes.server import credentials
from skureel.publish.targets.output import publish_output

ROOT = Path(__file__).resolve().parents[1]


def base_clip(path: Path) -> bytes:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(30))
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for n in range(15):
            frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), n * 10, dtype=np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path.read_bytes()


def make_run(folder: Path, clips: int) -> None:
    """A manifest of `clips` distinct MP4s (a trailing `free` box keeps each file valid and its bytes unique)."""
    folder.mkdir(parents=True, exist_ok=True)
    data = base_clip(folder / "base.mp4")
    rows = []
    for n in range(clips):
        sku = f"BENCH-{n:04d}"
        payload = f"skureel-bench-{n}".encode()
        blob = data + struct.pack(">I4s", 8 + len(payload), b"free") + payload
        path = folder / "clips" / sku / f"{sku}__hero__9x16.mp4"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blob)
        rows.append({"sku": sku, "shot": "hero", "format": "9x16", "title": f"Bench {n}", "uri": str(path),
                     "sha256": hashlib.sha256(blob).hexdigest(), "bytes": len(blob), "content_key": f"ck{n}",
                     "tags": {"brand": "Aurora Goods"}, "ai_generated": False, "status": "delivered"})
    (folder / "manifest.json").write_text(json.dumps({"summary": {}, "deliverables": rows}))


def _serve(name: str, port: int, latency: float, options: dict[str, float]) -> None:
    import uvicorn

    from skureel.publish.fakes.server import build_app

    app, state = build_app(name, {}, latency, **options)
    state.base_url = f"http://127.0.0.1:{port}"
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="critical", access_log=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_up(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/_fake/stats", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not start")


def bench(name: str, clips: int, latency: float, concurrency: int, **fake: float) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        make_run(folder / "out", clips)
        kit = folder / "kit"
        kit.mkdir()
        (kit / "targets.yaml").write_text(
            f"targets:\n  {name}: {{concurrency: {concurrency}"
            + (f", poll_s: {latency / 4:g}" if name == "shopify" else "")
            + (", brand_id: b, block_s: 1" if name == "bynder" else "") + "}\n")
        # the fake runs in its own process, as a vendor would: it must not share our interpreter's GIL
        port = free_port()
        proc = multiprocessing.get_context("spawn").Process(target=_serve, args=(name, port, latency, fake), daemon=True)
        proc.start()
        url = f"http://127.0.0.1:{port}"
        try:
            wait_up(url)
            os.environ.update(credentials(name))
            os.environ[f"SKUREEL_{name.upper()}_BASE_URL"] = url
            started = time.perf_counter()
            report = publish_output(str(folder / "out"), [name], brand_kit=kit, concurrency=concurrency)
            wall = time.perf_counter() - started
            stats = httpx.get(f"{url}/_fake/stats").json()
        finally:
            proc.terminate()
            proc.join(5)
    per_clip = latency * (1 if name == "cloudinary" else 2)
    ideal = clips / concurrency * per_clip
    note = ""
    if "bucket" in fake:  # the query-cost bucket may bound it instead: points beyond a full bucket / restore rate
        by_cost = max(0.0, stats.get("cost_points", 0) - fake["bucket"]) / fake["restore"]
        note = f"  ({stats.get('cost_points', 0)} query points: cost-bound ideal {by_cost:.2f}s)"
        ideal = max(ideal, by_cost)
    label = name + (f" (bucket {fake['bucket']:g}, {fake['restore']:g}/s)" if "bucket" in fake else "")
    return (f"{label:34s} {report.count('uploaded'):4d} uploaded {len(report.failures):3d} failed  "
            f"wall {wall:6.2f}s  ideal {ideal:6.2f}s  ratio {wall / ideal:4.2f}x  "
            f"throttled {stats.get('throttled', 0)}{note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--targets", default="cloudinary,bynder,shopify")
    args = parser.parse_args()
    print(f"publish {args.clips} clips, fake latency {args.latency:g}s, concurrency {args.concurrency}", flush=True)
    for name in args.targets.split(","):
        fake = {"bucket": 2000.0, "restore": 20000.0} if name == "shopify" else {}
        print(bench(name, args.clips, args.latency, args.concurrency, **fake), flush=True)
        if name == "shopify":
            # the Standard plan's bucket: cost-bound (about 150 points a clip at 100/s), so fewer clips
            small = min(args.clips, 20)
            print(f"  {small} clips on the Standard plan's bucket:", flush=True)
            print(bench(name, small, args.latency, args.concurrency, bucket=1000.0, restore=100.0), flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
