"""The catalog refresh across workers: plan once, run one child deployment per chunk of changed SKUs, resubmit a
crashed chunk with the next attempt number, then write the manifest from the shared ledger.

`skureel run --on-cluster` runs this flow in its own process against the cluster's server, so a worker's death
can only take chunks with it; the `cluster-refresh` deployment runs it on a worker for schedules.

Prefect may run a child twice after a crash; the ledger's claims (pipeline/claims.py) make that harmless.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from prefect import flow, get_client, get_run_logger
from prefect.deployments.flow_runs import arun_deployment
from prefect.runtime import flow_run
from prefect.states import Crashed

from skureel import progress
from skureel.pipeline.chunks import ChunkReport, chunk_name, merged, read_report, split
from skureel.pipeline.refresh import RunPlan, RunRequest
from skureel.tasks import finalize_task, prepare_task

CHILD = "catalog-refresh/chunk"


async def _run_chunk(run: RunPlan, batch: str, index: int, skus: list[str], params: dict[str, Any],
                     max_attempts: int, poll_s: float, chunk_timeout_s: float) -> ChunkReport | None:
    """One chunk to the end: a new child run per attempt (a fresh idempotency key), never more than max_attempts."""
    logger = get_run_logger()
    name = chunk_name(batch, index)
    for attempt in range(1, max_attempts + 1):
        child = await arun_deployment(CHILD, parameters={**params, "only": skus, "chunk": name}, timeout=0,
                                     idempotency_key=f"{batch}-{index}-{attempt}", as_subflow=True)
        running_since: float | None = None  # the deadline counts from Running: a queued chunk is not late
        async with get_client() as client:
            while True:
                state = (await client.read_flow_run(child.id)).state
                if state is not None and state.is_final():
                    break
                if running_since is None and state is not None and state.is_running():
                    running_since = time.monotonic()
                if running_since is not None and time.monotonic() - running_since > chunk_timeout_s:  # lost, unreported
                    await client.set_flow_run_state(child.id, Crashed(message="no result within the chunk timeout"),
                                                    force=True)
                    state = (await client.read_flow_run(child.id)).state
                    break
                await asyncio.sleep(poll_s)
        assert state is not None
        report = read_report(run, name)
        if state.is_completed() and report is not None:
            progress.emit("chunk_done", chunk=index, skus=len(skus), clips=report.composed + report.reused,
                          failures=len(report.failures))
            return report
        logger.warning("chunk %s attempt %s ended %s; %s", index, attempt, state.type.value,
                       "resubmitting" if attempt < max_attempts else "giving up")
        await asyncio.sleep(min(10.0, poll_s * 5))  # let a late Crashed proposal land before the next attempt
    return None


@flow(name="catalog-fanout")
async def catalog_fanout(catalog: str, brand_kit: str, providers: list[str] | None = None,
                         formats: list[str] | None = None, out: str = "out/run", max_spend: float | None = None,
                         prune: bool = False, quality: str = "final", languages: list[str] | None = None,
                         qa: str | None = None, chunk_skus: int | None = None, max_attempts: int = 3,
                         poll_s: float = 2.0, chunk_timeout_s: float | None = None, bases: str | None = None,
                         seed_from: str | None = None) -> dict[str, Any]:
    request = RunRequest(catalog=catalog, brand_kit=brand_kit, providers=providers or ["local"],
                         formats=formats or ["9x16", "4x5", "1x1", "16x9"], out=out, max_spend=max_spend,
                         prune=prune, quality=quality, languages=languages or [], qa=qa, bases=bases,
                         seed_from=seed_from)
    run = prepare_task(request)
    chunks = split([w.product.sku for w in run.work], chunk_skus or run.settings.chunk_skus)
    batch = str(flow_run.get_id() or "local")[:8]
    # every child gets the whole cap: they debit one shared budget row in the ledger (pipeline/chunks.SharedBudget)
    params: dict[str, Any] = {"catalog": catalog, "brand_kit": brand_kit, "providers": request.providers,
                              "formats": request.formats, "out": out, "max_spend": max_spend, "quality": quality,
                              "languages": request.languages, "qa": qa, "bases": bases, "seed_from": seed_from}
    # a chunk whose machine died before its first heartbeat is never marked Crashed by the zombie automation:
    # the parent's own deadline bounds the wait, then the chunk is crashed and resubmitted
    timeout = chunk_timeout_s or run.settings.chunk_timeout_s
    reports = await asyncio.gather(*[_run_chunk(run, batch, i, skus, params, max_attempts, poll_s, timeout)
                                     for i, skus in enumerate(chunks)])
    done = [r for r in reports if r is not None]
    total = merged(done)
    lost = [{"sku": sku, "shot": "", "reason": f"chunk {i} did not finish after {max_attempts} attempts; run again"}
            for i, (skus, report) in enumerate(zip(chunks, reports, strict=True)) if report is None for sku in skus]
    run.lint_blocked.extend(total.failures + lost)
    run.notes.extend(total.notes)
    return finalize_task(run, [], total.spend_usd, total.left_by_budget, total.composed, total.reused)
