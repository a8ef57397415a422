"""Studio pages for a 2,000-row batch rendered server-side, against an empty route of the same app in the same run;
the estimate of a 2,000-row upload (one distinct photo per row) end to end through its form, and its plan page; and
how often the progress stream reads the store while several tabs watch each of two running batches.

Aim: every page under 200 ms (median of 7); at most one store read per second per batch, however many tabs. The
estimate's own time is printed (it is planning and prompt lint, not a page) and is not part of the aim.
Served by uvicorn on 127.0.0.1 and fetched with httpx, as a browser would.
"""

from __future__ import annotations

import csv
import io
import statistics
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import httpx
import uvicorn

ROWS = 2000


def build_sheet(path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["SKU", "Title", "Price", "Currency", "Image", "Material"])
        for i in range(ROWS):
            title = "" if i % 10 == 3 else f"Product {i}"  # every tenth row has a problem to list
            writer.writerow([f"SKU-{i:05d}", title, f"{10 + i % 50}.00", "USD", f"images/{i}.jpg", "cotton"])


def build_upload(folder: Path) -> tuple[Path, Path]:
    """A 2,000-row sheet and a zip with one small, distinct photo per row (a product on a plain backdrop)."""
    from PIL import Image, ImageDraw

    sheet = folder / "photos.csv"
    with sheet.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["SKU", "Title", "Price", "Currency", "Image", "Material", "Colour"])
        for i in range(ROWS):
            writer.writerow([f"PH-{i:05d}", f"Linen shirt {i}", f"{20 + i % 40}.00", "USD", f"images/{i}.jpg",
                             "linen", ("navy", "sand", "olive", "white")[i % 4]])
    archive = folder / "photos.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as out:
        for i in range(ROWS):
            image = Image.new("RGB", (400, 400), (235, 232, 226))
            ImageDraw.Draw(image).rectangle((100 + i % 50, 80, 300, 330 - i % 40), fill=(30 + i % 200, 60, 110))
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=70)
            out.writestr(f"images/{i}.jpg", buffer.getvalue())
    return sheet, archive


def timed(client: httpx.Client, path: str, runs: int = 7) -> float:
    client.get(path)  # warm: template compilation, first connection
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        answer = client.get(path)
        samples.append((time.perf_counter() - start) * 1000)
        assert answer.status_code == 200, (path, answer.status_code)
    return statistics.median(samples)


