"""One paid job on one provider, from ledger intent to a verified clip in the cache (pipeline/hosted.py chooses
the provider and builds the request). Only the holder of the content key's claim submits, looks up or polls it."""

from __future__ import annotations

import asyncio
import time
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skureel.pipeline.claims import hold_claim, ledger_call
from skureel.providers.base import (
    JobRef,
    JobRequest,
    OutOfCredit,
    Provider,
    ProviderError,
    Rejected,
    Transient,
    UnknownOutcome,
)
from skureel.providers.polling import wait_for, with_retries

if TYPE_CHECKING:
    from skureel.ledger import Ledger
    from skureel.pipeline.hostedcontext import HostedContext


class BudgetReached(Exception):
    pass


class Slot:
    """A job's hold on one of the provider's concurrency slots (the local semaphore and the Prefect global limit
    together), given back and taken again around waits that run nothing at the vendor."""

    def __init__(self, ctx: HostedContext, name: str) -> None:
        self.ctx, self.name = ctx, name
        self.limit: AbstractAsyncContextManager[None] | None = None  # set while the slot is held

    async def take(self) -> None:
        if self.limit is not None:
            return
        await self.ctx.semaphores[self.name].acquire()
        limit = self.ctx.limit(self.name)
        try:
            await limit.__aenter__()
        except BaseException:
            self.ctx.semaphores[self.name].release()
            raise
        self.limit = limit

    async def give(self) -> None:
        limit, self.limit = self.limit, None
        if limit is None:
            return
        try:
            await limit.__aexit__(None, None, None)
        finally:
            self.ctx.semaphores[self.name].release()

    async def __aenter__(self) -> Slot:
        await self.take()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.give()


async def submit_freeing_slot(adapter: Provider, request: JobRequest, ctx: HostedContext, slot: Slot,
                              attempts: int = 8) -> JobRef:
    """Submit; on a transient refusal give the slot back while waiting (others may use it), then retry."""
    import random

    for attempt in range(attempts):
        try:
            return await _create(adapter, request, ctx, slot)
        except Transient as exc:
            if attempt == attempts - 1:
                raise
            await slot.give()
            delay = exc.retry_after if exc.retry_after is not None else min(30.0, ctx.retry_base_s * 2**attempt)
            await ctx.wait_to_retry(adapter.name, delay * (0.75 + 0.5 * random.random()))
            if adapter.name not in ctx.exhausted:
                await slot.take()
            if adapter.name in ctx.exhausted:  # the account ran dry while this one waited: submit nothing more
                raise OutOfCredit(adapter.name, f"not submitted: {ctx.exhausted[adapter.name]} earlier in this run") from None
    raise AssertionError("unreachable")


async def _create(adapter: Provider, request: JobRequest, ctx: HostedContext, slot: Slot) -> JobRef:
    """One create. Vendors count running jobs against an account's concurrency, and a create that has not
    answered within `create_grace_s` sits in the vendor's queue (a hung gateway, a backlog), not among them: its
    slot goes to another job meanwhile and is taken again once the job exists. An answer is never abandoned: it
    may be a paid job. Should it land while the account is full, the vendor refuses another create, retried."""
    create = asyncio.ensure_future(adapter.submit(request))
    try:
        done, _ = await asyncio.wait({create}, timeout=ctx.create_grace_s)
        if not done:
            await slot.give()
        ref = await create
    except BaseException:
        create.cancel()  # cancelled from outside: the ledger says submitting, so a rerun looks the job up
        raise
    await slot.take()
    return ref


