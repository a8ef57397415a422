"""Studio pages for a 2,000-row batch rendered server-side, against an empty route of the same app in the same run;
and how often the progress stream reads the store while several tabs watch one running batch.

Aim: every page under 200 ms (median of 7); at most one store read per second per batch, however many tabs.
Served by uvicorn on 127.0.0.1 and fetched with httpx, as a browser would.
"""

from __future__ import annotations

import csv
import statistics
import sys
import tempfile
import threading
import time
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
        print(f"{'route':<28}{'median ms':>10}{'x empty':>9}")
        print(f"{'/healthz (empty route)':<28}{empty:>10.1f}{1.0:>9.1f}")
        worst = 0.0
        for name, path in (("validation", f"/batches/{batch_id}"), ("plan", f"/batches/{batch_id}/plan"),
                           ("progress", f"/batches/{batch_id}/progress"), ("review grid", f"/batches/{batch_id}/review"),
                           ("deliver", f"/batches/{batch_id}/deliver"), ("workspace", f"/w/{space['id']}"),
                           ("api: batch json", None)):
            if path is None:
                token = store.new_token(space["id"])
                ms = timed(httpx.Client(base_url=base, headers={"authorization": f"Bearer {token}"}),
                           f"/api/v1/batches/{batch_id}")
            else:
                ms = timed(client, path)
            worst = max(worst, ms)
            print(f"{name:<28}{ms:>10.1f}{ms / empty:>9.1f}")

        feed = app.state.feed
        reads_before, tabs, seconds = feed.reads, 6, 5.0
        stop = time.monotonic() + seconds
        received = [0] * tabs

        def watch(i: int) -> None:
            with httpx.Client(base_url=base, cookies=client.cookies, timeout=30) as tab, \
                    tab.stream("GET", f"/batches/{batch_id}/events") as stream:
                for line in stream.iter_lines():
                    received[i] += line.startswith("event:")
                    if time.monotonic() > stop:
                        return

        def churn() -> None:  # a worker writing progress twice a second
            while time.monotonic() < stop:
                store.add_event(batch_id, "generated", {"sku": "SKU-00001"})
                time.sleep(0.5)

        threads = [threading.Thread(target=watch, args=(i,)) for i in range(tabs)] + [threading.Thread(target=churn)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(seconds + 20)
        reads = feed.reads - reads_before
        print(f"progress stream: {tabs} tabs on one running batch for {seconds:g} s -> {reads} store reads "
              f"({reads / seconds:.2f}/s), {sum(received)} events delivered")
        server.should_exit = True
        ok = worst < 200 and reads <= seconds + 1  # one read at connect, then at most one a second
        print("OK" if ok else "SLOW: a page over 200 ms or the stream reads the store more than once a second")
        return 0 if ok else 1


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


if __name__ == "__main__":
    sys.exit(main())
