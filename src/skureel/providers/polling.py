"""The one poll loop: backoff with jitter, an overall deadline, injectable sleep and clock."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import NamedTuple

from skureel.providers.base import JobFailed, JobRef, JobState, OutOfCredit, Provider, Rejected, TimedOut, Transient

Sleep = Callable[[float], Awaitable[None]]


class Expected(NamedTuple):
    """When a new job of a kind may be done: the shortest of the last ones."""

    seconds: float
    exact: bool  # measured on the vendor's clock: none of our polling lag in it


async def wait_for(provider: Provider, ref: JobRef, *, deadline_s: float = 1800.0, first_s: float = 1.0,
                   max_interval_s: float = 15.0, sleep: Sleep = asyncio.sleep,
                   clock: Callable[[], float] = time.monotonic, rng: random.Random | None = None,
                   just_created: bool = False, expected: Expected | None = None) -> JobState:
    """Poll until the job ends. Transient poll errors are retried (polls are free); terminal failures raise.
    A job `just_created` cannot be done yet, so its first poll waits `first_s`, or `expected` (the shortest
    recent job of its kind: asking before that only spends the vendor's query quota); a job found again (a
    resumed run) may long be done, so it is polled at once."""
    rng = rng or random.Random()
    start = clock()
    interval = first_s
    if just_created:
        first = interval * (0.8 + 0.4 * rng.random())
        if expected is not None:
            # on our clock the learned time holds each job's lag, so a poll at or after it would feed that lag into
            # the next estimate, which drifts up: it lands just before; the vendor's clock holds no lag of ours
            share = 1.0 + 0.01 * rng.random() if expected.exact else 0.97 + 0.03 * rng.random()
            first = max(first, expected.seconds * share)
        await sleep(first)
        interval = min(max_interval_s, interval * 1.5)
    while True:
        try:
            state = await provider.poll(ref)
        except Transient as exc:
            state = None
            interval = max(interval, exc.retry_after or 0.0)
        if state is not None:
            if state.status == "succeeded":
                return state
            if state.status == "failed":
                message = state.error or "job failed"
                if state.moderated:
                    raise Rejected(provider.name, message, code=state.error_code)
                if state.out_of_credit:
                    raise OutOfCredit(provider.name, message, code=state.error_code)
                raise JobFailed(provider.name, message, code=state.error_code)
        if clock() - start > deadline_s:
            raise TimedOut(provider.name, f"job {ref.job_id} not done after {deadline_s:.0f}s")
        await sleep(interval * (0.8 + 0.4 * rng.random()))
        interval = min(max_interval_s, interval * 1.5)


async def with_retries(call: Callable[[], Awaitable[object]], *, attempts: int = 6, base_s: float = 1.0,
                       cap_s: float = 30.0, sleep: Sleep = asyncio.sleep, rng: random.Random | None = None) -> object:
    """Retry only what is transient, honouring Retry-After; everything else propagates at once."""
    rng = rng or random.Random()
    for attempt in range(attempts):
        try:
            return await call()
        except Transient as exc:
            if attempt == attempts - 1:
                raise
            delay = exc.retry_after if exc.retry_after is not None else min(cap_s, base_s * 2**attempt)
            await sleep(delay * (0.75 + 0.5 * rng.random()))
    raise AssertionError("unreachable")
