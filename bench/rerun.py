"""A second `make demo` (nothing changed) beside Prefect starting and running an empty flow, same machine, same run.

Both run in ephemeral mode in fresh processes; medians of 3. Aim: rerun <= 1.3x the empty flow.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EMPTY = "from prefect import flow\n@flow\ndef empty():\n    return 1\nempty()\n"


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if done.returncode not in (0,):
        raise SystemExit(f"{' '.join(cmd[:4])} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "PREFECT_HOME": home, "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        out = Path(home) / "demo"
        run = [sys.executable, "-m", "skureel", "run", "catalogs/sample/products.xlsx", "--brand", "brand_kits/aurora",
               "--out", str(out)]
        print("first run (renders everything) ...", flush=True)
        first = timed(run, env)
        empties, reruns = [], []
        for _ in range(3):
            empties.append(timed([sys.executable, "-c", EMPTY], env))
            reruns.append(timed(run, env))
        e, r = statistics.median(empties), statistics.median(reruns)
        print(f"first demo run {first:.1f}s; empty Prefect flow {e:.2f}s; unchanged rerun {r:.2f}s = {r / e:.2f}x (aim <= 1.3)")


if __name__ == "__main__":
    main()
