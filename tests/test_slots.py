"""A provider's concurrency slots on a real fake Kling in its own process: a create slower than the grace gives its
slot back and takes it again once the job exists, every slot is back when the batch ends, each clip is paid once,
polling learns how long this kind of job takes (by Kling's own clock), and an account that runs dry cuts short
the waits of jobs about to retry there."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from skureel.catalog.brandkit import load_brand_kit
from skureel.catalog.images import ImageCache
from skureel.domain import Product
from skureel.ledger import Ledger
from skureel.pipeline.hosted import Budget, HostedContext, HostedResult, generate_shot
from skureel.pipeline.work import ShotWork
from skureel.planning import load_vocabulary, plan_product
from skureel.prompts import render_prompt
from skureel.providers.capabilities import capabilities
from skureel.providers.fake.process import FakeConfig, FakeProcess
from skureel.render.compose import prepare
from skureel.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
LATENCY = 0.3


async def _batch(tmp_path: Path, skus: int, grace_s: float,
                 retry_base_s: float = 0.05) -> tuple[list[HostedResult], HostedContext]:
    kit = load_brand_kit(ROOT / "brand_kits" / "aurora")
    image = ROOT / "catalogs" / "sample" / "images" / "mug.png"
    hero = prepare(ImageCache(Settings(cache_dir=tmp_path / "cache")).load(str(image)))
    items = []
    for i in range(skus):
        product = Product(key=f"k{i}", sku=f"SLOT-{i}", title=f"Stoneware Mug {i}", material="ceramic",
                          category="Home", images=[str(image)])
        shot = plan_product(product, kit, load_vocabulary(), provider="kling")[0]
        items.append((product, ShotWork(shot=shot, rendered=render_prompt(shot, "kling"))))
    ctx = HostedContext(Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}"), tmp_path / "cache", kit,
                        budget=Budget(None), poll_first_s=0.05, poll_max_s=0.05, retry_base_s=retry_base_s,
                        deadline_s=60, create_grace_s=grace_s)
    try:
        results = await asyncio.gather(*[generate_shot(p, w, hero, ["kling"], ctx) for p, w in items])
    finally:
        await ctx.close()
    return list(results), ctx


@pytest.mark.parametrize("grace_s", [0.0, 15.0])
def test_slots_come_back_and_each_clip_is_paid_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    grace_s: float) -> None:
    slots = capabilities("kling").max_concurrency
    skus = 2 * slots + 2  # more jobs than slots: some wait for a slot another job gave back
    config = FakeConfig(name="kling", latency_s=LATENCY, concurrency=slots, tiny_clips=True, clip_seconds=0.2)
    with FakeProcess(config) as fake:
        monkeypatch.setenv("SKUREEL_KLING_BASE_URL", fake.url)
        for name, value in fake.credentials.items():
            monkeypatch.setenv(name, value)
        # grace 0: every create counts as slow, so every job gives its slot back while creating and takes one again
        results, ctx = asyncio.run(_batch(tmp_path, skus, grace_s))
        paid = fake.stats().paid
    assert [r.failure for r in results] == [None] * skus
    assert all(Path(r.clip["path"]).is_file() for r in results if r.clip)
    assert sorted(paid) == sorted({r.clip["content_key"] for r in results if r.clip})  # one purchase per clip
    assert ctx.semaphores["kling"]._value == slots  # every slot given back, none twice
    assert ctx.admissions["kling"]._value == 4 * slots
    kind = next(iter(ctx.job_seconds))
    # measured from the create's answer to the poll that saw it done: never shorter than the vendor's job time
    assert min(ctx.job_seconds[kind]) >= LATENCY * 0.9, ctx.job_seconds
    # Kling's created_at/updated_at give the job time itself, without our polling lag: what the next poll waits for
    expected = ctx.expected(kind)
    assert expected is not None and expected.exact, ctx.vendor_seconds
    assert LATENCY - 0.01 <= expected.seconds <= LATENCY + 0.02, ctx.vendor_seconds


def test_an_account_that_runs_dry_wakes_the_jobs_waiting_to_retry(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Half the creates are throttled and back off 6-10 s; the account covers 3 jobs. Once a create is refused for
    credit, the jobs still backing off submit nothing more, so they end then, not seconds later."""
    slots = capabilities("kling").max_concurrency
    config = FakeConfig(name="kling", faults="429=0.5", latency_s=LATENCY, concurrency=slots, tiny_clips=True,
                        clip_seconds=0.2, credit=3, seed=1)  # seed 1: creates 1 and 4 throttled
    with FakeProcess(config) as fake:
        monkeypatch.setenv("SKUREEL_KLING_BASE_URL", fake.url)
        for name, value in fake.credentials.items():
            monkeypatch.setenv(name, value)
        started = time.monotonic()
        results, ctx = asyncio.run(_batch(tmp_path, 2 * slots, 15.0, retry_base_s=8.0))
        took = time.monotonic() - started
        paid = fake.stats().paid
    assert len(paid) == 3 and "kling" in ctx.exhausted
    assert sum(1 for r in results if r.failure is None) == 3
    assert all("not submitted" in (r.failure or "") or "skipped" in (r.failure or "") or "exhausted" in (r.failure or "")
               for r in results if r.failure), [r.failure for r in results]
    # a throttled job backs off at least 6 s: none waited it out (the batch also prepares its photo, about 1 s)
    assert took < 5.0, took
