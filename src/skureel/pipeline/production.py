"""Producing one SKU: choose the hero image, generate (or reuse) each shot's base, compose every format.

Runs in a worker process for local rendering; touches the ledger (SQLite, WAL) and a local staging folder,
never the output target (publishing happens afterwards, in one place).
"""

from __future__ import annotations

import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from skureel.catalog.images import ImageCache
from skureel.domain import BrandKit, ShotSpec, plain_error
from skureel.formats import preset as format_preset
from skureel.keys import content_key, overlay_hash
from skureel.ledger import Ledger
from skureel.naming import clip_stem, sku_key
from skureel.pipeline.avatar_local import produce_presenter
from skureel.pipeline.bases import formats_of
from skureel.pipeline.photos import load_photos
from skureel.pipeline.work import (
    Composed,
    ShotWork,
    SkuOutcome,
    SkuWork,
    overlay_for,
    save_poster,
    sha256_file,
    tags_for,
    voice_for,
)
from skureel.render.compose import Prepared, compose_clip, inside_photo, render_local


def produce_sku(work: SkuWork) -> SkuOutcome:
    """Everything for one SKU that costs CPU: image checks, cut-out, render or reframe, encode, probe.

    Nothing raised here may stop the run: an unexpected failure becomes this shot's (or this SKU's) failure
    with a one-line reason, and its traceback travels back in `outcome.details` for the run's log.
    """
    outcome = SkuOutcome(sku=work.product.sku)
    try:
        hero, ledger, staging = _prepare_sku(work, outcome)
    except Exception as exc:  # noqa: BLE001 - isolation: one SKU never aborts the batch
        record_unexpected(outcome, "", exc)
        return outcome
    for item in work.shots:
        try:
            _produce_shot(work, item, hero, outcome, ledger, staging)
        except Exception as exc:  # noqa: BLE001 - isolation, as above
            record_unexpected(outcome, item.shot.shot_id, exc)
    return outcome


def record_unexpected(outcome: SkuOutcome, shot_id: str, exc: BaseException, fmt: str = "") -> None:
    failure = {"sku": outcome.sku, "shot": shot_id, "reason": plain_error(exc)}
    if fmt:
        failure["format"] = fmt
    outcome.failures.append(failure)
    where = "/".join(x for x in (shot_id, fmt) if x)
    outcome.details.append(f"SKU {outcome.sku!r} {where}: " + "".join(traceback.format_exception(exc)))


def _prepare_sku(work: SkuWork, outcome: SkuOutcome) -> tuple[Prepared | None, Ledger, Path]:
    product = work.product
    hosted_only = all(item.rendered.provider != "local" for item in work.shots)
    photos = load_photos(product, ImageCache(work.settings), hosted=hosted_only)
    outcome.notes.extend(photos.notes)
    staging = Path(work.staging) / sku_key(product.sku)
    staging.mkdir(parents=True, exist_ok=True)
    return photos.hero, Ledger(work.ledger_url), staging


