"""Thin Prefect task wrappers over plain functions. The only module of the package that imports prefect."""

from __future__ import annotations

import asyncio
import atexit
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractAsyncContextManager
from typing import Any

from prefect import get_client, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.concurrency.asyncio import concurrency
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput

from skureel import progress
from skureel.catalog.images import ImageCache, ImageProblem
from skureel.domain import Product
from skureel.pipeline.hosted import HostedContext, HostedResult, generate_shot
from skureel.pipeline.production import produce_sku
from skureel.pipeline.refresh import RunPlan, RunRequest, finalize, prepare_run, publish_outcome
from skureel.pipeline.work import ShotWork, SkuOutcome, SkuWork
from skureel.providers.capabilities import capabilities
from skureel.render.compose import Prepared, choose_hero, prepare
from skureel.settings import load_settings

_pool: ProcessPoolExecutor | None = None


def render_pool() -> ProcessPoolExecutor:
    """Local rendering is CPU-bound: processes sized to the cores, not Prefect's thread pool."""
    global _pool
    if _pool is None:
        workers = load_settings().max_parallel_renders or os.cpu_count() or 2
        _pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
        atexit.register(_pool.shutdown, cancel_futures=True)
    return _pool


@task(name="prepare-run", cache_policy=NO_CACHE)
def prepare_task(request: RunRequest) -> RunPlan:
    run = prepare_run(request, load_settings())
    progress.emit("planned", skus=len(run.work), unchanged=len(run.unchanged),
                  clips=sum(len(w.shots) * len(w.formats) for w in run.work), estimate=run.estimate_usd)
    return run


@task(name="produce-sku", task_run_name="produce-{work.product.sku}", cache_policy=NO_CACHE)
def produce_task(work: SkuWork) -> SkuOutcome:
    outcome = render_pool().submit(produce_sku, work).result()
    return outcome


@task(name="publish-sku", task_run_name="publish-{outcome.sku}", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 5])
def publish_task(run: RunPlan, outcome: SkuOutcome) -> list[dict[str, Any]]:
    rows = publish_outcome(run, outcome)
    progress.emit("sku_done", sku=outcome.sku, clips=len(outcome.composed) + len(outcome.reused),
                  failures=len(outcome.failures))
    return rows


@task(name="finalize-run", cache_policy=NO_CACHE)
def finalize_task(run: RunPlan, outcomes: list[SkuOutcome], spend_usd: float, left: list[str]) -> dict[str, Any]:
    summary = finalize(run, outcomes, spend_usd, left)
    table = [{"sku": r["sku"], "shot": r.get("shot", ""), "format": r.get("format", ""), "status": "failed",
              "cost": 0.0, "reason": r["reason"]} for r in summary["failures"]]
    table += [{"sku": c.sku, "shot": c.shot_id, "format": c.format, "status": "delivered",
               "cost": c.row.get("cost_usd", 0.0), "link": c.row.get("uri", "")} for o in outcomes for c in o.composed]
    if table:
        create_table_artifact(key="catalog-refresh-deliverables", table=table[:1000],
                              description="Deliverables and failures of this refresh")
    create_markdown_artifact(key="catalog-refresh-summary", markdown=(
        f"## Catalog refresh\n\n* products: {summary['products']}\n* clips delivered: {summary['delivered']} "
        f"({summary['composed_this_run']} composed this run, {summary['reused_this_run']} reused)\n"
        f"* unchanged products skipped: {summary['skipped_unchanged']}\n* failures: {summary['failed']}\n"
        f"* retired: {summary['retired']}\n* spend: ${summary['spend_usd']:.2f}\n"))
    return summary


class ReviewDecision(RunInput):
    approve_all: bool = True
    reject_skus: list[str] = []


def wait_for_review(outcomes: list[SkuOutcome], timeout_s: int = 24 * 3600) -> list[SkuOutcome]:
    decision = pause_flow_run(wait_for_input=ReviewDecision, timeout=timeout_s)
    rejected = set(decision.reject_skus) | (set() if decision.approve_all else {o.sku for o in outcomes})
    for outcome in outcomes:
        if outcome.sku in rejected:
            outcome.failures.extend({"sku": c.sku, "shot": c.shot_id, "format": c.format, "reason": "rejected in review"}
                                    for c in outcome.composed)
            outcome.composed = []
    return outcomes


def global_limit(provider: str) -> AbstractAsyncContextManager[None]:
    """Prefect global concurrency limit per provider, shared by every flow run (strict: no limit, no run)."""
    return concurrency(f"skureel-{provider}", occupy=1, strict=True)


async def ensure_limits(providers: list[str]) -> None:
    async with get_client() as client:
        for name in providers:
            if name == "local":
                continue
            try:
                await client.read_global_concurrency_limit_by_name(f"skureel-{name}")
            except Exception:  # noqa: BLE001 - Prefect raises ObjectNotFound; create it with the vendor's cap
                await client.upsert_global_concurrency_limit_by_name(f"skureel-{name}",
                                                                     max(1, capabilities(name).max_concurrency))


def secret_lookup(name: str) -> str | None:
    """A Prefect Secret block of the variable's name in lower case (kling-secret-key, ...)."""
    from prefect.blocks.system import Secret

    try:
        secret: Any = Secret.load(name)
        return str(secret.get())
    except Exception:  # noqa: BLE001 - a missing block is simply "not configured"
        return None


def pick_hero(product: Product, cache: ImageCache) -> Prepared | None:
    prepared = []
    for ref in product.images:
        try:
            prepared.append(prepare(cache.load(product.resolve_image(ref))))
        except ImageProblem:
            continue
    return choose_hero(prepared)[0]


@task(name="generate-hosted", task_run_name="generate-{product.sku}-{item.shot.shot_id}", cache_policy=NO_CACHE)
async def generate_task(product: Product, item: ShotWork, chain: list[str], ctx: HostedContext) -> HostedResult:
    cache = ImageCache(load_settings())
    hero = await asyncio.to_thread(pick_hero, product, cache)
    presenter = None
    if item.shot.kind == "avatar" and item.shot.presenter_image:
        try:
            presenter = await asyncio.to_thread(prepare, cache.load(item.shot.presenter_image))
        except ImageProblem:
            presenter = None
    result = await generate_shot(product, item, hero, chain, ctx, presenter)
    progress.emit("generated", sku=product.sku, shot=item.shot.shot_id, provider=result.provider,
                  failure=result.failure, spent=ctx.budget.spent)
    return result
