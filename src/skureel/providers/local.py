"""The embedded local renderer behind the same protocol, and a plain base-clip renderer the fake servers use
to answer with real MP4s."""

from __future__ import annotations

import hashlib
import io
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from skureel.domain import AudioSpec, CameraSpec, LensSpec, LightingSpec, ShotSpec
from skureel.imageio import decode_rgba
from skureel.render.audio import silence
from skureel.render.cutout import analyse
from skureel.render.encode import encode_mp4
from skureel.render.frames import RenderPlan, SceneRenderer


def _default_image() -> bytes:
    img = Image.new("RGB", (600, 600), (255, 255, 255))
    arr = np.asarray(img).copy()
    arr[150:450, 200:400] = (40, 90, 160)
    out = io.BytesIO()
    Image.fromarray(arr).save(out, format="PNG")
    return out.getvalue()


def _ambience(seconds: float, rate: int = 48_000) -> np.ndarray:
    """Low-passed noise around -30 dBFS: audible, deterministic, clearly not music."""
    rng = np.random.default_rng(11)
    noise = rng.standard_normal((int(round(seconds * rate)), 2)).astype(np.float32)
    kernel = np.ones(48, np.float32) / 48  # a crude low-pass: room tone, not hiss
    smooth = np.stack([np.convolve(noise[:, c], kernel, mode="same") for c in range(2)], axis=1)
    return (smooth * np.float32(0.03 / max(1e-6, float(np.abs(smooth).max())))).astype(np.float32)


@lru_cache(maxsize=16)
def render_base_clip(image: bytes | None, width: int, height: int, seconds: float = 2.0, *, sound: bool = False) -> bytes:
    """A plain studio clip of the product (no overlays, no end card): what an image-to-video model returns;
    with `sound`, a quiet room-tone-like noise bed, as a model's native ambience would be."""
    data = image or _default_image()
    rgba = np.asarray(decode_rgba(data)[0])
    cut, mask = analyse(rgba, has_alpha=True)
    if cut.mode == "placeholder":
        mask = np.full(rgba.shape[:2], 255, np.uint8)
    shot = ShotSpec(
        sku="fake", shot_id="hero", kind="hero", subject="product", action="rests", material="generic",
        material_physics="", environment="", lens=LensSpec(name="50mm", focal_length_mm=50, aperture="f/2.8"),
        lighting=LightingSpec(setup="softbox upper left", direction="upper left", quality="soft", colour_temperature_k=5200),
        camera=CameraSpec(move="slow push-in", zoom_start=1.0, zoom_end=1.1), duration_s=seconds, mood="", audio=AudioSpec(),
        negative_prompt="", seed=int(hashlib.sha256(data).hexdigest()[:6], 16), motion_effect="light_sweep",
    )
    margin = int(min(width, height) * 0.1)
    plan = RenderPlan(width=width, height=height, fps=24, shot_seconds=seconds, end_card_seconds=0.0,
                      background_hex="#e9e4dc", product_region=(margin, margin, width - margin, height - margin))
    renderer = SceneRenderer(shot, rgba, mask, cut.bbox, plan, full_frame=cut.mode == "full-frame")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.mp4"
        track = _ambience(seconds) if sound else silence(seconds)
        encode_mp4(path, renderer.frames(), width=width, height=height, fps=24, audio=track, quality="draft")
        return path.read_bytes()
