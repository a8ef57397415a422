"""Holding a ledger claim for the length of a paid job: wait while another holder's lease is live, renew while
working, release at the end. A holder that dies stops renewing; its lease runs out and another takes over."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import ParamSpec, TypeVar

from skureel.ledger import Ledger

P = ParamSpec("P")
R = TypeVar("R")


async def ledger_call(ledger: Ledger, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """A ledger call from async code: inline on SQLite, on a thread for a database across the network. A SQLite
    call is Python work on a local file (measured: a thread there only adds GIL hand-offs and 15-30% CPU to the
    soak), while a PostgreSQL call waits on its round trip, which the event loop should spend on other jobs."""
    if ledger.engine.dialect.name == "sqlite":
        # yield first: inline calls never suspend, so a batch's first claims (or a rerun's reads of reused clips)
        # would run back to back, holding the loop ~150 ms while the first creates' answers wait (bench/soak.py)
        await asyncio.sleep(0)
        return fn(*args, **kwargs)
    return await asyncio.to_thread(fn, *args, **kwargs)


@contextlib.asynccontextmanager
async def hold_claim(ledger: Ledger, key: str, owner: str, lease_s: float = 300.0,
                     wait_s: float = 2.0) -> AsyncIterator[None]:
    while not await ledger_call(ledger, ledger.claim, key, owner, lease_s):
        await asyncio.sleep(wait_s)  # someone else is on it: when it finishes, the job row says done
    renewer = asyncio.create_task(_renew(ledger, key, owner, lease_s))
    try:
        yield
    finally:
        renewer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewer
        await ledger_call(ledger, ledger.release, key, owner)


async def _renew(ledger: Ledger, key: str, owner: str, lease_s: float) -> None:
    """A lost renewal never stops a paid job's poll: polling and downloading are free, only submitting pays."""
    while True:
        await asyncio.sleep(max(1.0, lease_s / 3))
        await ledger_call(ledger, ledger.renew, key, owner, lease_s)
