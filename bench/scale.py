"""Scale-out benchmarks.

1. Ledger claims per second on PostgreSQL (Debian's package, a throwaway cluster) against SQLite, both measured in
   this run with the same workload: T threads each claiming distinct content keys, then releasing them.
2. The real cluster (deploy/cluster.sh up: PostgreSQL, a Prefect server, process workers) with 1 and with 2 workers:
   a catalog of hosted-only SKUs on the Kling fake (small latency) through `skureel run --on-cluster`, fanned out in
   chunks. Printed: SKUs per minute, the speed-up, and each chunk's run time against its ideal (its SKUs x the
   fake's latency / the jobs it may run at once), medians over the chunks.

   Compose-light: the workers run with SKUREEL_BENCH_SKIP_COMPOSE=1, a bench-only setting that publishes each base
   clip as it is instead of composing it (composing costs seconds of CPU per SKU and scales with machines; it is
   measured by bench/render.py), and the fake returns 0.3 s clips. Everything else is the real path: chunk runs
   on workers, ledger claims on PostgreSQL, the provider's global concurrency limit, publishing, the manifest.

    .venv/bin/python bench/scale.py --only claims                                 # ~30 s
    .venv/bin/python bench/scale.py --only cluster                                # 2,000 SKUs, 1 then 2 workers
    .venv/bin/python bench/scale.py --only cluster --skus 400 --chunk-skus 50     # ~30 min on a busy 2-core box

Numbers and what they mean for N machines: deploy/README.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.pg import Postgres  # noqa: E402

from skureel.ledger import Ledger  # noqa: E402

PER_CHUNK = 5  # the Kling adapter's own cap per chunk run (its declared max_concurrency)


def claims_per_second(url: str, threads: int = 8, per_thread: int = 250) -> float:
    ledger = Ledger(url)
    prefix = f"bench-{time.time_ns()}"
    start = threading.Barrier(threads + 1)

    def work(t: int) -> None:
        own = Ledger(url)
        start.wait()
        for i in range(per_thread):
            key = f"{prefix}-{t}-{i}"
            assert own.claim(key, f"owner-{t}", 60)
            own.release(key, f"owner-{t}")

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - began
    del ledger
    return threads * per_thread / elapsed


ROOT = Path(__file__).resolve().parents[1]
CLUSTER = ROOT / "deploy" / "cluster.sh"


class ClusterResult(NamedTuple):
    workers: int
    delivered: int
    paid: int
    wall_s: float
    chunk_s: list[float]  # each chunk run's time on its worker
    start_lag_s: list[float]  # from a chunk's submission to its start on a worker
    concurrency: int  # jobs that could run at once: provider slots, or the running chunks' own caps
    load: tuple[float, float]  # 1-min load average before and after


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _catalog(folder: Path, count: int) -> Path:
    import shutil

    from tests.conftest import write_catalog

    images = sorted((ROOT / "catalogs" / "sample" / "images").glob("*.jpg"))
    (folder / "images").mkdir(parents=True)
    for image in images:
        shutil.copy(image, folder / "images" / image.name)
    rows: list[dict[str, object]] = [
        {"SKU": f"SC-{i:05d}", "Title": f"Scale product {i}", "Price": 10 + i % 90, "Currency": "EUR",
         "Image": f"images/{images[i % len(images)].name}", "Shots": "hero", "Duration": 5, "Material": "cotton"}
        for i in range(count)]
    return write_catalog(folder / "catalog.xlsx", rows)


def _seconds(a: str | None, b: str | None) -> float | None:
    from datetime import datetime

    if not a or not b:
        return None
    return (datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds()


def run_cluster(workers: int, skus: int, args: argparse.Namespace, status_out: list[str]) -> ClusterResult:
    """One catalog through a fresh cluster of `workers` process workers (`--limit` slots each)."""
    import json
    import os
    import shutil
    import subprocess

    import httpx

    from skureel.providers.fake.server import FakeServer

    state = Path(tempfile.mkdtemp(prefix="skureel-scale-"))  # under /tmp: PostgreSQL's user must reach it
    api_port, pg_port = _free_port(), _free_port()
    catalog = _catalog(state / "catalog", skus)
    kit = ROOT / "brand_kits" / "aurora"
    with FakeServer("kling", latency_s=args.latency, concurrency=args.provider_slots) as kling:
        kling.vendor.clip_seconds = 0.3
        env = {**os.environ, "SKUREEL_CLUSTER_DIR": str(state / "cluster"), "SKUREEL_CLUSTER_API_PORT": str(api_port),
               "SKUREEL_CLUSTER_PG_PORT": str(pg_port), "SKUREEL_CLUSTER_UI": "false",
               "SKUREEL_CLUSTER_PG_OPTIONS": "-c fsync=off -c synchronous_commit=off",
               "PREFECT_WORKER_QUERY_SECONDS": "2", "SKUREEL_CHUNK_SKUS": str(args.chunk_skus),
               "SKUREEL_CACHE_DIR": str(state / "cache"), "SKUREEL_KLING_BASE_URL": kling.url,
               "SKUREEL_BENCH_SKIP_COMPOSE": "1", "SKUREEL_MAX_PARALLEL_RENDERS": "1", **kling.credentials}
        env.pop("PREFECT_API_URL", None)
        api = f"http://127.0.0.1:{api_port}/api"
        try:
            up = subprocess.run([str(CLUSTER), "up", "--workers", str(workers), "--limit", str(args.limit)], env=env,
                                capture_output=True, text=True, timeout=600)
            if up.returncode != 0:
                raise SystemExit(f"cluster.sh up failed: {up.stderr.strip()[-500:]}")
            line = subprocess.run([str(CLUSTER), "env"], env=env, capture_output=True, text=True, check=True).stdout
            client = {**env, **dict(p.split("=", 1) for p in line.removeprefix("export ").replace("'", "").split()),
                      "PREFECT_HOME": str(state / "client-home")}
            # the provider account's concurrency, shared by every worker (created before the run, as an operator would)
            httpx.post(f"{api}/v2/concurrency_limits/", json={"name": "skureel-kling", "limit": args.provider_slots},
                       timeout=30).raise_for_status()
            load_before = os.getloadavg()[0]
            began = time.perf_counter()
            cli = subprocess.Popen([sys.executable, "-m", "skureel", "run", str(catalog), "--brand", str(kit),
                                    "--provider", "kling", "--formats", "9x16", "--quality", "draft", "--qa", "off",
                                    "--out", str(state / "out"), "--on-cluster"], env=client,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            while cli.poll() is None and not status_out:  # `skureel cluster status` once chunks are running
                time.sleep(10)
                shown = subprocess.run([sys.executable, "-m", "skureel", "cluster", "status"], env=client,
                                       capture_output=True, text=True, timeout=60).stdout
                if "chunk " in shown and "slots" in shown:
                    status_out.extend(shown.splitlines())
            output, _ = cli.communicate(timeout=7200)
            wall = time.perf_counter() - began
            if cli.returncode != 0:  # a few failed SKUs still leave a measurement (counted as not delivered)
                if not (state / "out" / "manifest.json").is_file():
                    raise SystemExit(f"the run failed ({cli.returncode}): {output[-1500:]}")
                print(f"  (exit {cli.returncode}, some SKUs not delivered: {output[-600:]})", flush=True)
            manifest = json.loads((state / "out" / "manifest.json").read_text())
            delivered = sum(1 for d in manifest["deliverables"] if d["status"] == "delivered")
            runs = httpx.post(f"{api}/flow_runs/filter", json={"limit": 200}, timeout=30).json()
            chunks = [r for r in runs if (r.get("parameters") or {}).get("chunk")]
            chunk_s = [r["total_run_time"] for r in chunks if r["state_type"] == "COMPLETED"]
            lags = [lag for r in chunks if (lag := _seconds(r["expected_start_time"], r["start_time"])) is not None]
            running = min(workers * args.limit, -(-skus // args.chunk_skus))
            return ClusterResult(workers, delivered, len(kling.vendor.paid), wall, chunk_s, lags,
                                 min(args.provider_slots, running * PER_CHUNK), (load_before, os.getloadavg()[0]))
        finally:
            subprocess.run([str(CLUSTER), "down"], env=env, capture_output=True, text=True, timeout=180)
            shutil.rmtree(state, ignore_errors=True)


def compose_cpu_s(rounds: int = 3) -> float:
    """CPU seconds to compose one hosted 5 s base clip into 9x16 at draft quality, what each SKU of the cluster
    bench skips (median of `rounds`, in this process): the per-machine work that scales with machines."""
    from skureel.catalog.brandkit import load_brand_kit
    from skureel.domain import Product
    from skureel.pipeline.work import overlay_for
    from skureel.providers.local import render_base_clip
    from skureel.render.compose import compose_clip

    brand = load_brand_kit(ROOT / "brand_kits" / "aurora")
    product = Product(key="SC-1", sku="SC-1", title="Scale product", material="cotton")
    folder = Path(tempfile.mkdtemp(prefix="skureel-compose-"))
    base = folder / "base.mp4"
    base.write_bytes(render_base_clip((ROOT / "catalogs" / "sample" / "images" / "scarf.jpg").read_bytes(), 720, 1280,
                                      5.0))
    costs = []
    for i in range(rounds):
        began = time.process_time()
        compose_clip(base, None, 5.0, "9x16", brand, overlay_for(product, brand), folder / f"{i}.mp4", quality="draft")
        costs.append(time.process_time() - began)
    return statistics.median(costs)


def report_cluster(r: ClusterResult, base: float | None, args: argparse.Namespace) -> float:
    """One configuration's lines, printed as soon as it finished; returns its rate (the first is the baseline)."""
    rate = r.delivered / r.wall_s * 60
    base = base or rate
    ideal = args.skus * args.latency / r.concurrency
    chunk_ideal = args.chunk_skus * args.latency / min(PER_CHUNK, args.provider_slots)
    med = statistics.median(r.chunk_s) if r.chunk_s else float("nan")
    lag = statistics.median(r.start_lag_s) if r.start_lag_s else float("nan")
    print(f"  {r.workers} worker(s): {r.delivered} delivered, {r.paid} paid, {r.wall_s:6.1f} s wall, "
          f"{rate:6.0f} SKUs/min, speed-up {rate / base:.2f}x; ideal {ideal:5.1f} s at {r.concurrency} jobs at once")
    print(f"     chunks: {len(r.chunk_s)} completed, median run {med:5.1f} s vs ideal {chunk_ideal:4.1f} s "
          f"(overhead {med - chunk_ideal:5.1f} s per chunk, {(med - chunk_ideal) / args.chunk_skus * 1000:4.0f} ms "
          f"per SKU); median start lag (queued + picked up) {lag:4.1f} s; load {r.load[0]:.1f} -> {r.load[1]:.1f}",
          flush=True)
    return base


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=["claims", "cluster"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--skus", type=int, default=2000)
    parser.add_argument("--workers", default="1,2", help="worker counts to run, e.g. 1,2")
    parser.add_argument("--limit", type=int, default=2, help="chunk runs at once per worker (prefect --limit)")
    parser.add_argument("--chunk-skus", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.2, help="the Kling fake's seconds per job")
    parser.add_argument("--provider-slots", type=int, default=20, help="the provider's global concurrency limit")
    args = parser.parse_args()
    if args.only != "cluster":
        claims(args)
    if args.only != "claims":
        status: list[str] = []
        print(f"cluster: {args.skus} hosted-only SKUs on the Kling fake ({args.latency} s per job), chunks of "
              f"{args.chunk_skus}, {args.limit} chunk slots per worker, {args.provider_slots} provider slots; "
              "compose-light (SKUREEL_BENCH_SKIP_COMPOSE)", flush=True)
        base: float | None = None
        for workers in args.workers.split(","):
            base = report_cluster(run_cluster(int(workers), args.skus, args, status), base, args)
        print(f"composing skipped per SKU (5 s hosted clip -> 9x16 draft, median of 3): {compose_cpu_s():.2f} CPU s")
        print("skureel cluster status, mid-run:")
        for line in status:
            print(f"  {line}")


def claims(args: argparse.Namespace) -> None:
    root = Path(tempfile.mkdtemp(prefix="skureel-bench-pg-"))
    server = Postgres(root, port=55999)
    pg_url = server.start()
    try:
        sqlite_url = f"sqlite:///{root / 'ledger.sqlite'}"
        pg = [claims_per_second(pg_url, args.threads) for _ in range(args.repeats)]
        lite = [claims_per_second(sqlite_url, args.threads) for _ in range(args.repeats)]
    finally:
        server.stop()
    pg_median, lite_median = statistics.median(pg), statistics.median(lite)
    print(f"ledger claims (claim + release), {args.threads} threads, median of {args.repeats}:")
    print(f"  PostgreSQL {pg_median:8.0f}/s   SQLite {lite_median:8.0f}/s   ratio {pg_median / lite_median:.2f}x")


if __name__ == "__main__":
    main()
