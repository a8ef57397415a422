"""Holding a ledger claim for the length of a paid job: wait while another holder's lease is live, renew while
working, release at the end. A holder that dies stops renewing; its lease runs out and another takes over."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from skureel.ledger import Ledger


@contextlib.asynccontextmanager
async def hold_claim(ledger: Ledger, key: str, owner: str, lease_s: float = 300.0,
                     wait_s: float = 2.0) -> AsyncIterator[None]:
    while not await asyncio.to_thread(ledger.claim, key, owner, lease_s):
        await asyncio.sleep(wait_s)  # someone else is on it: when it finishes, the job row says done
    renewer = asyncio.create_task(_renew(ledger, key, owner, lease_s))
    try:
        yield
    finally:
        renewer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewer
        await asyncio.to_thread(ledger.release, key, owner)


async def _renew(ledger: Ledger, key: str, owner: str, lease_s: float) -> None:
    """A lost renewal never stops a paid job's poll: polling and downloading are free, only submitting pays."""
    while True:
        await asyncio.sleep(max(1.0, lease_s / 3))
        await asyncio.to_thread(ledger.renew, key, owner, lease_s)
