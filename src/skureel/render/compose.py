"""Composition: one shot into one social format, with overlays, end card and audio, encoded and probed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skureel.domain import BrandKit, ImageAsset, ShotSpec
from skureel.formats import preset as format_preset
from skureel.imageio import DEFAULT_MAX_PIXELS, open_rgba
from skureel.render.audio import decode_audio, fit_length, normalise, silence, under_bed
from skureel.render.clip_source import ClipReframer
from skureel.render.cutout import Cutout, analyse
from skureel.render.effects import material_motion
from skureel.render.encode import encode_mp4
from skureel.render.frames import RenderPlan, SceneRenderer, end_card_frames, overlay_patches
from skureel.render.layout import layout_for
from skureel.render.overlays import OverlayText, draw_end_card, draw_overlay
from skureel.render.presenter import CaptionLayer
from skureel.render.probe import FrameRuns, ProbeResult, probe
from skureel.speech import Speech

FPS = 30


@dataclass
class Prepared:
    """A packshot ready to render: the decoded image, its alpha mask and the cut-out decision."""

    asset: ImageAsset
    rgba: np.ndarray
    mask: np.ndarray
    cutout: Cutout
    second: Prepared | None = None  # the SKU's next-best photo: what a package shows inside as its lid lifts


def inside_photo(shot: ShotSpec, hero: Prepared) -> Prepared | None:
    """The photo an opening package reveals, when the shot opens one and the SKU has a second image."""
    if hero.second is None or material_motion(shot.motion_effect, shot.material) != "lid":
        return None
    return hero.second


def prepare(asset: ImageAsset) -> Prepared:
    # the cache's decoded PNG, already checked against the settings' limit when it was made
    rgba = np.asarray(open_rgba(asset.path, max_pixels=max(DEFAULT_MAX_PIXELS, asset.width * asset.height)))
    cutout, mask = analyse(rgba, asset.has_alpha)
    return Prepared(asset=asset, rgba=rgba, mask=mask, cutout=cutout)


def choose_hero(candidates: list[Prepared]) -> tuple[Prepared | None, list[str]]:
    """The image that looks most like a packshot; placeholders are reported, never animated."""
    notes: list[str] = []
    usable = []
    for item in candidates:
        if item.cutout.mode == "placeholder":
            notes.append(f"{Path(item.asset.source).name}: {item.cutout.reason}")
        else:
            usable.append(item)
    if not usable:
        return None, notes
    best = max(usable, key=lambda p: (p.cutout.packshot_score, -candidates.index(p)))
    return best, notes


def music_track(brand: BrandKit, seconds: float) -> np.ndarray:
    path = brand.asset(brand.music)
    samples = decode_audio(path) if path else None
    if samples is None:
        return silence(seconds)
    return normalise(fit_length(samples, seconds))


def overlay_text_for(title: str, price: str | None, original: str | None, brand: BrandKit) -> OverlayText:
    return OverlayText(title=title, price=price, original_price=original, call_to_action=brand.end_card.call_to_action)


def render_local(shot: ShotSpec, hero: Prepared, format_name: str, brand: BrandKit, text: OverlayText, out: Path, *,
                 quality: str = "final", metadata: dict[str, str] | None = None, audio: np.ndarray | None = None,
                 check: bool = True) -> tuple[ProbeResult, list[tuple[float, float, float, float]]]:
    """Render the shot natively at the format's size (no second resample of a base clip) and probe it."""
    fmt = format_preset(format_name, brand.safe_zone_overrides)
    layout = layout_for(fmt)
    end_s = brand.end_card.duration_s
    plan = RenderPlan(width=fmt.width, height=fmt.height, fps=FPS, shot_seconds=shot.duration_s, end_card_seconds=end_s,
                      background_hex=brand.colours.background, product_region=layout.product,
                      overlay=draw_overlay(fmt, layout, brand, text), end_card=draw_end_card(fmt, layout, brand))
    second = inside_photo(shot, hero)
    inside = None
    if second is not None:
        x0, y0, x1, y1 = second.cutout.bbox
        inside = np.ascontiguousarray(second.rgba[y0:y1, x0:x1, :3])
    renderer = SceneRenderer(shot, hero.rgba, hero.mask, hero.cutout.bbox, plan,
                             full_frame=hero.cutout.mode == "full-frame", inside=inside)
    total = plan.total_frames / FPS
    track = audio if audio is not None else music_track(brand, total)
    # black and frozen runs are measured on the frames as they are encoded: the probe then only counts them
    runs = FrameRuns(int(round((total - end_s) * FPS)) if check else 0)
    encode_mp4(out, runs.watch(renderer.yuv_frames()), width=fmt.width, height=fmt.height, fps=FPS, audio=track,
               metadata=metadata, quality=quality)
    result = probe(out, width=fmt.width, height=fmt.height, fps=FPS, duration_s=total, end_card_s=end_s,
                   expect_sound=bool(np.abs(track).max() > 0), check_frames=check, watched=runs)
    return result, plan.product_boxes


