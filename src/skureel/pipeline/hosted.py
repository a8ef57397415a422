"""Generating base clips on hosted providers: pay once per content key, survive crashes, fall back on refusal.

Order of events for one shot on one provider: ledger intent → (recover a lost job | submit) → ledger job id →
poll → download and verify → ledger done. A rerun after a crash resumes from whatever the ledger says.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from skureel.domain import Product
from skureel.keys import content_key
from skureel.pipeline.adapt import Limits, Payload, adapt_image

# the run's shared state lives one level down (paidjob needs it too); callers keep importing it from here
from skureel.pipeline.hostedcontext import Budget as Budget
from skureel.pipeline.hostedcontext import HostedContext as HostedContext
from skureel.pipeline.paidjob import BudgetReached, run_on
from skureel.pipeline.work import ShotWork, voice_for
from skureel.planning.bases import ratio
from skureel.prompts import RenderedPrompt, render_prompt
from skureel.providers.base import (
    JobRequest,
    MissingCredentials,
    OutOfCredit,
    ProviderError,
    Rejected,
)
from skureel.providers.capabilities import Capabilities, model_caps, parse_choice, tier_model
from skureel.render.compose import Prepared

if TYPE_CHECKING:
    from skureel.catalog.images import ImageCache


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
        async with ctx.admission(name):  # bounds the requests built and claims held at once (HostedContext)
            if name in ctx.exhausted:  # ran dry while this one waited to be admitted: no ledger work for it
                result.notes.append(f"{name} skipped: {ctx.exhausted[name]}")
                continue
            if await _try_entry(entry, name, product, item, source, gallery, ctx, result):
                return result
    result.failure = "; ".join(result.notes) or "no provider in the chain could take it"
    return result


async def _try_entry(entry: str, name: str, product: Product, item: ShotWork, source: Prepared | None,
                     gallery: Sequence[Prepared], ctx: HostedContext, result: HostedResult) -> bool:
    """One provider of the chain; True when `result` is final (a clip or a failure), False to try the next."""
    shot = item.shot
    avatar = shot.kind == "avatar"
    rendered = _rendered_for(item, entry, ctx, len(gallery) or (1 if source else 0))
    caps = model_caps(name, rendered.model)
    if caps.retired:
        result.notes.append(f"{name}: retired since {caps.retired}")
        return False
    if avatar and not caps.avatar:
        result.notes.append(f"{name}: no avatar model")
        return False
    if not avatar and not (caps.image_to_video or caps.text_to_video):
        result.notes.append(f"{name}: avatar-only provider")
        return False
    payload = image_payload(source, caps, ctx.brand.colours.background,
                            item.shot.aspect_ratio if item.family else None)
    if payload is None and not caps.text_to_video:
        result.notes.append(f"{name}: needs an image")
        return False
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
        clip = await run_on(name, request, cost, box, ctx, product.sku)
    except (Rejected, OutOfCredit) as exc:
        if isinstance(exc, OutOfCredit):
            ctx.mark_exhausted(name, exc.reason)
        result.notes.append(str(exc))
        return False  # the next provider in the chain gets this SKU
    except BudgetReached:
        result.left_by_budget = True
        result.failure = f"left: --max-spend reached before {name} (${cost:.2f})"
        return True
    except MissingCredentials as exc:
        result.failure = str(exc)
        return True
    except ProviderError as exc:
        result.failure = str(exc)
        return True
    result.provider, result.clip = name, clip
    return True