def main() -> int:
    from skureel.web.app import create_app
    from skureel.web.config import StudioConfig
    from skureel.web.security import hash_password

    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data"
        app = create_app(StudioConfig(data_dir=data), run_worker=False)
        store = app.state.store
        space = store.workspace("bench", create=True)
        store.upsert_user("bench@example.com", hash_password("bench password"), space["id"], "admin")
        sheet = Path(folder) / "sheet.csv"
        build_sheet(sheet)
        with sheet.open("rb") as handle:
            from skureel.web import service

            batch_id = service.create_batch(app.state.config, store, space["id"], "bench", "admin", handle,
                                            "sheet.csv", None)
        store.set_cells(batch_id, [{"sku": f"SKU-{i:05d}", "shot": "hero", "format": "9x16", "status": "ready",
                                    "clip_path": "/nonexistent.mp4", "poster_path": "/nonexistent.jpg"}
                                   for i in range(ROWS)])
        store.update_batch(batch_id, state="running", run={"phase": "rendering"})
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        client = httpx.Client(base_url=base, timeout=60)
        page = client.get("/login").text
        csrf = page.split('name="csrf" value="')[1].split('"')[0]
        client.post("/login", data={"email": "bench@example.com", "password": "bench password", "csrf": csrf})
        empty = timed(client, "/healthz")
        print(f"{ROWS}-row batch, {len(store.batch(batch_id)['report']['problems'])} problems, {ROWS} cells")
        photos, archive = build_upload(Path(folder))
        csrf = client.get(f"/w/{space['id']}").text.split('name="csrf" value="')[1].split('"')[0]  # the session's
        made = client.post(f"/w/{space['id']}/batches", data={"csrf": csrf},
                           files={"sheet": ("photos.csv", photos.read_bytes()), "images": ("p.zip", archive.read_bytes())})
        planned = made.headers["location"].rsplit("/", 1)[1]
        start = time.perf_counter()  # the estimate form end to end: ingest, plan, prompt lint, keys, stored
        answer = client.post(f"/batches/{planned}/estimate", data={"csrf": csrf, "brand_kit": "aurora",
                                                                    "providers": "kling", "formats": "9x16",
                                                                    "quality": "draft"}, timeout=600)
        estimate_s = time.perf_counter() - start
        assert answer.status_code == 303, answer.text[:300]
        estimate = store.batch(planned)["estimate"]
        print(f"estimate of a {ROWS}-row upload on kling, 9x16: {estimate_s:.1f} s end to end "
              f"({estimate['skus']} products, {estimate['shots']} shots, ${estimate['total_usd']:.2f})")
        print(f"{'route':<28}{'median ms':>10}{'x empty':>9}")
        print(f"{'/healthz (empty route)':<28}{empty:>10.1f}{1.0:>9.1f}")
        worst = 0.0
        for name, path in (("validation", f"/batches/{batch_id}"), ("plan (no estimate)", f"/batches/{batch_id}/plan"),
                           ("plan (2,000-row estimate)", f"/batches/{planned}/plan"),
                           ("changes (diff)", f"/batches/{planned}/diff"),
                           ("progress", f"/batches/{batch_id}/progress"), ("review grid", f"/batches/{batch_id}/review"),
                           ("deliver", f"/batches/{batch_id}/deliver"), ("workspace", f"/w/{space['id']}"),
                           ("api: batch json", None)):
            if path is None:
                token = store.new_token(space["id"])
                ms = timed(httpx.Client(base_url=base, headers={"authorization": f"Bearer {token}"}),
                           f"/api/v1/batches/{planned}")
            else:
                ms = timed(client, path)
            worst = max(worst, ms)
            print(f"{name:<28}{ms:>10.1f}{ms / empty:>9.1f}")

        store.update_batch(planned, state="running", run={"phase": "rendering"})
        reads, seconds, tabs, received = _watch(app, store, base, client.cookies, [batch_id, planned])
        per_batch = [reads[b] / seconds for b in (batch_id, planned)]
        print(f"progress stream: {tabs} tabs on each of 2 running batches for {seconds:g} s -> store reads per batch "
              f"{reads[batch_id]} and {reads[planned]} ({per_batch[0]:.2f}/s, {per_batch[1]:.2f}/s), "
              f"{received} events delivered")
        server.should_exit = True
        # one read at connect, then at most one a second, counted over exactly the watched window
        ok = worst < 200 and all(reads[b] <= seconds + 1 for b in (batch_id, planned))
        print("OK" if ok else "SLOW: a page over 200 ms or the stream reads the store more than once a second")
        return 0 if ok else 1


def _watch(app: object, store: object, base: str, cookies: httpx.Cookies, batches: list[str],
           tabs: int = 3, seconds: float = 5.0) -> tuple[dict[str, int], float, int, int]:
    """`tabs` event streams on each batch while a worker writes progress to each twice a second; the feed's store
    reads per batch are taken when the window opens and when it closes, not after the streams wind down."""
    feed = app.state.feed  # type: ignore[attr-defined]
    received = [0] * (tabs * len(batches))
    opened = threading.Event()
    stop = threading.Event()

    def watch(i: int, batch: str) -> None:
        timeout = httpx.Timeout(30, read=1.5)  # an idle stream sends nothing: wake up to see the window closed
        with httpx.Client(base_url=base, cookies=cookies, timeout=timeout) as tab, \
                tab.stream("GET", f"/batches/{batch}/events") as stream:
            try:
                for line in stream.iter_lines():
                    received[i] += line.startswith("event:")
                    if stop.is_set():
                        return
            except httpx.ReadTimeout:
                return

    def churn() -> None:  # a worker writing progress twice a second into each batch
        opened.wait()
        while not stop.is_set():
            for batch in batches:
                store.add_event(batch, "generated", {"sku": "SKU-00001"})  # type: ignore[attr-defined]
            time.sleep(0.5)

    threads = [threading.Thread(target=watch, args=(i * len(batches) + j, b))
               for i in range(tabs) for j, b in enumerate(batches)] + [threading.Thread(target=churn)]
    before = {b: feed.reads_by.get(b, 0) for b in batches}  # the window opens as the tabs connect
    for t in threads:
        t.start()
    opened.set()
    time.sleep(seconds)
    reads = {b: feed.reads_by.get(b, 0) - before[b] for b in batches}
    stop.set()
    for t in threads:
        t.join(10)
    return reads, seconds, tabs, sum(received)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


if __name__ == "__main__":
    sys.exit(main())