def clip_seconds(path: Path) -> float:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if stream.duration is not None and stream.time_base is not None:
            return float(stream.duration * stream.time_base)
        return float(container.duration or 0) / 1_000_000


def compose_clip(clip: Path, product_box: tuple[float, float, float, float] | None, seconds: float, format_name: str,
                 brand: BrandKit, text: OverlayText, out: Path, *, quality: str = "final",
                 metadata: dict[str, str] | None = None, speech: Speech | None = None,
                 native_audio: bool = False) -> ProbeResult:
    """A hosted provider's base clip reframed into one format with the same overlays, end card and audio rules."""
    fmt = format_preset(format_name, brand.safe_zone_overrides)
    layout = layout_for(fmt)
    end_s = brand.end_card.duration_s
    seconds = min(seconds, clip_seconds(clip))  # never pad a short clip with a frozen frame
    plan = RenderPlan(width=fmt.width, height=fmt.height, fps=FPS, shot_seconds=seconds, end_card_seconds=end_s,
                      background_hex=brand.colours.background, product_region=layout.product,
                      end_card=draw_end_card(fmt, layout, brand))
    patches = overlay_patches(draw_overlay(fmt, layout, brand, text))
    source = ClipReframer(clip, fmt.width, fmt.height, FPS, seconds, product_box)
    captions = None
    if speech is not None:  # an avatar spoken with our own voice: captions follow its word timings
        px0, py0, px1, py1 = layout.product
        band = int((py1 - py0) * 0.16)
        captions = CaptionLayer((layout.safe[0], py1 - band, layout.safe[2], py1), speech, brand, lead_s=0.0)
    total = plan.total_frames / FPS
    provider_audio = decode_audio(clip)
    if provider_audio is not None and np.abs(provider_audio).max() <= 1e-4:
        provider_audio = None  # a silent track is no audio
    bed = music_track(brand, total)
    if provider_audio is None:
        track = bed
    elif native_audio and np.abs(bed).max() > 0:  # the model's own ambience and foley, ducked under our music bed
        track = under_bed(bed, fit_length(provider_audio, total))
    else:  # speech from an avatar model, or no music bed: the provider's track alone
        track = normalise(fit_length(provider_audio, total))

    def frames() -> Iterator[np.ndarray]:
        last = None
        for i, frame in enumerate(source.frames()):
            frame = frame.copy()
            if captions is not None:
                captions(frame, i / FPS)
            opacity = min(1.0, max(0.0, (i - 6) / 18))
            for patch in patches:
                patch.draw(frame, opacity)
            last = frame
            yield frame
        yield from end_card_frames(plan, last, plan.total_frames - int(round(seconds * FPS)))

    encode_mp4(out, frames(), width=fmt.width, height=fmt.height, fps=FPS, audio=track, metadata=metadata, quality=quality)
    return probe(out, width=fmt.width, height=fmt.height, fps=FPS, duration_s=total, end_card_s=end_s,
                 expect_sound=bool(np.abs(track).max() > 0))
