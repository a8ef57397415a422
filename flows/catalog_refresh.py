"""The nightly / on-demand catalog refresh: ingest → diff → plan → generate → compose → publish → summary."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from prefect import flow
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote

from skureel.ledger import Ledger
from skureel.pipeline.chunks import budget_for
from skureel.pipeline.gate import QaMode, default_mode
from skureel.pipeline.hosted import HostedContext, HostedResult
from skureel.pipeline.hostedplan import apply_results, hosted_groups, hosted_items
from skureel.pipeline.refresh import RunPlan, RunRequest
from skureel.tasks import (
    chunk_report_task,
    ensure_limits,
    finalize_task,
    generate_group_task,
    generate_task,
    global_limit,
    prepare_task,
    produce_task,
    publish_task,
    secret_lookup,
    wait_for_review,
    with_secret_blocks,
)


async def _generate(run: RunPlan, group: list[tuple[int, int]], chain: list[str], ctx: HostedContext,
                    mode: QaMode) -> list[HostedResult]:
    work = run.work[group[0][0]]
    if len(group) > 1:  # one SKU's shots together: a storyboard when the model makes one (pipeline/gate.py)
        return await generate_group_task(work.product, [work.shots[si] for _, si in group], chain, ctx, mode)
    return [await generate_task(work.product, work.shots[group[0][1]], chain, ctx, mode)]


@flow(name="catalog-refresh", task_runner=ThreadPoolTaskRunner(max_workers=os.cpu_count() or 2))  # type: ignore[arg-type]
@with_secret_blocks  # `secrets`: provider keys as Secret block names, for this run only (web/runs.py)
async def catalog_refresh(catalog: str, brand_kit: str, providers: list[str] | None = None,
                          formats: list[str] | None = None, out: str = "out/run", max_spend: float | None = None,
                          only: list[str] | None = None, dry_run: bool = False, review: bool = False,
                          prune: bool = False, quality: str = "final",
                          languages: list[str] | None = None, qa: str | None = None,
                          chunk: str | None = None, remap: dict[str, str] | None = None,
                          prompts: dict[str, dict[str, str]] | None = None,
                          seeds: dict[str, int] | None = None, bases: str | None = None,
                          seed_from: str | None = None, secrets: dict[str, str] | None = None) -> dict[str, Any]:
    """`chunk` names this run as one chunk of a fan-out (flows/catalog_fanout.py): it then leaves a chunk report
    for the parent instead of writing the manifest. `remap` (field -> column) and `prompts` (sku -> shot ->
    text) are the studio's column remap and edited prompts; `seeds` (sku -> seed) its re-run of a cell."""
    request = RunRequest(catalog=catalog, brand_kit=brand_kit, providers=providers or ["local"],
                         formats=formats or ["9x16", "4x5", "1x1", "16x9"], out=out, max_spend=max_spend,
                         only=only or [], dry_run=dry_run, prune=prune, quality=quality, languages=languages or [],
                         qa=qa, remap=remap or {}, prompts=prompts or {},
                         seeds=seeds or {}, bases=bases, seed_from=seed_from)
    run = prepare_task(request)
    if dry_run:
        return {"dry_run": True, "estimate_usd": run.estimate_usd, "skus": [w.product.sku for w in run.work],
                "unchanged": run.unchanged, "failures": run.lint_blocked}
    failures: list[dict[str, str]] = []
    left: list[str] = []
    spend = 0.0
    pending = hosted_items(run)
    if pending:  # hosted jobs: async tasks gathered under per-provider semaphores and global limits
        await ensure_limits(request.providers)
        ledger = Ledger(run.ledger_url)  # a chunk of a fan-out debits its batch's shared budget (pipeline/chunks)
        ctx = HostedContext(ledger, Path(run.settings.cache_dir), run.brand,
                            budget=budget_for(ledger, request.max_spend, chunk), limit=global_limit,
                            secret_lookup=secret_lookup,
                            quality=request.quality, claim_lease_s=run.settings.claim_lease_s)
        try:
            chain = request.providers
            mode = default_mode(request.providers, request.qa)  # the QA gate on each base clip (pipeline/gate.py)
            groups = hosted_groups(run, pending)
            batches = await asyncio.gather(*[_generate(run, group, chain, ctx, mode) for group in groups])
            results = {key: result for group, batch in zip(groups, batches, strict=True)
                       for key, result in zip(group, batch, strict=True)}
        finally:
            await ctx.close()
        failures, left, spend = apply_results(run, results)
        run.failed_skus = sorted({f["sku"] for f in failures} | set(left))
    futures = [produce_task.submit(work) for work in run.work]  # local renders: a process pool behind threads
    outcomes = [future.result() for future in futures]
    if review and any(o.composed for o in outcomes):
        outcomes = wait_for_review(outcomes)
    for outcome in outcomes:
        # quote: Prefect would otherwise walk the whole plan (every product of the catalog) on each call,
        # 0.5 CPU s per SKU at 2,000 products (bench/scale.py); the task still receives the plan itself
        failures.extend(publish_task(quote(run), outcome))  # type: ignore[call-overload]
    run.lint_blocked.extend(failures)
    if chunk:
        return chunk_report_task(run, outcomes, spend, left, chunk)
    return finalize_task(run, outcomes, spend, left)
