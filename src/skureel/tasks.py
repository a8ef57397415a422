"""Thin Prefect task wrappers over plain functions. The only module of the package that imports prefect."""

from __future__ import annotations

import asyncio
import atexit
import multiprocessing
import os
import traceback
from collections.abc import Callable, Coroutine
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractAsyncContextManager
from typing import Any, ParamSpec, TypeVar

from prefect import get_client, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.concurrency.asyncio import concurrency
from prefect.exceptions import ObjectAlreadyExists
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput

from skureel import progress
from skureel.catalog.images import ImageCache, ImageProblem
from skureel.domain import Product, plain_error
from skureel.pipeline.chunks import report_chunk
from skureel.pipeline.gate import QaMode, generate_gated, generate_gated_group
from skureel.pipeline.hosted import HostedContext, HostedResult, wants_references
from skureel.pipeline.photos import load_photos
from skureel.pipeline.production import produce_sku, record_unexpected
from skureel.pipeline.refresh import RunPlan, RunRequest, finalize, prepare_run, publish_outcome
from skureel.pipeline.work import ShotWork, SkuOutcome, SkuWork
from skureel.providers.capabilities import capabilities
from skureel.render.compose import prepare
from skureel.settings import load_settings

_pool: ProcessPoolExecutor | None = None
P = ParamSpec("P")
T = TypeVar("T")


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


def _log_details(details: list[str]) -> None:
    """Tracebacks of isolated failures: into the run's log (Prefect's logger, which the CLI sends to skureel.log)."""
    if details:
        logger = get_run_logger()
        for detail in details:
            logger.error(detail)


@task(name="produce-sku", task_run_name="produce-{work.product.sku}", cache_policy=NO_CACHE)
def produce_task(work: SkuWork) -> SkuOutcome:
    global _pool
    try:
        outcome = render_pool().submit(produce_sku, work).result()
    except BrokenProcessPool as exc:  # a render process died (killed, out of memory): this SKU fails, the pool is renewed
        _pool = None
        outcome = SkuOutcome(sku=work.product.sku)
        record_unexpected(outcome, "", exc)
        outcome.failures[-1]["reason"] = "the render process died (out of memory or killed); try this SKU again"
    except Exception as exc:  # noqa: BLE001 - isolation: one SKU never aborts the batch
        outcome = SkuOutcome(sku=work.product.sku)
        record_unexpected(outcome, "", exc)
    _log_details(outcome.details)
    return outcome


@task(name="publish-sku", task_run_name="publish-{outcome.sku}", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 5])
def publish_task(run: RunPlan, outcome: SkuOutcome) -> list[dict[str, Any]]:
    """Returns the failures of this SKU's publish (each file is isolated inside publish_outcome)."""
    failures = publish_outcome(run, outcome)
    _log_details(outcome.details)
    progress.emit("sku_done", sku=outcome.sku, clips=len(outcome.composed) + len(outcome.reused),
                  failures=len(outcome.failures))
    return failures


@task(name="finalize-run", cache_policy=NO_CACHE)
def finalize_task(run: RunPlan, outcomes: list[SkuOutcome], spend_usd: float, left: list[str],
                  composed_elsewhere: int = 0, reused_elsewhere: int = 0) -> dict[str, Any]:
    summary = finalize(run, outcomes, spend_usd, left, composed_elsewhere, reused_elsewhere)
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


@task(name="chunk-report", cache_policy=NO_CACHE)
def chunk_report_task(run: RunPlan, outcomes: list[SkuOutcome], spend_usd: float, left: list[str],
                      name: str) -> dict[str, Any]:
    """A chunk's result, left under the output for its parent (flows/catalog_fanout.py)."""
    return report_chunk(run, outcomes, run.lint_blocked, spend_usd, left, name).model_dump()


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
    """Prefect global concurrency limit per provider, shared by every flow run and worker (strict: no limit, no
    run). A failed lease renewal must not kill a paid job's poll (strict alone would): the ledger's claim, not
    this slot, guards payment, and a slot lost that way comes back when its 60 s lease runs out."""
    return concurrency(f"skureel-{provider}", occupy=1, strict=True, lease_duration=60,
                       raise_on_lease_renewal_failure=False)


async def ensure_limits(providers: list[str]) -> None:
    async with get_client() as client:
        for name in dict.fromkeys(p.partition(":")[0] for p in providers):  # `kling:kling-v3` shares kling's limit
            if name == "local":
                continue
            try:
                await client.read_global_concurrency_limit_by_name(f"skureel-{name}")
            except Exception:  # noqa: BLE001 - Prefect raises ObjectNotFound; create it with the vendor's cap
                try:
                    await client.upsert_global_concurrency_limit_by_name(f"skureel-{name}",
                                                                         max(1, capabilities(name).max_concurrency))
                except ObjectAlreadyExists:  # a concurrent chunk created it first: that is all we wanted
                    pass


