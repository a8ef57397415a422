"""Scale-out benchmarks.

1. Ledger claims per second on PostgreSQL (Debian's package, a throwaway cluster) against SQLite, both measured in
   this run with the same workload: T threads each claiming distinct content keys, then releasing them.
2. The cluster throughput is measured by tests/test_cluster.py (see deploy/README.md for its numbers).

    .venv/bin/python bench/scale.py                    # claims only (~30 s)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.pg import Postgres  # noqa: E402

from skureel.ledger import Ledger  # noqa: E402


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
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
