"""Generating base clips on hosted providers: pay once per content key, survive crashes, fall back on refusal.

Order of events for one shot on one provider: ledger intent → (recover a lost job | submit) → ledger job id →
poll → download and verify → ledger done. A rerun after a crash resumes from whatever the ledger says.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx
from PIL import Image
from pydantic import BaseModel, Field

from skureel.domain import BrandKit, Product
from skureel.keys import content_key
from skureel.ledger import Ledger
from skureel.pipeline.work import ShotWork, voice_for
from skureel.prompts import render_prompt
from skureel.providers import credentials as creds
from skureel.providers.base import (
    JobRef,
    JobRequest,
    MissingCredentials,
    OutOfCredit,
    Provider,
    ProviderError,
    Rejected,
    Transient,
    UnknownOutcome,
)
from skureel.providers.capabilities import capabilities
from skureel.providers.polling import wait_for, with_retries
from skureel.providers.registry import provider_class
from skureel.render.compose import Prepared

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
                 retry_base_s: float = 1.0) -> None:
        self.ledger, self.cache_dir, self.brand, self.budget, self.limit = ledger, cache_dir, brand, budget, limit
        self.secret_lookup, self.deadline_s = secret_lookup, deadline_s
        self.poll_first_s, self.poll_max_s, self.retry_base_s = poll_first_s, poll_max_s, retry_base_s
        self.exhausted: dict[str, str] = {}  # provider -> reason: out of credit, stop submitting there
        self.semaphores: dict[str, asyncio.Semaphore] = {}
        self.clients: dict[str, Provider] = {}
        self.http = httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=10.0))

    def adapter(self, name: str) -> Provider:
        if name not in self.clients:
            self.clients[name] = provider_class(name)(self.http, creds.resolve(name, self.secret_lookup))
            self.semaphores[name] = asyncio.Semaphore(max(1, capabilities(name).max_concurrency))
        return self.clients[name]

    async def close(self) -> None:
        await self.http.aclose()


class HostedResult(BaseModel):
    sku: str
    shot_id: str
    provider: str | None = None
    clip: dict[str, Any] | None = None  # content_key, path, duration_s, product_box, cost_usd
    fallback_local: bool = False
    failure: str | None = None
    left_by_budget: bool = False
    notes: list[str] = Field(default_factory=list)


def image_payload(hero: Prepared | None) -> tuple[bytes | None, tuple[float, float, float, float] | None]:
    """JPEG on white, at most 2048 px: accepted by every vendor (Kling takes jpg/png only)."""
    if hero is None:
        return None, None
    x0, y0, x1, y1 = hero.cutout.bbox
    w, h = hero.asset.width, hero.asset.height
    return _jpeg(hero.asset.path, hero.asset.sha256), (x0 / w, y0 / h, x1 / w, y1 / h)


@lru_cache(maxsize=256)
def _jpeg(path: str, sha256: str) -> bytes:
    """Encoded once per image (the cache key includes its content hash), not once per job."""
    del sha256
    image = Image.open(path).convert("RGBA")
    background = Image.new("RGBA", image.size, (255, 255, 255, 255))
    rgb = Image.alpha_composite(background, image).convert("RGB")
    rgb.thumbnail((2048, 2048))
    out = io.BytesIO()
    rgb.save(out, format="JPEG", quality=92)
    return out.getvalue()


def speech_wav(text: str, voice: str) -> bytes:
    """Our own speech for avatar models that take audio (Kling, fal): captions then match the voice."""
    import wave

    import numpy as np

    from skureel.speech import synthesize

    speech = synthesize(text, voice)
    out = io.BytesIO()
    with wave.open(out, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(speech.rate)
        handle.writeframes((np.clip(speech.samples, -1, 1) * 32767).astype("<i2").tobytes())
    return out.getvalue()


async def generate_shot(product: Product, item: ShotWork, hero: Prepared | None, chain: list[str],
                        ctx: HostedContext, presenter: Prepared | None = None) -> HostedResult:
    shot = item.shot
    result = HostedResult(sku=product.sku, shot_id=shot.shot_id)
    avatar = shot.kind == "avatar"
    image, box = image_payload(presenter if avatar else hero)
    for name in chain:
        if name == "local":
            result.fallback_local = True
            return result
        if name in ctx.exhausted:
            result.notes.append(f"{name} skipped: {ctx.exhausted[name]}")
            continue
        rendered = render_prompt(shot, name)
        caps = capabilities(name)
        if avatar and not caps.avatar:
            result.notes.append(f"{name}: no avatar model")
            continue
        if not avatar and not (caps.image_to_video or caps.text_to_video):
            result.notes.append(f"{name}: avatar-only provider")
            continue
        if image is None and not caps.text_to_video:
            result.notes.append(f"{name}: needs an image")
            continue
        source = presenter if avatar else hero
        key = content_key(shot, [source.asset.sha256] if source else [], name, rendered.model, rendered.params,
                          ctx.brand, rendered.prompt)
        audio = None
        if avatar and name in ("kling", "fal"):
            audio = await asyncio.to_thread(speech_wav, shot.audio.voice_over or "", voice_for(shot.language, ctx.brand.voice))
        request = JobRequest(content_key=key, shot=shot, rendered=rendered, image=image, image_mime="image/jpeg",
                             audio=audio, audio_mime="audio/wav")
        cost = round(caps.price(str(rendered.params.get("mode", "")) or None) * rendered.duration_s, 4)
        try:
            clip = await _run_on(name, request, cost, box, ctx, product.sku)
        except (Rejected, OutOfCredit) as exc:
            if isinstance(exc, OutOfCredit):
                ctx.exhausted[name] = exc.reason
            result.notes.append(str(exc))
            continue  # the next provider in the chain gets this SKU
        except _BudgetReached:
            result.left_by_budget = True
            result.failure = f"left: --max-spend reached before {name} (${cost:.2f})"
            return result
        except MissingCredentials as exc:
            result.failure = str(exc)
            return result
        except ProviderError as exc:
            result.failure = str(exc)
            return result
        result.provider, result.clip = name, clip
        return result
    result.failure = "; ".join(result.notes) or "no provider in the chain could take it"
    return result


class _BudgetReached(Exception):
    pass


class _Slot:
    """One of the provider's concurrency slots: the local semaphore and the Prefect global limit together."""

    def __init__(self, ctx: HostedContext, name: str) -> None:
        self.ctx, self.name = ctx, name
        self.limit: AbstractAsyncContextManager[None] | None = None

    async def __aenter__(self) -> _Slot:
        await self.ctx.semaphores[self.name].acquire()
        self.limit = self.ctx.limit(self.name)
        try:
            await self.limit.__aenter__()
        except BaseException:
            self.ctx.semaphores[self.name].release()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            if self.limit is not None:
                await self.limit.__aexit__(None, None, None)
        finally:
            self.ctx.semaphores[self.name].release()


