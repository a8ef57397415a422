"""Holding a ledger claim for the length of a paid job: wait while another holder's lease is live, renew while
working, release at the end. A holder that dies stops renewing; its lease runs out and another takes over."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import AsyncIterator

from skureel.ledger import Ledger


@contextlib.asynccontextmanager
async def hold_claim(ledger: Ledger, key: str, owner: str, lease_s: float = 300.0,
                     wait_s: float = 2.0) -> AsyncIterator[None]:
    while not await asyncio.to_thread(ledger.claim, key, owner, lease_s):
        holder = await asyncio.to_thread(ledger.claim_holder, key)
        if holder and _dead_here(holder["owner"]) and await asyncio.to_thread(
                ledger.take_over, key, holder["owner"], owner, lease_s):
            break  # its process on this machine is gone: no need to wait for the lease to run out
        await asyncio.sleep(wait_s)  # someone else is on it: when it finishes, the job row says done
    renewer = asyncio.create_task(_renew(ledger, key, owner, lease_s))
    try:
        yield
    finally:
        renewer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewer
        await asyncio.to_thread(ledger.release, key, owner)


def owner_id() -> str:
    """host:pid:random, unique per holder; the host and pid let a holder on the same machine be seen dead."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _dead_here(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


async def _renew(ledger: Ledger, key: str, owner: str, lease_s: float) -> None:
    """A lost renewal never stops a paid job's poll: polling and downloading are free, only submitting pays."""
    while True:
        await asyncio.sleep(max(1.0, lease_s / 3))
        await asyncio.to_thread(ledger.renew, key, owner, lease_s)
