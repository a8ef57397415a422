"""Helpers for the benchmarks: run a command in a child process and read its CPU time and peak memory."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Sequence


def measure(cmd: Sequence[str], env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS MB) of one child process.

    Read from that child's own wait4() usage: RUSAGE_CHILDREN holds the maximum over every child the bench has
    waited for, so two sides measured in one bench would both report the larger one's peak.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(list(cmd), stdout=subprocess.DEVNULL, env={**os.environ, **(env or {})})
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: tell Popen, so it does not wait again
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, list(cmd))
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def median(values: list[float]) -> float:
    return statistics.median(values)
