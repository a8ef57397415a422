"""One preview still per format for a brand kit: a frame of the local renderer's own scene, cached by content.

The still is what a clip of the bundled sample product looks like with this kit: the studio set in the kit's
background colour, the product cut out and lit, the overlay (logo, title, price, call to action in the kit's
colours and font) and the platform safe zone drawn as a thin outline. It is the renderer's real code path
(SceneRenderer + draw_overlay), sampled at a low frame rate so a still costs a fraction of a second.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import os
from pathlib import Path

from skureel.domain import BrandKit, FormatPreset, UnusableInput
from skureel.web.config import StudioConfig, project_root

STILL_HEIGHT = 640  # pixels: enough to read the overlay, small enough for a page of four
_FPS = 4  # frames per second sampled from the scene: the still is one frame of it


def sample_catalog() -> Path:
    return project_root() / "catalogs" / "sample" / "products.xlsx"


def still_path(config: StudioConfig, kit_digest: str, fmt: str) -> Path:
    from skureel.keys import RENDERER_VERSION

    key = hashlib.sha256(f"{kit_digest}:{fmt}:{RENDERER_VERSION}".encode()).hexdigest()[:32]
    return config.data_dir / "cache" / "kit-previews" / f"{key}.jpg"


def preview_still(config: StudioConfig, kit: BrandKit, kit_digest: str, fmt: str) -> Path:
    """The cached still of `kit` in format `fmt` (rendered on first use)."""
    dest = still_path(config, kit_digest, fmt)
    if dest.exists():
        return dest
    data = render_still(config, kit, fmt)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(dest)
    return dest


def render_still(config: StudioConfig, kit: BrandKit, fmt: str) -> bytes:
    from PIL import Image, ImageDraw

    from skureel.catalog import ingest
    from skureel.catalog.images import ImageCache
    from skureel.formats import preset
    from skureel.pipeline.photos import load_photos
    from skureel.pipeline.work import overlay_for
    from skureel.planning.plan import build_plan
    from skureel.render.frames import RenderPlan, SceneRenderer
    from skureel.render.layout import layout_for
    from skureel.render.overlays import draw_overlay, hex_rgb
    from skureel.settings import Settings

    products = [p for p in ingest(sample_catalog()).products if p.images]
    if not products:
        raise UnusableInput("the bundled sample catalog has no product with a photo")
    product = products[0]
    shot = build_plan([product], kit, formats=[fmt]).shots[0].shot
    hero = load_photos(product, ImageCache(Settings(cache_dir=config.data_dir / "cache")), hosted=False).hero
    if hero is None:
        raise UnusableInput("the bundled sample photo could not be cut out")
    spec = _miniature(preset(fmt, kit.safe_zone_overrides), STILL_HEIGHT)
    layout = layout_for(spec)
    plan = RenderPlan(width=spec.width, height=spec.height, fps=_FPS, shot_seconds=shot.duration_s, end_card_seconds=0,
                      background_hex=kit.colours.background, product_region=layout.product,
                      overlay=draw_overlay(spec, layout, kit, overlay_for(product, kit)))
    renderer = SceneRenderer(shot, hero.rgba, hero.mask, hero.cutout.bbox, plan,
                             full_frame=hero.cutout.mode == "full-frame")
    wanted = int(plan.total_frames * 0.6)  # past the reveal, before the move ends: the look of the clip
    frame = next(itertools.islice(renderer.frames(), wanted, None), None)
    if frame is None:
        raise UnusableInput("the renderer produced no frame")
    image = Image.fromarray(frame[:, :, :3]).convert("RGB")
    draw = ImageDraw.Draw(image)
    x0, y0, x1, y1 = layout.safe
    draw.rectangle((x0, y0, x1, y1), outline=hex_rgb(kit.colours.primary), width=max(2, spec.width // 360))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _miniature(spec: FormatPreset, height: int) -> FormatPreset:
    """The format at `height` pixels: layout, text sizes and safe zone all follow the frame size, so the small
    still is the full frame in miniature at a ninth of the pixels to render."""
    scale = height / spec.height
    zone = spec.safe_zone
    return spec.model_copy(update={
        "width": int(round(spec.width * scale / 2)) * 2, "height": height,
        "safe_zone": zone.model_copy(update={k: int(round(getattr(zone, k) * scale))
                                             for k in ("top", "bottom", "left", "right")})})
