"""Avatar rows on the local provider: a presenter slide (no lip sync), labelled as such in the manifest."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from skureel.catalog.images import ImageCache, ImageProblem
from skureel.formats import preset as format_preset
from skureel.keys import digest, overlay_hash
from skureel.ledger import Ledger
from skureel.naming import clip_stem
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
from skureel.render.audio import decode_audio
from skureel.render.compose import FPS, Prepared, prepare
from skureel.render.encode import encode_mp4
from skureel.render.frames import RenderPlan, SceneRenderer
from skureel.render.layout import layout_for
from skureel.render.overlays import draw_end_card, draw_overlay
from skureel.render.presenter import LEAD_S, PresenterLayer, voice_track
from skureel.render.probe import probe
from skureel.speech import SpeechUnavailable, synthesize


def produce_presenter(work: SkuWork, item: ShotWork, hero: Prepared | None, outcome: SkuOutcome, ledger: Ledger,
                      staging: Path) -> None:
    product, brand, shot = work.product, work.brand, item.shot
    script = shot.audio.voice_over or ""
    voice = voice_for(shot.language, brand.voice)
    try:
        speech = synthesize(script, voice)
    except SpeechUnavailable as exc:
        outcome.failures.append({"sku": product.sku, "shot": shot.shot_id, "reason": str(exc)})
        return
    presenter: Prepared | None = None
    if shot.presenter_image:
        try:
            presenter = prepare(ImageCache(work.settings).load(shot.presenter_image))
        except ImageProblem as exc:
            outcome.notes.append(str(exc))
    if presenter is None or presenter.cutout.mode == "placeholder":
        outcome.failures.append({"sku": product.sku, "shot": shot.shot_id,
                                 "reason": "avatar row needs a presenter photo (brand kit presenter_photo or a Presenter column)"})
        return
    if hero is None:
        outcome.failures.append({"sku": product.sku, "shot": shot.shot_id, "reason": "no usable product image"})
        return
    seconds = round(LEAD_S + speech.duration_s + 0.7, 2)
    shot = shot.model_copy(update={"duration_s": seconds})
    key = digest({"script": script, "voice": voice, "presenter": presenter.asset.sha256, "hero": hero.asset.sha256,
                  "look": brand.look_hash_fields(), "shot": shot.model_dump(mode="json", exclude={"title", "subject"})})[:40]
    ledger.record_intent(key, sku=product.sku, shot_id=shot.shot_id, provider="local", model="presenter-slide",
                         seed=shot.seed, blueprint_hash=shot.blueprint_hash(), input_fingerprint=hero.asset.sha256, cost_usd=0.0)
    ledger.update_job(key, state="done", clip_path=hero.asset.path, clip_sha256=hero.asset.sha256,
                      info={"voice": voice, "speech_s": speech.duration_s, "words": len(speech.words)})
    music_path = brand.asset(brand.music)
    music = decode_audio(music_path) if music_path else None
    for fmt in work.formats:
        ohash = overlay_hash(product, brand, fmt, shot.language)
        existing = ledger.deliverable(product.sku, shot.shot_id, fmt)
        if not work.force and existing and existing["state"] == "published" and existing["content_key"] == key \
                and existing["overlay_hash"] == ohash:
            outcome.reused.append((shot.shot_id, fmt))
            continue
        spec = format_preset(fmt, brand.safe_zone_overrides)
        layout = layout_for(spec)
        px0, py0, px1, py1 = layout.product
        caption_h = int((py1 - py0) * 0.18)
        caption_box = (layout.safe[0], py1 - caption_h, layout.safe[2], py1)
        split = px0 + int((px1 - px0) * 0.5)
        presenter_region = (px0, py0, split, py1 - caption_h - 10)
        product_region = (split, py0 + int((py1 - py0) * 0.15), px1, py1 - caption_h - 10)
        end_s = brand.end_card.duration_s
        plan = RenderPlan(width=spec.width, height=spec.height, fps=FPS, shot_seconds=seconds, end_card_seconds=end_s,
                          background_hex=brand.colours.background, product_region=product_region,
                          overlay=draw_overlay(spec, layout, brand, overlay_for(product, brand)),
                          end_card=draw_end_card(spec, layout, brand))
        layer = PresenterLayer(presenter.rgba, presenter.mask, presenter.cutout.bbox, presenter_region, caption_box,
                               speech, brand, shot.lighting)
        plan.decorate_yuv = layer.draw_yuv  # drawn straight into yuv420p planes, as the product clips are
        renderer = SceneRenderer(shot, hero.rgba, hero.mask, hero.cutout.bbox, plan,
                                 full_frame=hero.cutout.mode == "full-frame")
        total = plan.total_frames / FPS
        track = voice_track(speech, music, total)
        name = clip_stem(product.sku, shot.shot_id, fmt)
        out = staging / f"{name}.mp4"
        tags = tags_for(product, brand, shot) | {"kind": "avatar", "voice": voice, "language": shot.language or brand.locale,
                                                  "script_hash": hashlib.sha256(script.encode()).hexdigest()[:12]}
        encode_mp4(out, renderer.yuv_frames(), width=spec.width, height=spec.height, fps=FPS, audio=track, quality=work.quality,
                   metadata={"title": product.title[:200], "comment": f"skureel content_key={key}; presenter slide, no lip sync",
                             "artist": brand.name, "description": script[:500]})
        result = probe(out, width=spec.width, height=spec.height, fps=FPS, duration_s=total, end_card_s=end_s)
        if not result.ok:
            outcome.failures.append({"sku": product.sku, "shot": shot.shot_id, "format": fmt,
                                     "reason": "quality check failed: " + "; ".join(result.problems)})
            continue
        poster = staging / f"{name}.jpg"
        save_poster(out, seconds * 0.5, poster)
        row = {
            "sku": product.sku, "title": product.title, "shot": shot.shot_id, "kind": "avatar", "format": fmt,
            "platforms": spec.platforms, "width": result.width, "height": result.height,
            "duration_s": round(result.duration_s, 3), "fps": result.fps, "provider": "local", "model": "presenter-slide",
            "seed": shot.seed, "prompt": script, "content_key": key, "input_fingerprint": hero.asset.sha256,
            "overlay_hash": ohash, "cost_usd": 0.0, "sha256": sha256_file(out), "bytes": out.stat().st_size,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"), "tags": tags, "ai_generated": False,
            "lufs_i": result.lufs_i, "true_peak_db": result.true_peak_db, "description": script,
            "keywords": [v for v in tags.values() if v], "variant_keys": [v.sku for v in product.variants],
            "label": "presenter slide (no lip sync), synthetic voice", "voice": voice,
            "speech_start_s": LEAD_S, "speech_end_s": round(LEAD_S + speech.duration_s, 3),
            "word_timings": [(w.text, round(w.start_s + LEAD_S, 3), round(w.end_s + LEAD_S, 3)) for w in speech.words],
        }
        outcome.composed.append(Composed(sku=product.sku, shot_id=shot.shot_id, format=fmt, path=str(out),
                                         poster=str(poster), row=row))
