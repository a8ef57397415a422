"""Producing one SKU: choose the hero image, generate (or reuse) each shot's base, compose every format.

Runs in a worker process for local rendering; touches the ledger (SQLite, WAL) and a local staging folder,
never the output target (publishing happens afterwards, in one place).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import av

from skureel.catalog.images import ImageCache, ImageProblem
from skureel.domain import BrandKit, ShotSpec
from skureel.formats import preset as format_preset
from skureel.keys import content_key, overlay_hash
from skureel.ledger import Ledger
from skureel.pipeline.avatar_local import produce_presenter
from skureel.pipeline.work import (
    Composed,
    SkuOutcome,
    SkuWork,
    overlay_for,
    save_poster,
    sha256_file,
    tags_for,
    voice_for,
)
from skureel.render.compose import Prepared, choose_hero, compose_clip, prepare, render_local


def produce_sku(work: SkuWork) -> SkuOutcome:
    """Everything for one SKU that costs CPU: image checks, cut-out, render or reframe, encode, probe."""
    product, brand = work.product, work.brand
    outcome = SkuOutcome(sku=product.sku)
    ledger = Ledger(work.ledger_url)
    cache = ImageCache(work.settings)
    prepared: list[Prepared] = []
    for ref in product.images:
        try:
            prepared.append(prepare(cache.load(product.resolve_image(ref))))
        except ImageProblem as exc:
            outcome.notes.append(str(exc))
    hero, notes = choose_hero(prepared)
    outcome.notes.extend(notes)
    staging = Path(work.staging) / product.sku
    staging.mkdir(parents=True, exist_ok=True)
    for item in work.shots:
        shot = item.shot
        provider = item.rendered.provider
        if shot.kind == "avatar" and shot.shot_id not in work.hosted_clips:
            produce_presenter(work, item, hero, outcome, ledger, staging)
            continue
        if provider == "local" and hero is None and shot.kind != "avatar":
            reason = "no usable product image (" + ("; ".join(outcome.notes) or "the row has none") + ")"
            outcome.failures.append({"sku": product.sku, "shot": shot.shot_id, "reason": reason})
            continue
        digests = [hero.asset.sha256] if hero else []
        key = content_key(shot, digests, provider, item.rendered.model, item.rendered.params, brand,
                          None if provider == "local" else item.rendered.prompt)
        hosted = work.hosted_clips.get(shot.shot_id)
        if provider == "local":
            ledger.record_intent(key, sku=product.sku, shot_id=shot.shot_id, provider="local", model=item.rendered.model,
                                 seed=shot.seed, blueprint_hash=shot.blueprint_hash(), input_fingerprint=",".join(digests),
                                 cost_usd=0.0)
            assert hero is not None
            ledger.update_job(key, state="done", clip_path=hero.asset.path, clip_sha256=hero.asset.sha256,
                              info={"cutout": hero.cutout.model_dump(), "hero": hero.asset.source})
        elif hosted is None:
            outcome.failures.append({"sku": product.sku, "shot": shot.shot_id, "reason": "no base clip from the provider"})
            continue
        else:
            key = hosted["content_key"]
        for fmt in work.formats:
            ohash = overlay_hash(product, brand, fmt, shot.language)
            existing = ledger.deliverable(product.sku, shot.shot_id, fmt)
            if (not work.force and existing and existing["state"] == "published" and existing["content_key"] == key
                    and existing["overlay_hash"] == ohash):
                outcome.reused.append((shot.shot_id, fmt))
                continue
            name = f"{product.sku}__{shot.shot_id}__{fmt}"
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
                else:
                    assert hosted is not None
                    result = compose_clip(Path(hosted["path"]), hosted.get("product_box"), float(hosted["duration_s"]),
                                          fmt, brand, overlay_for(product, brand), out, quality=work.quality,
                                          metadata=metadata, speech=_own_speech(shot, provider, brand))
            except (OSError, ValueError, av.FFmpegError) as exc:
                outcome.failures.append({"sku": product.sku, "shot": shot.shot_id, "format": fmt,
                                         "reason": f"render failed: {type(exc).__name__}: {exc}"})
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
            }
            if provider == "local":
                row["product_box_min_margin_px"] = _min_margin(boxes, result.width, result.height)
            outcome.composed.append(Composed(sku=product.sku, shot_id=shot.shot_id, format=fmt, path=str(out),
                                             poster=str(poster), row=row))
    return outcome


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