def secret_lookup(name: str) -> str | None:
    """A Prefect Secret block of the variable's name in lower case (kling-secret-key, ...)."""
    from prefect.blocks.system import Secret

    try:
        secret: Any = Secret.load(name, _sync=True)  # type: ignore[call-arg]  # inside the flow's event loop: stay sync
        return str(secret.get())
    except Exception:  # noqa: BLE001 - a missing block is simply "not configured"
        return None


def with_secret_blocks(fn: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, Coroutine[Any, Any, T]]:
    """A flow whose `secrets` parameter (environment name -> Secret block name, "" = unset) runs with those keys
    in its environment, put back as they were when it ends: the studio's provider keys reach a deployment run by
    name only (web/runs.py), never as values in its parameters or job variables. Values are never logged."""
    import functools
    import inspect

    from prefect.blocks.system import Secret

    signature = inspect.signature(fn)

    @functools.wraps(fn)
    async def run(*args: P.args, **kwargs: P.kwargs) -> T:
        blocks: dict[str, str] = signature.bind_partial(*args, **kwargs).arguments.get("secrets") or {}
        before = {name: os.environ.get(name) for name in blocks}
        try:
            for name, block in blocks.items():
                try:
                    secret: Any = await Secret.aload(block) if block else None
                except Exception:  # noqa: BLE001 - a block removed meanwhile: the name stays unset, never another's
                    secret = None
                if secret is not None:
                    os.environ[name] = str(secret.value.get_secret_value())  # as saved: get() would parse JSON
                else:
                    os.environ.pop(name, None)
            return await fn(*args, **kwargs)
        finally:
            for name, value in before.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

    return run


@task(name="generate-hosted", task_run_name="generate-{product.sku}-{item.shot.shot_id}", cache_policy=NO_CACHE)
async def generate_task(product: Product, item: ShotWork, chain: list[str], ctx: HostedContext,
                        qa: QaMode = "off") -> HostedResult:
    cache = ImageCache(load_settings())
    photos = await asyncio.to_thread(load_photos, product, cache, hosted=True)
    hero = photos.hero
    if hero is None and product.images and item.shot.kind != "avatar":  # said now, before any provider is paid
        return HostedResult(sku=product.sku, shot_id=item.shot.shot_id,
                            failure="no usable product image (" + "; ".join(photos.notes) + ")")
    presenter = None
    if item.shot.kind == "avatar" and item.shot.presenter_image:
        try:
            presenter = await asyncio.to_thread(prepare, cache.load(item.shot.presenter_image))
        except ImageProblem:
            presenter = None
    # the SKU's other photos, for models that take references (Kling 3.0 Omni): from the same pass as the hero
    gallery = photos.gallery if wants_references(product, item, chain, ctx.quality) else []
    try:
        result = await generate_gated(product, item, hero, chain, ctx, presenter, gallery, mode=qa)  # QA: gate.py
    except Exception as exc:  # noqa: BLE001 - isolation: one shot never aborts the batch; the ledger keeps its state
        get_run_logger().error("generate %s/%s: %s", product.sku, item.shot.shot_id,
                               "".join(traceback.format_exception(exc)))
        result = HostedResult(sku=product.sku, shot_id=item.shot.shot_id, failure=plain_error(exc))
    progress.emit("generated", sku=product.sku, shot=item.shot.shot_id, provider=result.provider,
                  failure=result.failure, spent=ctx.budget.spent)
    return result


@task(name="generate-hosted-sku", task_run_name="generate-{product.sku}-storyboard", cache_policy=NO_CACHE)
async def generate_group_task(product: Product, items: list[ShotWork], chain: list[str], ctx: HostedContext,
                              qa: QaMode = "off") -> list[HostedResult]:
    """A SKU's several non-avatar shots together, so a multi-shot model can make them as one storyboard."""
    photos = await asyncio.to_thread(load_photos, product, ImageCache(load_settings()), hosted=True)
    hero = photos.hero
    if hero is None and product.images:
        return [HostedResult(sku=product.sku, shot_id=i.shot.shot_id,
                             failure="no usable product image (" + "; ".join(photos.notes) + ")") for i in items]
    gallery = photos.gallery if any(wants_references(product, i, chain, ctx.quality) for i in items) else []
    try:
        results = await generate_gated_group(product, items, hero, chain, ctx, gallery, mode=qa)
    except Exception as exc:  # noqa: BLE001 - isolation: one SKU never aborts the batch; the ledger keeps its state
        get_run_logger().error("generate %s: %s", product.sku, "".join(traceback.format_exception(exc)))
        results = [HostedResult(sku=product.sku, shot_id=i.shot.shot_id, failure=plain_error(exc)) for i in items]
    for result in results:
        progress.emit("generated", sku=product.sku, shot=result.shot_id, provider=result.provider,
                      failure=result.failure, spent=ctx.budget.spent)
    return results