def _produce_shot(work: SkuWork, item: ShotWork, hero: Prepared | None, outcome: SkuOutcome, ledger: Ledger,
                  staging: Path) -> None:
    product, brand = work.product, work.brand
    shot = item.shot
    provider = item.rendered.provider
    if shot.kind == "avatar" and item.slot not in work.hosted_clips:
        produce_presenter(work, item, hero, outcome, ledger, staging)
        return
    if provider == "local" and hero is None and shot.kind != "avatar":
        reason = "no usable product image (" + ("; ".join(outcome.notes) or "the row has none") + ")"
        outcome.failures.append({"sku": product.sku, "shot": shot.shot_id, "reason": reason})
        return
    digests = [hero.asset.sha256] if hero else []
    if provider == "local" and hero is not None and (inside := inside_photo(shot, hero)) is not None:
        digests.append(inside.asset.sha256)  # what the opening package shows is an input of the clip too
    key = content_key(shot, digests, provider, item.rendered.model, item.rendered.params, brand,
                      None if provider == "local" else item.rendered.prompt)
    hosted = work.hosted_clips.get(item.slot)
    held = hosted is None and item.slot in work.held_clips  # the QA gate held it: composed for review only
    if held:
        hosted = work.held_clips[item.slot]
    if provider == "local":
        ledger.record_intent(key, sku=product.sku, shot_id=shot.shot_id, provider="local", model=item.rendered.model,
                             seed=shot.seed, blueprint_hash=shot.blueprint_hash(), input_fingerprint=",".join(digests),
                             cost_usd=0.0)
        assert hero is not None
        ledger.update_job(key, state="done", clip_path=hero.asset.path, clip_sha256=hero.asset.sha256,
                          info={"cutout": hero.cutout.model_dump(), "hero": hero.asset.source})
    elif hosted is None:
        outcome.failures.append({"sku": product.sku, "shot": shot.shot_id, "reason": "no base clip from the provider"})
        return
    else:
        key = hosted["content_key"]
    local_qa: dict[str, Any] | None = None
    for fmt in formats_of(work, item):  # every format, or this base's share of them (--bases per-family)
        ohash = overlay_hash(product, brand, fmt, shot.language)
        existing = ledger.deliverable(product.sku, shot.shot_id, fmt)
        if (not work.force and not held and existing and existing["state"] == "published"
                and existing["content_key"] == key and existing["overlay_hash"] == ohash):
            outcome.reused.append((shot.shot_id, fmt))
            continue
        if held and hosted is not None and fmt in hosted.get("reviewed", ()):  # composed for review before
            continue
        name = clip_stem(product.sku, shot.shot_id, fmt)
        out = staging / f"{name}.mp4"
        tags = tags_for(product, brand, shot)
        metadata = {
            "title": product.title[:200], "description": product.description[:500], "artist": brand.name,
            "copyright": brand.name, "genre": tags["category"][:100],
            "keywords": ", ".join(x for x in (tags["brand"], tags["campaign"], tags["category"], tags["material"],
                                              tags["colour"]) if x),
            "comment": f"skureel content_key={key}; ai_generated={'true' if provider != 'local' else 'false'}",
        }
        try:
            if provider == "local":
                assert hero is not None
                result, boxes = render_local(shot, hero, fmt, brand, overlay_for(product, brand), out,
                                             quality=work.quality, metadata=metadata)
            elif work.settings.bench_skip_compose:  # SKUREEL_BENCH_SKIP_COMPOSE: bench/scale.py only
                assert hosted is not None
                result = _uncomposed(Path(hosted["path"]), out)
            else:
                assert hosted is not None
                result = compose_clip(Path(hosted["path"]), hosted.get("product_box"), float(hosted["duration_s"]),
                                      fmt, brand, overlay_for(product, brand), out, quality=work.quality,
                                      metadata=metadata, speech=_own_speech(shot, provider, brand),
                                      native_audio=item.rendered.audio)
        except Exception as exc:  # noqa: BLE001 - one format failing leaves the others
            out.unlink(missing_ok=True)
            record_unexpected(outcome, shot.shot_id, exc, fmt)
            continue
        if not result.ok:
            outcome.failures.append({"sku": product.sku, "shot": shot.shot_id, "format": fmt,
                                     "reason": "quality check failed: " + "; ".join(result.problems)})
            continue
        poster = staging / f"{name}.jpg"
        save_poster(out, min(shot.duration_s * 0.4, result.duration_s / 2), poster)
        spec = format_preset(fmt)
        row = {
            "sku": product.sku, "title": product.title, "shot": shot.shot_id, "kind": shot.kind, "format": fmt,
            "platforms": spec.platforms, "width": result.width, "height": result.height,
            "duration_s": round(result.duration_s, 3), "fps": result.fps, "provider": provider,
            "model": item.rendered.model, "seed": shot.seed, "prompt": item.rendered.prompt, "content_key": key,
            "input_fingerprint": ",".join(digests), "overlay_hash": ohash,
            "cost_usd": hosted.get("cost_usd", 0.0) if hosted else 0.0, "sha256": sha256_file(out),
            "bytes": out.stat().st_size, "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "tags": tags, "ai_generated": provider != "local", "lufs_i": result.lufs_i,
            "true_peak_db": result.true_peak_db, "description": product.description[:500],
            "keywords": [v for v in tags.values() if v], "variant_keys": [v.sku for v in product.variants],
            "label": "studio composite from the product photo" if provider == "local" else f"generated by {provider}",
            "cutout": hero.cutout.mode if hero else None,
            "source_image": hero.asset.path if hero else None,  # the photo C2PA names as the ingredient
        }
        if provider == "local":
            row["product_box_min_margin_px"] = _min_margin(boxes, result.width, result.height)
        if hosted:  # the QA gate's verdict on the base clip (pipeline/gate.py), when it ran
            row.update({k: v for k, v in hosted.items() if k.startswith("qa_")})
        elif work.qa != "off" and hero is not None and shot.kind != "avatar":
            if local_qa is None:  # a local render: checked once per shot (its first format), recorded only
                from skureel.pipeline.gate import check_local

                local_qa = check_local(out, hero, shot)
            row.update(local_qa)
        (outcome.held if held else outcome.composed).append(Composed(sku=product.sku, shot_id=shot.shot_id, format=fmt,
                                                                     path=str(out), poster=str(poster), row=row))


def _uncomposed(clip: Path, out: Path) -> Any:
    """The base clip published as it is (no reframe, overlays, end card or audio): what the scale benchmark
    publishes so that 2 cores measure the fan-out, claims and paid jobs, not the encoder."""
    import shutil

    import av

    from skureel.render.probe import ProbeResult

    shutil.copyfile(clip, out)
    with av.open(str(out)) as container:
        video = container.streams.video[0]
        return ProbeResult(path=str(out), codec=video.codec_context.name, profile="", pix_fmt="",
                           width=video.codec_context.width, height=video.codec_context.height,
                           fps=float(video.average_rate or 0), frames=video.frames,
                           duration_s=float(container.duration or 0) / 1e6, audio_codec=None, audio_rate=None,
                           audio_channels=None, lufs_i=None, true_peak_db=None, faststart=False)


def _own_speech(shot: ShotSpec, provider: str, brand: BrandKit) -> Any:
    """Kling and fal avatars speak the audio we sent: synthesize it again (deterministic) for caption timings."""
    if shot.kind != "avatar" or provider not in ("kling", "fal") or not shot.audio.voice_over:
        return None
    from skureel.speech import SpeechUnavailable, synthesize

    try:
        return synthesize(shot.audio.voice_over, voice_for(shot.language, brand.voice))
    except SpeechUnavailable:
        return None


def _min_margin(boxes: list[tuple[float, float, float, float]], width: int, height: int) -> float:
    """The smallest distance from the product to the frame edge over all frames (negative = cut off)."""
    if not boxes:
        return 0.0
    return round(min(min(b[0], b[1], width - b[2], height - b[3]) for b in boxes), 2)
