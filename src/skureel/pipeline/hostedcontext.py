"""What every hosted job of a run shares: the ledger, the budget, the providers' clients and slots, and what the
run has learned about each vendor (out of credit, how long its jobs take). Below pipeline/hosted.py, which picks
the provider, and pipeline/paidjob.py, which runs one paid job: both import it, it imports neither."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import httpx

from skureel.domain import BrandKit
from skureel.ledger import Ledger, owner_id
from skureel.providers import credentials as creds
from skureel.providers.base import Provider
from skureel.providers.capabilities import capabilities
from skureel.providers.polling import Expected
from skureel.providers.registry import provider_class

Limit = Callable[[str], AbstractAsyncContextManager[None]]


@asynccontextmanager
async def no_limit(_: str) -> AsyncIterator[None]:
    yield


class Budget:
    """Spend so far, shared by every job of a run; refuses a paid submission that would cross the cap."""

    def __init__(self, cap_usd: float | None) -> None:
        self.cap, self.spent, self._lock = cap_usd, 0.0, threading.Lock()

    def reserve(self, usd: float) -> bool:
        with self._lock:
            if self.cap is not None and self.spent + usd > self.cap + 1e-9:
                return False
            self.spent += usd
            return True


class HostedContext:
    def __init__(self, ledger: Ledger, cache_dir: Path, brand: BrandKit, *, budget: Budget,
                 limit: Limit = no_limit, secret_lookup: creds.SecretLookup | None = None,
                 deadline_s: float = 1800.0, poll_first_s: float = 1.0, poll_max_s: float = 15.0,
                 retry_base_s: float = 1.0, quality: str = "final", claim_lease_s: float = 60.0,
                 create_grace_s: float = 15.0) -> None:
        self.ledger, self.cache_dir, self.brand, self.budget, self.limit = ledger, cache_dir, brand, budget, limit
        self.quality = quality  # picks a fallback provider's model when the chain pins none
        self.secret_lookup, self.deadline_s = secret_lookup, deadline_s
        self.poll_first_s, self.poll_max_s, self.retry_base_s = poll_first_s, poll_max_s, retry_base_s
        self.create_grace_s = create_grace_s  # a create slower than this is queued at the vendor (pipeline/paidjob)
        self.exhausted: dict[str, str] = {}  # provider -> reason: out of credit, stop submitting there
        self._ran_dry: dict[str, asyncio.Event] = {}  # set with `exhausted`: wakes the jobs waiting to retry there
        self.semaphores: dict[str, asyncio.Semaphore] = {}
        self.admissions: dict[str, asyncio.Semaphore] = {}
        self.job_seconds: dict[str, collections.deque[float]] = {}  # kind -> how long its last jobs took (polling)
        self.vendor_seconds: dict[str, collections.deque[float]] = {}  # the same, as the vendor's clock says
        self.clients: dict[str, Provider] = {}
        # few idle connections kept: httpcore checks every pooled connection on each request, so a pool grown to
        # 40 by a burst cost more CPU than the polls themselves (bench/soak.py); a job needs one at a time
        self.http = httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=10.0),
                                      limits=httpx.Limits(max_connections=64, max_keepalive_connections=8))
        # who holds a content key's claim in the ledger: unique per process and context (pipeline/claims)
        self.owner = owner_id()
        self.claim_lease_s, self.claim_wait_s = claim_lease_s, 2.0

    def adapter(self, name: str) -> Provider:
        if name not in self.clients:
            self.clients[name] = provider_class(name)(self.http, creds.resolve(name, self.secret_lookup))
            self.semaphores[name] = asyncio.Semaphore(max(1, capabilities(name).max_concurrency))
        return self.clients[name]

    def expected(self, kind: str) -> Expected | None:
        """The shortest of the last jobs of this kind (provider, model, length): when a new one may be done. By the
        vendor's clock where it reports one: that is exact, while ours includes each job's polling lag."""
        for seen, exact in ((self.vendor_seconds.get(kind), True), (self.job_seconds.get(kind), False)):
            if seen and len(seen) >= 3:
                return Expected(seconds=min(seen), exact=exact)
        return None

    def observe(self, kind: str, seconds: float, vendor_s: float | None = None) -> None:
        self.job_seconds.setdefault(kind, collections.deque(maxlen=20)).append(seconds)
        if vendor_s is not None:
            self.vendor_seconds.setdefault(kind, collections.deque(maxlen=20)).append(vendor_s)

    def mark_exhausted(self, name: str, reason: str) -> None:
        self.exhausted.setdefault(name, reason)
        self.ran_dry(name).set()

    def ran_dry(self, name: str) -> asyncio.Event:
        return self._ran_dry.setdefault(name, asyncio.Event())

    async def wait_to_retry(self, name: str, seconds: float) -> None:
        """A retry's wait, cut short when the account runs dry meanwhile (the retry would submit nothing)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.ran_dry(name).wait(), seconds)

    def admission(self, name: str) -> asyncio.Semaphore:
        """Jobs on `name` being prepared or run at once: four per slot, so a job is claimed and ready whenever a
        slot frees (some wait out a Retry-After), while a 500-SKU batch does not build 500 requests and queue 500
        claims ahead of the ledger writes of the jobs running, which would leave the slots idle meanwhile."""
        if name not in self.admissions:
            self.admissions[name] = asyncio.Semaphore(4 * max(1, capabilities(name).max_concurrency))
        return self.admissions[name]

    async def close(self) -> None:
        await self.http.aclose()
