"""A fanned-out batch's --max-spend is one budget shared live by its chunks (Ledger.debit, SharedBudget): chunk
processes racing on PostgreSQL against the Kling fake together never pay past the cap, and never stop short of it."""

from __future__ import annotations

import math
import multiprocessing
import os
import time
from pathlib import Path
from typing import Any

import pytest

from skureel.ledger import Ledger


def _debit_many(url: str, start_at: float, tries: int, usd: float, cap: float, results: Any) -> None:
    ledger = Ledger(url)
    while time.time() < start_at:  # all processes fire at once
        time.sleep(0.001)
    results.put(sum(ledger.debit("batch:race", usd, cap) for _ in range(tries)))


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_concurrent_debits_stop_exactly_at_the_cap(backend: str, request: pytest.FixtureRequest,
                                                   tmp_path: Path) -> None:
    url = request.getfixturevalue("postgres_url") if backend == "postgres" else f"sqlite:///{tmp_path / 'l.sqlite'}"
    Ledger(url)  # tables first
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    start_at, usd, cap = time.time() + 3.0, 0.35, 10.0
    procs = [ctx.Process(target=_debit_many, args=(url, start_at, 12, usd, cap, results)) for _ in range(4)]
    for proc in procs:
        proc.start()
    won = sum(results.get(timeout=60) for _ in procs)
    for proc in procs:
        proc.join(30)
    assert won == math.floor(cap / usd)  # 28 of 48 tries: never past the cap, and nothing lost to the race
    row = Ledger(url).budget("batch:race")
    assert row is not None and row["spent_usd"] == pytest.approx(won * usd) and row["spent_usd"] <= cap
    ledger = Ledger(url)
    assert ledger.debit("batch:race", -usd, cap)  # a refused submit gives its reservation back
    assert ledger.debit("batch:race", usd, cap) and not ledger.debit("batch:race", usd, cap)


def _chunk(url: str, env: dict[str, str], chunk: str, skus: list[str], cap: float, cache: str, start_at: float,
           results: Any) -> None:
    """One chunk of a batch in its own process: today's hosted path with the batch's shared budget."""
    import asyncio

    os.environ.update(env)
    from tests.conftest import AURORA
    from tests.test_providers import IMAGE, product, work_item

    from skureel.catalog.brandkit import load_brand_kit
    from skureel.catalog.images import ImageCache
    from skureel.pipeline.chunks import budget_for
    from skureel.pipeline.hosted import HostedContext, generate_shot
    from skureel.render.compose import prepare
    from skureel.settings import Settings

    hero = prepare(ImageCache(Settings(cache_dir=Path(cache))).load(str(IMAGE)))
    ledger = Ledger(url)

    async def run() -> list[dict[str, Any]]:
        ctx = HostedContext(ledger, Path(cache), load_brand_kit(AURORA), budget=budget_for(ledger, cap, chunk),
                            poll_first_s=0.05, poll_max_s=0.2, retry_base_s=0.05, deadline_s=120)
        try:
            while time.time() < start_at:
                await asyncio.sleep(0.01)
            done = await asyncio.gather(*[generate_shot(product(s), work_item(product(s), "kling"), hero, ["kling"],
                                                        ctx) for s in skus])
            return [{"sku": r.sku, "paid": r.clip is not None, "cost": (r.clip or {}).get("cost_usd", 0.0),
                     "left": r.left_by_budget, "spent": ctx.budget.spent} for r in done]
        finally:
            await ctx.close()

    try:
        results.put(asyncio.run(run()))
    except BaseException as exc:  # the parent fails at once with the reason instead of waiting out its timeout
        results.put(f"chunk {chunk} raised {type(exc).__name__}: {exc}")
        raise


def test_two_chunk_processes_share_one_budget_on_postgres(postgres_url: str, tmp_path: Path) -> None:
    from skureel.providers.fake.server import FakeServer

    with FakeServer("kling", latency_s=0.3, concurrency=20) as kling:
        env = {"SKUREEL_KLING_BASE_URL": kling.url, **kling.credentials}
        ctx = multiprocessing.get_context("spawn")
        results = ctx.Queue()
        cap, start_at = 1.2, time.time() + 8.0  # both chunks import and load the photo first, then race
        chunks = [[f"BUDGET-{c}-{i}" for i in range(4)] for c in range(2)]  # "b1-0" and "b1-1": one batch
        procs = [ctx.Process(target=_chunk, args=(postgres_url, env, f"b1-{n}", skus, cap, str(tmp_path / f"c{n}"), start_at,
                                                  results)) for n, skus in enumerate(chunks)]
        for proc in procs:
            proc.start()
        outcomes = [results.get(timeout=180) for _ in procs]
        for proc in procs:
            proc.join(30)
        assert not [o for o in outcomes if isinstance(o, str)], outcomes
        rows = [row for outcome in outcomes for row in outcome]
        cost = max(row["cost"] for row in rows)
        paid = [row for row in rows if row["paid"]]
        assert 0 < cost <= cap
        assert len(kling.vendor.paid) == len(paid) == math.floor(cap / cost)  # never past the cap, not short of it
        assert sum(row["left"] for row in rows) == len(rows) - len(paid)  # the rest left by the budget, not failed
        assert sum(outcome[0]["spent"] for outcome in outcomes) == pytest.approx(len(paid) * cost)
        row = Ledger(postgres_url).budget("batch:b1")
        assert row is not None and row["spent_usd"] == pytest.approx(len(paid) * cost) and row["spent_usd"] <= cap