async def _submit_freeing_slot(adapter: Provider, request: JobRequest, ctx: HostedContext, slot: AsyncExitStack,
                               attempts: int = 8) -> JobRef:
    """Submit; on a transient refusal give the slot back while waiting (others may use it), then retry."""
    import random

    for attempt in range(attempts):
        try:
            return await adapter.submit(request)
        except Transient as exc:
            if attempt == attempts - 1:
                raise
            await slot.aclose()
            delay = exc.retry_after if exc.retry_after is not None else min(30.0, ctx.retry_base_s * 2**attempt)
            await asyncio.sleep(delay * (0.75 + 0.5 * random.random()))
            await slot.enter_async_context(_Slot(ctx, adapter.name))
    raise AssertionError("unreachable")


async def _run_on(name: str, request: JobRequest, cost: float, box: tuple[float, float, float, float] | None,
                  ctx: HostedContext, sku: str) -> dict[str, Any]:
    ledger = ctx.ledger
    key = request.content_key
    dest = ctx.cache_dir / "clips" / f"{key}.mp4"
    row = ledger.record_intent(key, sku=sku, shot_id=request.shot.shot_id, provider=name, model=request.rendered.model,
                               seed=request.shot.seed, blueprint_hash=request.shot.blueprint_hash(),
                               input_fingerprint=key[:16], cost_usd=cost)
    clip = {"content_key": key, "path": str(dest), "duration_s": request.rendered.duration_s, "product_box": box,
            "cost_usd": row.get("cost_usd") or cost}
    if row["state"] == "done" and dest.exists():
        return clip  # paid for before: reuse
    if row["state"] == "rejected":
        raise Rejected(name, row.get("error") or "rejected earlier")
    if row["state"] == "failed":  # the vendor ran it and it failed: no clip was delivered, so it may be bought again
        ledger.update_job(key, state="intent", provider_job_id=None)
        row = ledger.job(key) or row
    adapter = ctx.adapter(name)
    async with AsyncExitStack() as slot:
        await slot.enter_async_context(_Slot(ctx, name))
        ref: JobRef | None = None
        if row.get("provider_job_id"):
            ref = JobRef(provider=name, job_id=row["provider_job_id"], content_key=key,
                         extra=_json(row.get("info")).get("ref_extra", {}))
        elif row["state"] in ("submitting", "unknown"):
            # an earlier attempt may have created it: look it up (lookups are free, so retried), never pay twice
            ref = await with_retries(lambda: adapter.recover(request), base_s=ctx.retry_base_s)  # type: ignore[assignment]
            if ref is None:
                raise UnknownOutcome(name, "an earlier submission may have been created but cannot be looked up; "
                                           "check the vendor's dashboard before rerunning")
        if ref is None:
            if name in ctx.exhausted:  # ran out of credit while this job waited for a slot: submit nothing more
                raise OutOfCredit(name, f"not submitted: {ctx.exhausted[name]} earlier in this run")
            if not ctx.budget.reserve(cost):
                raise _BudgetReached()
            ledger.update_job(key, state="submitting", attempts=int(row.get("attempts") or 0) + 1)
            try:
                ref = await _submit_freeing_slot(adapter, request, ctx, slot)
            except UnknownOutcome as exc:
                ref = await with_retries(lambda: adapter.recover(request), base_s=ctx.retry_base_s)  # type: ignore[assignment]
                if ref is None:
                    ledger.update_job(key, state="unknown", error=exc.reason)
                    raise UnknownOutcome(name, f"{exc.reason}; {name} offers no way to look the job up, so it was not "
                                               "resubmitted (it may have been paid): check the vendor's dashboard") from exc
            except Transient:
                ledger.update_job(key, state="intent")  # a refused create was not paid
                ctx.budget.reserve(-cost)
                raise
            except ProviderError as exc:
                ledger.update_job(key, state="rejected" if isinstance(exc, Rejected) else "failed", error=str(exc))
                ctx.budget.reserve(-cost)
                raise
            assert ref is not None
            ledger.update_job(key, state="submitted", provider_job_id=ref.job_id, info={"ref_extra": ref.extra})
        try:
            state = await wait_for(adapter, ref, deadline_s=ctx.deadline_s, first_s=ctx.poll_first_s,
                                   max_interval_s=ctx.poll_max_s)
            await with_retries(lambda: adapter.download(state, dest), base_s=ctx.retry_base_s)
        except Rejected as exc:
            ledger.update_job(key, state="rejected", error=str(exc))
            raise
        except ProviderError as exc:
            if not isinstance(exc, Transient):
                ledger.update_job(key, state="failed", error=str(exc))
            raise
    import hashlib

    ledger.update_job(key, state="done", clip_path=str(dest), clip_sha256=hashlib.sha256(dest.read_bytes()).hexdigest())
    return clip


def _json(text: str | None) -> dict[str, Any]:
    import json

    try:
        value = json.loads(text or "{}")
        return value if isinstance(value, dict) else {}
    except ValueError:
        return {}
