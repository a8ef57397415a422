"""What the target fakes share: fault rolls, counters, a dropped answer after the write committed.

Kept apart from the provider fakes on purpose (those pull in the renderer); the fault spec has the same shape:
`5xx=0.2,429=0.1,drop_response=0.05,fail=0.1`.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from skureel.fakefaults import parse_faults as parse_spec

FAULT_KINDS = ("5xx", "429", "drop_response", "fail")


def parse_faults(spec: str | None) -> dict[str, float]:
    return parse_spec(spec, FAULT_KINDS)


class FakeState:
    """Counters and fault rolls of one fake target; handlers run concurrently, so everything is locked."""

    def __init__(self, name: str, *, faults: dict[str, float] | None = None, latency_s: float = 0.0,
                 seed: int = 7) -> None:
        self.name, self.faults, self.latency_s = name, faults or {}, latency_s
        self.rng = random.Random(seed)
        self.lock = threading.RLock()  # handlers count and roll while holding it
        self.counts: Counter[str] = Counter()
        self.base_url = ""
        self.forced: list[str] = []  # faults to inject next, in order (tests script exact failures)

    def count(self, what: str, n: int = 1) -> None:
        with self.lock:
            self.counts[what] += n

    def roll(self, kind: str) -> bool:
        with self.lock:
            if self.forced and self.forced[0] == kind:
                self.forced.pop(0)
                return True
            p = self.faults.get(kind, 0.0)
            return p > 0 and self.rng.random() < p

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return dict(self.counts)



def attach_stats(app: FastAPI, state: FakeState, extra: Callable[[], dict[str, Any]] | None = None) -> None:
    @app.get("/_fake/stats")
    def stats() -> dict[str, Any]:
        return {**state.stats(), **(extra() if extra else {})}

    @app.post("/_fake/faults")
    def force(kinds: str) -> dict[str, Any]:
        with state.lock:
            state.forced.extend(k for k in kinds.split(",") if k)
        return {"forced": list(state.forced)}
