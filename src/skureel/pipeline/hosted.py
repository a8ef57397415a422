"""Generating base clips on hosted providers: pay once per content key, survive crashes, fall back on refusal.

Order of events for one shot on one provider: ledger intent → (recover a lost job | submit) → ledger job id →
poll → download and verify → ledger done. A rerun after a crash resumes from whatever the ledger says.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import BaseModel, Field

from skureel.domain import BrandKit, Product
from skureel.keys import content_key
from skureel.ledger import Ledger, owner_id
from skureel.pipeline.adapt import Limits, Payload, adapt_image
from skureel.pipeline.claims import hold_claim
from skureel.pipeline.work import ShotWork, voice_for
from skureel.planning.bases import ratio
from skureel.prompts import RenderedPrompt, render_prompt
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
from skureel.providers.capabilities import Capabilities, capabilities, model_caps, parse_choice, tier_model
from skureel.providers.polling import wait_for, with_retries
from skureel.providers.registry import provider_class
from skureel.render.compose import Prepared

if TYPE_CHECKING:
    from skureel.catalog.images import ImageCache

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
                 retry_base_s: float = 1.0, quality: str = "final", claim_lease_s: float = 60.0) -> None:
        self.ledger, self.cache_dir, self.brand, self.budget, self.limit = ledger, cache_dir, brand, budget, limit
        self.quality = quality  # picks a fallback provider's model when the chain pins none
        self.secret_lookup, self.deadline_s = secret_lookup, deadline_s
        self.poll_first_s, self.poll_max_s, self.retry_base_s = poll_first_s, poll_max_s, retry_base_s
        self.exhausted: dict[str, str] = {}  # provider -> reason: out of credit, stop submitting there
        self.semaphores: dict[str, asyncio.Semaphore] = {}
        self.clients: dict[str, Provider] = {}
        self.http = httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=10.0))
        # who holds a content key's claim in the ledger: unique per process and context (pipeline/claims)
        self.owner = owner_id()
        self.claim_lease_s, self.claim_wait_s = claim_lease_s, 2.0

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
    qa_spent_usd: float = 0.0  # paid for clips the QA gate rejected (pipeline/gate.py), beyond `clip`'s own cost
    review: dict[str, str] = Field(default_factory=dict)  # the QA gate held the cell: status, qa_score, qa_flags
    held_clip: dict[str, Any] | None = None  # the clip the QA gate held: composed for review (review/), not published


def image_payload(source: Prepared | None, caps: Capabilities, background: str,
                  aspect: str | None = None) -> Payload | None:
    """The photo as this provider accepts it (see pipeline/adapt.py), at `aspect` for a per-family base (the output
    of image-to-video follows the image); None without a photo."""
    if source is None:
        return None
    bbox = tuple(int(v) for v in source.cutout.bbox)
    limits = Limits(min_side=caps.image_min_side, max_bytes=caps.image_max_bytes,
                    min_aspect=caps.image_aspect_range[0], max_aspect=caps.image_aspect_range[1],
                    target_aspect=ratio(aspect) if aspect else None)
    return adapt_image(source.asset.path, source.asset.sha256, bbox, limits, background)


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


def _rendered_for(item: ShotWork, entry: str, ctx: HostedContext, photos: int) -> RenderedPrompt:
    """The planned rendering on the planned provider; on a fallback, the pinned model or the quality tier's."""
    choice = parse_choice(entry, allow_retired=True)
    if item.rendered.provider == choice.provider and choice.model in (None, item.rendered.model):
        return item.rendered
    model = choice.model or (None if item.shot.kind == "avatar" else tier_model(choice.provider, ctx.quality, photos))
    return render_prompt(item.shot, choice.provider, model)


def wants_references(product: Product, item: ShotWork, chain: list[str], quality: str) -> bool:
    """Whether any model this shot may run on takes the SKU's other photos as references (Kling Omni and kin)."""
    if item.shot.kind == "avatar" or len(product.images) < 2:
        return False
    models = [(item.rendered.provider, item.rendered.model)]
    for entry in chain:
        choice = parse_choice(entry, allow_retired=True)
        models.append((choice.provider, choice.model or tier_model(choice.provider, quality, len(product.images))))
    return any((spec := model_caps(p, m).model) is not None and spec.max_references > 0 for p, m in models)


def load_gallery(product: Product, cache: ImageCache) -> list[Prepared]:
    """The SKU's usable photos, best packshot first (the hero leads, as choose_hero would pick it)."""
    from skureel.pipeline.photos import load_photos

    return load_photos(product, cache, hosted=True).gallery


def _references(gallery: Sequence[Prepared], source: Prepared | None, caps: Capabilities,
                background: str) -> list[tuple[str, bytes]]:
    """(digest, bytes) of the SKU's other photos, best packshot first, for models that take references (Omni)."""
    limit = caps.model.max_references if caps.model else 0
    out: list[tuple[str, bytes]] = []
    for other in gallery:
        if len(out) >= limit:
            break
        if source is not None and other.asset.sha256 == source.asset.sha256:
            continue
        payload = image_payload(other, caps, background)
        if payload is not None:
            out.append((payload.digest if payload.adapted else other.asset.sha256, payload.data))
    return out


