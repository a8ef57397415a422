"""Ledger claims: exactly one of many concurrent claimers wins a content key, on PostgreSQL and SQLite alike;
an expired lease can be taken over; the hosted path pays once when a run executes twice at the same time."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import pytest

from skureel.ledger import Ledger


def _claim_many(url: str, key: str, owner: str, start_at: float, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    ledger = Ledger(url)
    while time.time() < start_at:  # all processes fire at once
        time.sleep(0.001)
    results.put((owner, ledger.claim(key, owner, lease_s=60)))


def _race(url: str, key: str, claimers: int = 8) -> list[str]:
    Ledger(url)  # create the tables before the race
    ctx = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue = ctx.Queue()  # type: ignore[type-arg]
    start_at = time.time() + 3.0
    procs = [ctx.Process(target=_claim_many, args=(url, key, f"worker-{i}", start_at, results)) for i in range(claimers)]
    for proc in procs:
        proc.start()
    outcomes = [results.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(30)
    return [owner for owner, won in outcomes if won]


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_eight_concurrent_claimers_one_winner(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    url = request.getfixturevalue("postgres_url") if backend == "postgres" else f"sqlite:///{tmp_path / 'l.sqlite'}"
    for round_ in range(3):
        winners = _race(url, f"key-{backend}-{round_}")
        assert len(winners) == 1, winners
        holder = Ledger(url).claim_holder(f"key-{backend}-{round_}")
        assert holder and holder["owner"] == winners[0]


def test_an_expired_lease_is_taken_over_and_a_live_one_is_not(postgres_url: str) -> None:
    ledger = Ledger(postgres_url)
    assert ledger.claim("k-expiry", "dead-worker", lease_s=0.5)
    assert not ledger.claim("k-expiry", "other", lease_s=30)  # still live
    assert ledger.claim("k-expiry", "dead-worker", lease_s=0.5)  # the holder may renew by claiming again
    time.sleep(0.8)
    assert ledger.claim("k-expiry", "other", lease_s=30)  # the holder stopped renewing: taken over
    assert not ledger.renew("k-expiry", "dead-worker")  # and the old holder learns it lost it
    assert ledger.renew("k-expiry", "other")
    ledger.release("k-expiry", "dead-worker")  # releasing someone else's claim does nothing
    assert ledger.claim_holder("k-expiry")["owner"] == "other"  # type: ignore[index]
    ledger.release("k-expiry", "other")
    assert ledger.claim_holder("k-expiry") is None


def test_a_run_executed_twice_at_once_pays_once(postgres_url: str, tmp_path: Path, settings,  # noqa: ANN001
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Two contexts (two workers, or one flow run Prefect started twice) share the Postgres ledger and race for
    the same SKUs against the Kling fake: each content key is paid for once, and both get the clip."""
    import asyncio

    from tests.conftest import AURORA
    from tests.test_providers import IMAGE, product, work_item

    from skureel.catalog.brandkit import load_brand_kit
    from skureel.catalog.images import ImageCache
    from skureel.pipeline.hosted import Budget, HostedContext, generate_shot
    from skureel.providers.fake.server import FakeServer
    from skureel.render.compose import prepare

    hero = prepare(ImageCache(settings).load(str(IMAGE)))
    skus = ["TWICE-1", "TWICE-2", "TWICE-3"]
    with FakeServer("kling", latency_s=0.5) as server:
        monkeypatch.setenv("SKUREEL_KLING_BASE_URL", server.url)
        for key, value in server.credentials.items():
            monkeypatch.setenv(key, value)

        async def execution(cache: str) -> list:  # noqa: ANN202
            ctx = HostedContext(Ledger(postgres_url), tmp_path / cache, load_brand_kit(AURORA), budget=Budget(None),
                                poll_first_s=0.05, poll_max_s=0.2, retry_base_s=0.05, deadline_s=120)
            ctx.claim_wait_s = 0.1
            try:
                return await asyncio.gather(*[generate_shot(product(s), work_item(product(s), "kling"), hero,
                                                            ["kling"], ctx) for s in skus])
            finally:
                await ctx.close()

        async def both() -> tuple[list, list]:  # noqa: ANN202
            first, second = await asyncio.gather(execution("cache-a"), execution("cache-b"))
            return first, second

        first, second = asyncio.run(both())
        keys = {r.clip["content_key"] for r in first + second if r.clip}
        assert all(r.failure is None and r.clip for r in first + second), first + second
        assert len(keys) == len(skus) and len(server.vendor.paid) == len(skus)  # paid once per content key
        for result in first + second:
            assert Path(result.clip["path"]).stat().st_size > 0  # the loser of each race downloaded, free


def test_a_dead_holder_on_this_machine_is_taken_over_at_once(tmp_path: Path) -> None:
    import socket
    import subprocess

    ledger = Ledger(f"sqlite:///{tmp_path / 'l.sqlite'}")
    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid that no longer exists: a holder killed mid-job
    dead = f"{socket.gethostname()}:{gone.pid}:abcd1234"
    alive = f"{socket.gethostname()}:{os.getpid()}:live0000"
    assert ledger.claim("k-dead", dead, lease_s=600)
    assert ledger.claim("k-dead", "me", lease_s=60)  # not after 600 s: now
    assert ledger.claim("k-live", alive, lease_s=600)
    assert not ledger.claim("k-live", "me", lease_s=60)  # a live holder keeps its lease
    assert ledger.claim("k-far", "otherhost:1:x", lease_s=600)
    assert not ledger.claim("k-far", "me", lease_s=60)  # a holder elsewhere: wait for its lease
