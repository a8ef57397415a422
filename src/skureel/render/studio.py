"""Layers that do not change per frame: the lit studio set and the product sprite with its shadows."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from skureel.domain import LightingSpec
from skureel.render.overlays import hex_rgb


def kelvin_tint(kelvin: int) -> np.ndarray:
    """A gentle RGB multiplier: warm below ~5000K, cool above ~6000K."""
    warmth = float(np.clip((5500 - kelvin) / 2800, -1, 1))
    return np.array([1 + 0.07 * warmth, 1 + 0.01 * warmth, 1 - 0.09 * warmth], np.float32)


def is_dark_setup(lighting: LightingSpec) -> bool:
    return any(word in lighting.setup for word in ("low-key", "neon", "rim"))


def studio_set(width: int, height: int, colour: str, lighting: LightingSpec, floor_y: float, margin: int = 0, *,
               horizon: float | None = None, contact_x: float = 0.5) -> np.ndarray:
    """A studio sweep in the brand colour, lit from the key light's side; `margin` extra pixels for parallax.

    `floor_y` is where the product stands (fraction of the height), `horizon` where the wall curves into the floor
    (a little behind the product, by default at `floor_y`). Every term is a smooth function of the position: the wall
    eases into the floor through a cove (a step there reads as a hard-edged panel behind the product), the floor
    falls off toward the viewer, and a soft pool of light lies on it around the product's base, so the frame's
    lower part is a surface the product stands on.
    """
    w = width + 2 * margin
    base = np.array(hex_rgb(colour), np.float32) / 255.0
    if is_dark_setup(lighting):
        base = base * 0.38
    base = np.clip(base * kelvin_tint(lighting.colour_temperature_k), 0, 1)
    horizon = min(floor_y, max(0.05, floor_y if horizon is None else horizon))
    # every term is smooth, so the light is computed on a grid 4x coarser and resized (about 15x cheaper)
    sh, sw = max(2, height // 4), max(2, w // 4)
    ys = ((np.arange(sh, dtype=np.float32) + 0.5) / sh)[:, None]
    xs = (((np.arange(sw, dtype=np.float32) + 0.5) / sw * w - margin) / width)[None, :]
    wall = 0.93 + 0.07 * (ys / horizon)
    depth = np.clip((ys - horizon) / max(1e-3, 1 - horizon), 0, 1)
    floor = 1.0 + 0.02 * np.exp(-((depth / 0.08) ** 2)) - 0.17 * depth**1.2
    band = 0.035
    cove = np.clip((ys - horizon + band) / (2 * band), 0, 1)
    cove = cove * cove * (3 - 2 * cove)
    sweep = wall * (1 - cove) + floor * cove
    kx, ky = 0.5 + lighting.key_x * 0.38, 0.36 + lighting.key_y * 0.22
    span = max(width, height)
    distance = np.sqrt(((xs - kx) * width / span) ** 2 + ((ys - ky) * height / span) ** 2)
    falloff = 0.55 if lighting.quality == "soft" else 0.32
    pool = (0.16 if lighting.quality == "hard" else 0.11) * np.exp(-((distance / falloff) ** 2))
    # the light that falls on the floor around the product's base: a flat ellipse, as the floor recedes
    spot = np.exp(-(((xs - contact_x) * width / (0.42 * min(width, height))) ** 2
                    + ((ys - floor_y) * height / (0.07 * height + 0.05 * width)) ** 2))
    pool = pool + 0.05 * spot * cove
    vignette = 1 - 0.14 * (((xs - 0.5) * 2) ** 2 + ((ys - 0.5) * 2) ** 2) / 2
    light = (sweep + pool) * vignette
    img = np.clip(base[None, None, :] * light[..., None], 0, 1)
    if "neon" in lighting.setup:
        img[..., 0] += 0.25 * np.clip(1 - xs * 3, 0, 1)  # magenta from the left
        img[..., 2] += 0.25 * np.clip(1 - xs * 3, 0, 1)
        img[..., 1] += 0.18 * np.clip(xs * 3 - 2, 0, 1)  # cyan from the right
        img[..., 2] += 0.22 * np.clip(xs * 3 - 2, 0, 1)
    img = cv2.resize(np.ascontiguousarray(img, dtype=np.float32), (w, height), interpolation=cv2.INTER_LINEAR)
    return np.asarray((np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8))


def soft_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """A wide Gaussian blur computed at reduced size (a shadow has no detail to lose): a 30 px sigma costs
    ~70 ms at full size per shadow and clip, ~3 ms this way."""
    factor = int(sigma // 3)
    if factor < 2:
        return np.asarray(cv2.GaussianBlur(image, (0, 0), sigma))
    h, w = image.shape[:2]
    small = cv2.resize(image, (max(1, w // factor), max(1, h // factor)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / factor)
    return np.asarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR))


@dataclass
class Sprite:
    """Premultiplied RGBA product layer (with shadows) and where the product sits inside it."""

    rgba: np.ndarray  # uint8, premultiplied
    product_box: tuple[float, float, float, float]  # x0, y0, x1, y1 of the product within the sprite
    product_alpha: np.ndarray  # uint8 alpha of the product alone (no shadow), for effects

    @property
    def centre(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.product_box
        return (x0 + x1) / 2, (y0 + y1) / 2


def build_sprite(rgba: np.ndarray, mask: np.ndarray, bbox: tuple[int, int, int, int], scale: float,
                 lighting: LightingSpec, shadows: bool = True, reflection: float = 0.0) -> Sprite:
    """Crop to the product, scale once (the only full resample), relight, and add contact and cast shadows and
    (`reflection` > 0: its strength at the contact line) a floor reflection fading out under the product."""
    x0, y0, x1, y1 = bbox
    crop: np.ndarray = rgba[y0:y1, x0:x1, :3].astype(np.float32)
    alpha: np.ndarray = mask[y0:y1, x0:x1].astype(np.float32)
    w = max(2, int(round((x1 - x0) * scale)))
    h = max(2, int(round((y1 - y0) * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LANCZOS4
    crop = cv2.resize(crop, (w, h), interpolation=interp)
    alpha = np.clip(cv2.resize(alpha, (w, h), interpolation=interp), 0, 255)
    # relight: brighter toward the key light, subtle so the product's own look survives
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    xn, yn = xx / w * 2 - 1, yy / h * 2 - 1
    gain = 1 + 0.07 * (-(lighting.key_x * xn) - lighting.key_y * yn) / 2
    crop = np.clip(crop * gain[..., None] * kelvin_tint(lighting.colour_temperature_k)[None, None, :] ** 0.3, 0, 255)
    hard = lighting.quality == "hard"
    squash = 0.14 if lighting.key_y < -0.8 else 0.24
    sigma = max(2.0, h * (0.012 if hard else 0.04))
    # the shadow's sideways throw, kept within half the product's width: every pixel of the sprite is warped on
    # every frame, and a tall product's full throw would double the sprite (the look barely changes: it is soft)
    throw = min(abs(lighting.key_x) * 0.9 * h, 0.5 * w) if shadows else 0.0
    shear = float(np.sign(lighting.key_x)) * throw / h
    # room for the whole cast shadow, blur tails included: a shadow cut by the canvas shows as a hard-edged panel
    tail = int(3 * sigma) + 4
    pad_left = int(max(w * 0.1, (throw if shear > 0 else 0.0) + tail))
    pad_right = int(max(w * 0.1, (throw if shear < 0 else 0.0) + tail))
    pad_top, pad_bottom = int(h * 0.05), int(max(h * 0.35, tail))
    canvas_w, canvas_h = w + pad_left + pad_right, h + pad_top + pad_bottom
    shadow = np.zeros((canvas_h, canvas_w), np.float32)
    if shadows:
        # cast shadow: the silhouette laid on the floor, away from the light
        m = np.array([[1, shear, pad_left - shear * h], [0, squash, pad_top + h - squash * h]], dtype=np.float32)
        cast = cv2.warpAffine(alpha, m, (canvas_w, canvas_h), flags=cv2.INTER_LINEAR)
        cast = soft_blur(cast, sigma)
        shadow = np.maximum(shadow, cast * (0.42 if hard else 0.28))
        contact = np.zeros_like(shadow)
        cv2.ellipse(contact, (pad_left + w // 2, pad_top + h - 2), (int(w * 0.42), max(2, int(h * 0.035))), 0, 0, 360, 255.0, -1)
        contact = soft_blur(contact, max(2.0, h * 0.02))
        shadow = np.maximum(shadow, contact * 0.45)
        shadow = np.clip(shadow - 1.0, 0, 255)  # no faint rectangle of alpha 1 where the blur's tails end
    a = alpha / 255.0
    shadow_a = shadow / 255.0
    total_a = shadow_a.copy()
    rgb = np.zeros((canvas_h, canvas_w, 3), np.float32)
    if reflection > 0 and shadows:
        rh = min(pad_bottom, int(h * 0.2))
        fade = (reflection * np.clip(1 - np.arange(rh, dtype=np.float32) / rh, 0, 1) ** 1.6)[:, None]
        ra = cv2.GaussianBlur(a[::-1][:rh], (0, 0), 1.2) * fade
        rrgb = cv2.GaussianBlur(np.ascontiguousarray(crop[::-1][:rh]), (0, 0), 1.2) * ra[..., None]
        rs = (slice(pad_top + h, pad_top + h + rh), slice(pad_left, pad_left + w))
        total_a[rs] = ra + shadow_a[rs] * (1 - ra)
        rgb[rs] = rrgb  # premultiplied; the shadow under it is black so adds nothing
    sl = (slice(pad_top, pad_top + h), slice(pad_left, pad_left + w))
    total_a[sl] = a + shadow_a[sl] * (1 - a)
    rgb[sl] = crop * a[..., None]  # premultiplied; the shadow is black so adds nothing to rgb
    out = np.zeros((canvas_h, canvas_w, 4), np.float32)
    out[..., :3] = rgb
    out[..., 3] = total_a * 255
    product_alpha = np.zeros((canvas_h, canvas_w), np.uint8)
    product_alpha[sl] = alpha.astype(np.uint8)
    rgba = (out + 0.5).clip(0, 255).astype(np.uint8)
    # trim the empty margin left for the shadow's shear: every pixel here is warped on every frame
    ys, xs = np.nonzero(rgba[..., 3] > 0)
    cx0, cy0 = max(0, int(xs.min()) - 2), max(0, int(ys.min()) - 2)
    cx1, cy1 = min(canvas_w, int(xs.max()) + 3), min(canvas_h, int(ys.max()) + 3)
    return Sprite(rgba=np.ascontiguousarray(rgba[cy0:cy1, cx0:cx1]),
                  product_box=(float(pad_left - cx0), float(pad_top - cy0), float(pad_left + w - cx0), float(pad_top + h - cy0)),
                  product_alpha=np.ascontiguousarray(product_alpha[cy0:cy1, cx0:cx1]))
