"""The nightly / on-demand catalog refresh: ingest → diff → plan → generate → compose → publish → summary."""

from __future__ import annotations

import os
from typing import Any

from prefect import flow
from prefect.task_runners import ThreadPoolTaskRunner

from skureel.refresh import RunRequest
from skureel.tasks import finalize_task, prepare_task, produce_task, publish_task, wait_for_review


@flow(name="catalog-refresh", task_runner=ThreadPoolTaskRunner(max_workers=os.cpu_count() or 2))  # type: ignore[arg-type]
def catalog_refresh(catalog: str, brand_kit: str, providers: list[str] | None = None, formats: list[str] | None = None,
                    out: str = "out/run", max_spend: float | None = None, only: list[str] | None = None,
                    dry_run: bool = False, review: bool = False, prune: bool = False, quality: str = "final") -> dict[str, Any]:
    request = RunRequest(catalog=catalog, brand_kit=brand_kit, providers=providers or ["local"],
                         formats=formats or ["9x16", "4x5", "1x1", "16x9"], out=out, max_spend=max_spend,
                         only=only or [], dry_run=dry_run, prune=prune, quality=quality)
    run = prepare_task(request)
    if dry_run:
        return {"dry_run": True, "estimate_usd": run.estimate_usd, "skus": [w.product.sku for w in run.work],
                "unchanged": run.unchanged, "failures": run.lint_blocked}
    futures = [produce_task.submit(work) for work in run.work]
    outcomes = [future.result() for future in futures]
    if review and any(o.composed for o in outcomes):
        outcomes = wait_for_review(outcomes)
    for outcome in outcomes:
        publish_task(run, outcome)
    return finalize_task(run, outcomes, 0.0, [])