async def run_on(name: str, request: JobRequest, cost: float, box: tuple[float, float, float, float] | None,
                 ctx: HostedContext, sku: str) -> dict[str, Any]:
    """Only the holder of the content key's claim may submit, look up or poll it. Prefect may execute one flow
    run twice and workers die mid-job, so the ledger, not Prefect's state, decides who pays (once)."""
    dest = ctx.cache_dir / "clips" / f"{request.content_key}.mp4"
    # a clip paid for before needs no claim: `done` is final and its file was whole before the row said so; a rerun
    # of a mostly unchanged catalog then costs one read per clip, not three writes that stall the jobs being polled
    row = await ledger_call(ctx.ledger, ctx.ledger.job, request.content_key)
    if row and row["state"] == "done" and dest.exists():
        return clip_info(request, dest, box, row.get("cost_usd") or cost)
    async with hold_claim(ctx.ledger, request.content_key, ctx.owner, ctx.claim_lease_s, ctx.claim_wait_s):
        return await run_claimed(name, request, cost, box, ctx, sku)


def clip_info(request: JobRequest, dest: Path, box: tuple[float, float, float, float] | None,
               cost: float) -> dict[str, Any]:
    return {"content_key": request.content_key, "path": str(dest), "duration_s": request.rendered.duration_s,
            "product_box": box, "cost_usd": cost, "model": request.rendered.model}