async def generate_shot(product: Product, item: ShotWork, hero: Prepared | None, chain: list[str],
                        ctx: HostedContext, presenter: Prepared | None = None,
                        gallery: Sequence[Prepared] = ()) -> HostedResult:
    shot = item.shot
    result = HostedResult(sku=product.sku, shot_id=shot.shot_id)
    avatar = shot.kind == "avatar"
    source = presenter if avatar else hero
    for entry in chain:  # `provider` or `provider:model`
        name = entry.partition(":")[0]
        if name == "local":
            result.fallback_local = True
            return result
        if name in ctx.exhausted:
            result.notes.append(f"{name} skipped: {ctx.exhausted[name]}")
            continue
        rendered = _rendered_for(item, entry, ctx, len(gallery) or (1 if source else 0))
        caps = model_caps(name, rendered.model)
        if caps.retired:
            result.notes.append(f"{name}: retired since {caps.retired}")
            continue
        if avatar and not caps.avatar:
            result.notes.append(f"{name}: no avatar model")
            continue
        if not avatar and not (caps.image_to_video or caps.text_to_video):
            result.notes.append(f"{name}: avatar-only provider")
            continue
        payload = image_payload(source, caps, ctx.brand.colours.background,
                                item.shot.aspect_ratio if item.family else None)
        if payload is None and not caps.text_to_video:
            result.notes.append(f"{name}: needs an image")
            continue
        image, box = (payload.data, payload.box) if payload else (None, None)
        digests = [source.asset.sha256] if source else []
        if payload and payload.adapted:  # unadapted photos keep their old keys: nothing already paid is paid again
            digests.append(payload.digest)
            result.notes.append(f"{name}: {payload.note}")
        refs = [] if avatar else _references(gallery, source, caps, ctx.brand.colours.background)
        digests += [digest for digest, _ in refs]  # only models taking references: other keys stay as they were
        key = content_key(shot, digests, name, rendered.model, rendered.params, ctx.brand, rendered.prompt)
        audio = None
        if avatar and name in ("kling", "fal"):
            audio = await asyncio.to_thread(speech_wav, shot.audio.voice_over or "", voice_for(shot.language, ctx.brand.voice))
        request = JobRequest(content_key=key, shot=shot, rendered=rendered, image=image, image_mime="image/jpeg",
                             audio=audio, audio_mime="audio/wav", references=[data for _, data in refs])
        cost = round(caps.price(str(rendered.params.get("mode", "")) or None, audio=rendered.audio)
                     * rendered.duration_s, 4)
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
            if adapter.name in ctx.exhausted:  # the account ran dry while this one waited: submit nothing more
                raise OutOfCredit(adapter.name, f"not submitted: {ctx.exhausted[adapter.name]} earlier in this run") from None
    raise AssertionError("unreachable")


async def _run_on(name: str, request: JobRequest, cost: float, box: tuple[float, float, float, float] | None,
                  ctx: HostedContext, sku: str) -> dict[str, Any]:
    """Only the holder of the content key's claim may submit, look up or poll it. Prefect may execute one flow
    run twice and workers die mid-job, so the ledger, not Prefect's state, decides who pays (once)."""
    async with hold_claim(ctx.ledger, request.content_key, ctx.owner, ctx.claim_lease_s, ctx.claim_wait_s):
        return await _run_claimed(name, request, cost, box, ctx, sku)


async def _run_claimed(name: str, request: JobRequest, cost: float, box: tuple[float, float, float, float] | None,
                       ctx: HostedContext, sku: str) -> dict[str, Any]:
    ledger = ctx.ledger
    key = request.content_key
    dest = ctx.cache_dir / "clips" / f"{key}.mp4"
    row = ledger.record_intent(key, sku=sku, shot_id=request.shot.shot_id, provider=name, model=request.rendered.model,
                               seed=request.shot.seed, blueprint_hash=request.shot.blueprint_hash(),
                               input_fingerprint=key[:16], cost_usd=cost)
    clip = {"content_key": key, "path": str(dest), "duration_s": request.rendered.duration_s, "product_box": box,
            "cost_usd": row.get("cost_usd") or cost, "model": request.rendered.model}
    if row["state"] == "done" and dest.exists():
        return clip  # paid for before: reuse
    paid_elsewhere = _done_marker(dest)
    if row["state"] == "intent" and paid_elsewhere.is_file():
        # bought before for another output (a studio batch, a moved folder): the cache is shared, the payment too
        sha256 = paid_elsewhere.read_text().strip()
        if dest.is_file() and _sha256(dest) == sha256:
            ledger.update_job(key, state="done", clip_path=str(dest), clip_sha256=sha256)
            return clip
        ledger.update_job(key, state="unknown")  # paid, but the cached file is damaged: look the job up, never rebuy
        row = ledger.job(key) or row
    if row["state"] == "rejected":
        raise Rejected(name, row.get("error") or "rejected earlier")
    if row["state"] == "failed":  # the vendor ran it and it failed: no clip was delivered, so it may be bought again
        info = _json(row.get("info"))  # under a new external id: vendors refuse one id twice (Kling's 1201)
        ledger.update_job(key, state="intent", provider_job_id=None,
                          info={**info, "purchase": int(info.get("purchase", 1)) + 1})
        row = ledger.job(key) or row
    request = request.model_copy(update={"purchase": int(_json(row.get("info")).get("purchase", 1))})
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
            if ref is None and not adapter.lookup_is_authoritative:
                raise UnknownOutcome(name, "an earlier submission may have been created but cannot be looked up; "
                                           "check the vendor's dashboard before rerunning")
            # authoritative lookup found nothing: the earlier process died before its create reached the vendor
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
            ledger.update_job(key, state="submitted", provider_job_id=ref.job_id,
                              info={**_json(row.get("info")), "ref_extra": ref.extra})
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
    sha256 = _sha256(dest)
    ledger.update_job(key, state="done", clip_path=str(dest), clip_sha256=sha256)
    _done_marker(dest).write_text(sha256)  # written last: a marker means the cached clip is whole and was paid for
    return clip


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