async def run_claimed(name: str, request: JobRequest, cost: float, box: tuple[float, float, float, float] | None,
                      ctx: HostedContext, sku: str) -> dict[str, Any]:
    ledger = ctx.ledger
    key = request.content_key
    dest = ctx.cache_dir / "clips" / f"{key}.mp4"

    async def write(**fields: Any) -> None:
        await ledger_call(ledger, ledger.update_job, key, **fields)

    row = await ledger_call(
        ledger, ledger.record_intent, key, sku=sku, shot_id=request.shot.shot_id, provider=name, model=request.rendered.model,
        seed=request.shot.seed, blueprint_hash=request.shot.blueprint_hash(), input_fingerprint=key[:16],
        cost_usd=cost)
    clip = clip_info(request, dest, box, row.get("cost_usd") or cost)
    if row["state"] == "done" and dest.exists():
        return clip  # paid for before: reuse
    paid_elsewhere = _done_marker(dest)
    if row["state"] == "intent" and paid_elsewhere.is_file():
        # bought before for another output (a studio batch, a moved folder): the cache is shared, the payment too
        sha256 = paid_elsewhere.read_text().strip()
        if dest.is_file() and _sha256(dest) == sha256:
            await write(state="done", clip_path=str(dest), clip_sha256=sha256)
            return clip
        await write(state="unknown")  # paid, but the cached file is damaged: look the job up, never rebuy
        row = await _reread(ledger, key, row)
    if row["state"] == "rejected":
        # the stored error already names the provider ("kling: ..."): said once, not twice
        raise Rejected(name, str(row.get("error") or "rejected earlier").removeprefix(f"{name}: "))
    if row["state"] == "failed":  # the vendor ran it and it failed: no clip was delivered, so it may be bought again
        info = _json(row.get("info"))  # under a new external id: vendors refuse one id twice (Kling's 1201)
        await write(state="intent", provider_job_id=None, info={**info, "purchase": int(info.get("purchase", 1)) + 1})
        row = await _reread(ledger, key, row)
    request = request.model_copy(update={"purchase": int(_json(row.get("info")).get("purchase", 1))})
    adapter = ctx.adapter(name)
    if not row.get("provider_job_id") and name not in ctx.exhausted:
        # uploads are not vendor jobs: done before the slot, so a slot's time is the vendor's
        await with_retries(lambda: adapter.stage(request), base_s=ctx.retry_base_s)
    async with Slot(ctx, name) as slot:
        ref: JobRef | None = None
        recorded: asyncio.Future[None] | None = None
        just_created = False
        if row.get("provider_job_id"):
            ref = JobRef(provider=name, job_id=row["provider_job_id"], content_key=key,
                         extra=_json(row.get("info")).get("ref_extra", {}))
        elif row["state"] in ("submitting", "unknown"):
            # an earlier attempt may have created it: look it up (lookups are free, so retried), never pay twice
            ref = await with_retries(lambda: adapter.recover(request), base_s=ctx.retry_base_s)  # type: ignore[assignment]
            if ref is None and not adapter.lookup_is_authoritative:
                raise UnknownOutcome(name, "an earlier submission may have been created but cannot be looked up; "
                                           "check the vendor's dashboard before rerunning")
            # authoritative lookup found nothing: the earlier process died before its create reached the vendor
        if ref is None:
            if name in ctx.exhausted:  # ran out of credit while this job waited for a slot: submit nothing more
                raise OutOfCredit(name, f"not submitted: {ctx.exhausted[name]} earlier in this run")
            if not ctx.budget.reserve(cost):
                raise BudgetReached()
            await write(state="submitting", attempts=int(row.get("attempts") or 0) + 1)
            try:
                ref = await submit_freeing_slot(adapter, request, ctx, slot)
                just_created = True
            except UnknownOutcome as exc:
                ref = await with_retries(lambda: adapter.recover(request), base_s=ctx.retry_base_s)  # type: ignore[assignment]
                if ref is None:
                    await write(state="unknown", error=exc.reason)
                    raise UnknownOutcome(name, f"{exc.reason}; {name} offers no way to look the job up, so it was not "
                                               "resubmitted (it may have been paid): check the vendor's dashboard") from exc
            except Transient:
                await write(state="intent")  # a refused create was not paid
                ctx.budget.reserve(-cost)
                raise
            except ProviderError as exc:
                await write(state="rejected" if isinstance(exc, Rejected) else "failed", error=str(exc))
                ctx.budget.reserve(-cost)
                raise
            assert ref is not None
            # the job id is written while the job runs (its first poll is a while away), not in the slot's time
            recorded = asyncio.ensure_future(write(state="submitted", provider_job_id=ref.job_id,
                                                   info={**_json(row.get("info")), "ref_extra": ref.extra}))
        try:
            await slot.take()  # a running job holds a slot (a slow create's lost answer may have given it back)
            kind, started = f"{name}:{request.rendered.model}:{request.rendered.duration_s:g}", time.monotonic()
            try:
                state = await wait_for(adapter, ref, deadline_s=ctx.deadline_s, first_s=ctx.poll_first_s,
                                       max_interval_s=ctx.poll_max_s, just_created=just_created,
                                       expected=ctx.expected(kind))
                if just_created:
                    ctx.observe(kind, time.monotonic() - started, vendor_s=state.ran_s)
            finally:
                if recorded is not None:
                    await recorded  # before any later state is written, so the job id is never overwritten late
            # the vendor counts running jobs against the account's concurrency, not downloads of finished ones:
            # the slot goes to the next job while this one fetches and checks its clip
            await slot.give()
            await with_retries(lambda: adapter.download(state, dest), base_s=ctx.retry_base_s)
        except Rejected as exc:
            await write(state="rejected", error=str(exc))
            raise
        except ProviderError as exc:
            if not isinstance(exc, Transient):
                await write(state="failed", error=str(exc))
            raise
    sha256 = await asyncio.to_thread(_sha256, dest)
    await write(state="done", clip_path=str(dest), clip_sha256=sha256)
    # written last: a marker means the cached clip is whole and was paid for
    await asyncio.to_thread(_done_marker(dest).write_text, sha256)
    return clip


async def _reread(ledger: Ledger, key: str, row: dict[str, Any]) -> dict[str, Any]:
    return await ledger_call(ledger, ledger.job, key) or row


def _done_marker(clip: Path) -> Path:
    return clip.with_suffix(".sha256")


def _sha256(file: Path) -> str:
    import hashlib

    return hashlib.sha256(file.read_bytes()).hexdigest()


def _json(text: str | None) -> dict[str, Any]:
    import json

    try:
        value = json.loads(text or "{}")
        return value if isinstance(value, dict) else {}
    except ValueError:
        return {}
