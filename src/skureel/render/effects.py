"""Material motion on the product sprite: light sweep, cloth ripple, shimmer. Subtle, never tearing the product.

Each effect touches only the product's own rectangle inside the sprite, with OpenCV's SIMD kernels.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from skureel.render.lid import LidOpening
from skureel.render.material import Meniscus, Turntable
from skureel.render.studio import Sprite
from skureel.render.yuv import WHITE_GAIN


class SpriteAnimator:
    def __init__(self, sprite: Sprite, effect: str, key_x: float) -> None:
        self.sprite = sprite
        self.effect = effect
        x0, y0, x1, y1 = (int(round(v)) for v in sprite.product_box)
        h_all, w_all = sprite.rgba.shape[:2]
        self.box = (max(0, x0 - 2), max(0, y0 - 2), min(w_all, x1 + 2), min(h_all, y1 + 2))
        bx0, by0, bx1, by1 = self.box
        h, w = by1 - by0, bx1 - bx0
        alpha = np.ascontiguousarray(sprite.product_alpha[by0:by1, bx0:bx1])
        self.out = sprite.rgba.copy()
        if effect == "light_sweep":
            yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
            direction = -1.0 if key_x > 0 else 1.0
            proj = xx * direction * 0.8 + yy * 0.6
            proj -= proj.min()
            self.proj = (proj / max(1.0, float(proj.max())) * 255).astype(np.uint8)
            self.alpha = alpha
            levels = np.arange(256, dtype=np.float32) / 255
            self.levels = levels
        elif effect == "cloth_ripple":
            yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
            # weight falls to zero at the silhouette, so edges never tear away from the shadow
            inner = cv2.distanceTransform((alpha > 127).astype(np.uint8), cv2.DIST_L2, 5)
            weight = np.clip(inner / max(4.0, min(w, h) * 0.08), 0, 1)
            amplitude = max(0.8, min(w, h) * 0.007)
            k = 2 * math.pi / max(40.0, h * 0.35)
            self.base_x, self.base_y = xx, yy
            self.sin_part = (amplitude * weight * np.sin(yy * k)).astype(np.float32)
            self.cos_part = (amplitude * weight * np.cos(yy * k)).astype(np.float32)
        elif effect == "shimmer":
            rgb = sprite.rgba[by0:by1, bx0:bx1, :3].astype(np.float32)
            highlight = np.clip((rgb.mean(axis=2) - 110) / 145, 0, 1) * (alpha / 255.0)
            yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
            self.pattern_a = (np.sin(xx / 9.0 + yy / 13.0) * highlight * 16).astype(np.float32)
            self.pattern_b = (np.cos(xx / 11.0 - yy / 7.0) * highlight * 16).astype(np.float32)
            self.base = np.ascontiguousarray(sprite.rgba[by0:by1, bx0:bx1]).astype(np.float32)

    def frame(self, t: float) -> np.ndarray:
        """The sprite at normalised time t (0..1), premultiplied RGBA uint8."""
        rgba = self.sprite.rgba
        bx0, by0, bx1, by1 = self.box
        if self.effect == "light_sweep":
            position = -0.25 + 1.5 * t
            lut = (np.exp(-((self.levels - position) / 0.1) ** 2) * 70).astype(np.uint8)
            band = cv2.multiply(cv2.LUT(self.proj, lut), self.alpha, scale=1 / 255.0)
            region = rgba[by0:by1, bx0:bx1]
            lit = cv2.add(np.ascontiguousarray(region[..., :3]), cv2.merge([band, band, band]))
            self.out[by0:by1, bx0:bx1, :3] = cv2.min(lit, cv2.merge([region[..., 3]] * 3))  # stay premultiplied
            return self.out
        if self.effect == "cloth_ripple":
            phase = 2 * math.pi * t * 1.5
            dx = cv2.scaleAdd(self.sin_part, math.cos(phase), cv2.scaleAdd(self.cos_part, math.sin(phase), self.base_x))
            dy = cv2.scaleAdd(self.cos_part, 0.5 * math.cos(phase), cv2.scaleAdd(self.sin_part, -0.5 * math.sin(phase), self.base_y))
            region = np.ascontiguousarray(rgba[by0:by1, bx0:bx1])
            self.out[by0:by1, bx0:bx1] = cv2.remap(region, dx, dy, interpolation=cv2.INTER_LINEAR,
                                                   borderMode=cv2.BORDER_REPLICATE)
            return self.out
        if self.effect == "shimmer":
            phase = 2 * math.pi * t * 2.0
            wave = cv2.addWeighted(self.pattern_a, math.sin(phase), self.pattern_b, math.cos(phase), 0)
            lit = self.base.copy()
            for c in range(3):
                lit[..., c] += wave
            lit[..., :3] = np.minimum(lit[..., :3], lit[..., 3:4])
            self.out[by0:by1, bx0:bx1] = np.clip(lit, 0, 255).astype(np.uint8)
            return self.out
        return rgba


GLASS = {"glass", "crystal"}
SPECULAR = {"gold", "silver", "crystal"}
LIQUID = {"liquid_water", "liquid_oil"}
# products that hold their shape: they turn a little on a turntable (the light on them keeps its own motion)
RIGID = {"leather", "suede", "canvas", "ceramic", "porcelain", "stainless_steel", "brushed_aluminium", "wood",
         "plastic_matte", "plastic_glossy", "rubber", "electronics", "packaging"}
TURNS = {"light_sweep": "turntable_sweep", "none": "turntable"}


def material_motion(effect: str, material: str) -> str:
    """The YUV renderer's motion for a blueprint's effect and material key, so the clip moves the way the words say:
    fabric drapes (a mesh warp under gravity and a breeze), glass carries a narrow refracted glint over a shimmering
    meniscus, a liquid shimmers at its surface line, metal and jewellery catch specular highlights that travel, a
    package's lid lifts (render/lid.py), and a rigid product turns a little on a turntable (render/material.py)."""
    if effect == "cloth_ripple":
        return "drape"
    if effect == "reveal" and material == "packaging":
        return "lid"
    if effect == "light_sweep" and material in SPECULAR:
        return "speculars"
    if effect == "light_sweep" and material in GLASS:
        return "glint"
    if material in RIGID and effect in TURNS:
        return TURNS[effect]
    return effect


def has_meniscus(effect: str, material: str) -> bool:
    return effect in ("glint", "shimmer") and (material in GLASS or material in LIQUID)


class YuvSpriteAnimator:
    """Material motion on the sprite's (h, w, 4) Y/A/U/V layer (render/yuv.py): light, glints, speculars, shimmer and
    the meniscus move luma only (white light has no chroma); the drape remaps all four channels in one call, the
    turntable blends precomputed angles. Each effect touches only the product's rectangle, and stays premultiplied
    (luma never above alpha * 235/255)."""

    def __init__(self, sprite: Sprite, yauv: np.ndarray, effect: str, key_x: float, *, meniscus: bool = False,
                 inside: np.ndarray | None = None) -> None:
        self.yauv, self.effect = yauv, effect
        height, width = yauv.shape[:2]
        x0, y0, x1, y1 = (int(round(v)) for v in sprite.product_box)
        grow = int(max(2, (x1 - x0) * 0.03)) if effect == "drape" else 2  # room for the hem to sway
        x0, y0, x1, y1 = max(0, x0 - grow), max(0, y0 - 2), min(width, x1 + grow), min(height, y1 + grow)
        self.box = (x0, y0, x1, y1)
        h, w = y1 - y0, x1 - x0
        alpha = np.zeros((h, w), np.uint8)  # the layer may be a pixel larger than the sprite (even sizes)
        product_alpha = sprite.product_alpha[y0:y1, x0:x1]
        alpha[: product_alpha.shape[0], : product_alpha.shape[1]] = product_alpha
        self.out = yauv.copy()
        region = yauv[y0:y1, x0:x1]
        self.base_y = np.ascontiguousarray(region[..., 0])
        self.limit = cv2.convertScaleAbs(np.ascontiguousarray(region[..., 1]), alpha=235 / 255)
        self.alpha = alpha
        self.meniscus = Meniscus(self.base_y, alpha) if meniscus else None
        self.turntable = Turntable(np.ascontiguousarray(region), max(1.0, min(4.0, w * 0.006))) \
            if effect.startswith("turntable") else None
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        if effect == "lid":
            self.opening = LidOpening(yauv, (0, 0, width, height), inside)
        if effect in ("light_sweep", "glint", "turntable_sweep"):
            direction = -1.0 if key_x > 0 else 1.0
            proj = xx * direction * (0.45 if effect == "glint" else 0.8) + yy * (0.9 if effect == "glint" else 0.6)
            proj -= proj.min()
            self.proj = (proj / max(1.0, float(proj.max())) * 255).astype(np.uint8)
            self.levels = np.arange(256, dtype=np.float32) / 255
        elif effect == "speculars":
            self._find_speculars(min(w, h), key_x)
        elif effect == "drape":
            # hanging from its top edge: displacement grows toward the hem; a breeze travels down the cloth
            top = float(np.nonzero(alpha.any(axis=1))[0][0]) if alpha.any() else 0.0
            fall = np.clip((yy - top) / max(1.0, h - top), 0, 1) ** 1.5
            # and fades out in the margin around the product, so the cast shadow at the box's edge never tears
            edge = np.clip(np.minimum(np.minimum(xx, w - 1 - xx), h - 1 - yy) / grow, 0, 1)
            self.grid = (xx, yy)
            self.sway = (max(1.0, w * 0.014) * fall * edge).astype(np.float32)
            self.lift = (max(0.5, h * 0.004) * fall * edge).astype(np.float32)
            self.k = 2 * math.pi / max(60.0, h * 0.9)
            self.region = np.ascontiguousarray(region)
        elif effect == "shimmer":
            highlight = np.clip((self.base_y.astype(np.float32) - 110) / 125, 0, 1)
            self.pattern_a = (np.sin(xx / 9.0 + yy / 13.0) * highlight * 16 * WHITE_GAIN).astype(np.float32)
            self.pattern_b = (np.cos(xx / 11.0 - yy / 7.0) * highlight * 16 * WHITE_GAIN).astype(np.float32)
            self.base_f = self.base_y.astype(np.float32)

    def _find_speculars(self, size: int, key_x: float) -> None:
        """The brightest local maxima inside the product, each with a small four-point star that twinkles and
        travels a little across the surface, against the key light, as a polished surface's highlights do."""
        luma = cv2.GaussianBlur(self.base_y, (0, 0), max(1.0, size * 0.01))
        self.inner = cv2.erode((self.alpha > 250).astype(np.uint8), np.ones((5, 5), np.uint8))
        peaks = (luma == cv2.dilate(luma, np.ones((max(3, size // 10) | 1,) * 2, np.uint8))) & (self.inner > 0)
        if self.inner.any():
            peaks &= luma >= np.percentile(luma[self.inner > 0], 90)
        ys, xs = np.nonzero(peaks)
        order = np.argsort(-luma[ys, xs])[:7]
        self.points = [(int(xs[j]), int(ys[j])) for j in order]
        r = max(4, int(size * 0.05))
        grid = np.mgrid[-r : r + 1, -r : r + 1].astype(np.float32)
        dist = np.hypot(grid[0], grid[1])
        rays = np.exp(-np.minimum(np.abs(grid[0]), np.abs(grid[1])) ** 2 / 1.2) * np.clip(1 - dist / r, 0, 1)
        self.star = (np.clip(rays + np.exp(-(dist / (r * 0.18)) ** 2), 0, 1) * 200 * WHITE_GAIN).astype(np.float32)
        self.phases = [(0.37 * j) % 1.0 for j in range(len(self.points))]
        self.travel = (-1.0 if key_x > 0 else 1.0) * size * 0.08, size * 0.03

    def frame(self, t: float) -> np.ndarray:
        """The (h, w, 4) layer at normalised time t; the array is reused between calls."""
        x0, y0, x1, y1 = self.box
        if self.effect == "lid":
            return self.opening.frame(t)
        base, limit = self.base_y, self.limit
        if self.turntable is not None:
            region = self.turntable.frame(t)
            self.out[y0:y1, x0:x1] = region
            if self.effect == "turntable":
                return self.out
            base = np.ascontiguousarray(region[..., 0])
            limit = cv2.convertScaleAbs(np.ascontiguousarray(region[..., 1]), alpha=235 / 255)
        if self.effect in ("light_sweep", "glint", "turntable_sweep"):
            position = -0.25 + 1.5 * t
            if self.effect != "glint":
                curve = np.exp(-((self.levels - position) / 0.1) ** 2) * 70
            else:  # a narrow, bright refraction streak with a faint second one behind it, as through glass
                curve = np.exp(-((self.levels - position) / 0.035) ** 2) * 120 + \
                    np.exp(-((self.levels - position + 0.12) / 0.02) ** 2) * 45
            lut = np.clip(curve * WHITE_GAIN, 0, 255).astype(np.uint8)
            band = cv2.multiply(cv2.LUT(self.proj, lut), self.alpha, scale=1 / 255.0)
            lit = cv2.add(base, band)
        elif self.effect == "speculars":
            lit = self._speculars(t)
        elif self.effect == "drape":
            gx, gy = self.grid
            wave = np.sin(2 * math.pi * t * 0.9 - gy * self.k).astype(np.float32)
            breeze = 0.6 + 0.4 * math.sin(2 * math.pi * t * 0.45)
            dx = cv2.scaleAdd(cv2.multiply(self.sway, wave), breeze, gx)
            dy = cv2.scaleAdd(cv2.multiply(self.lift, cv2.multiply(wave, wave)), -breeze, gy)
            self.out[y0:y1, x0:x1] = cv2.remap(self.region, dx, dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                               borderValue=(0, 0, 0, 0))
            return self.out
        elif self.effect == "shimmer":
            phase = 2 * math.pi * t * 2.0
            wave = cv2.addWeighted(self.pattern_a, math.sin(phase), self.pattern_b, math.cos(phase), 0)
            lit = np.clip(cv2.add(self.base_f, wave), 0, 255).astype(np.uint8)
        elif self.meniscus is not None:
            lit = base.copy()
        else:
            return self.yauv
        if self.meniscus is not None:
            self.meniscus.add(lit, t)
        self.out[y0:y1, x0:x1, 0] = cv2.min(lit, limit)
        return self.out

    def _speculars(self, t: float) -> np.ndarray:
        lit = self.base_y.astype(np.float32)
        r = self.star.shape[0] // 2
        tx, ty = self.travel
        for (px, py), phase in zip(self.points, self.phases, strict=True):
            strength = max(0.0, math.sin(2 * math.pi * (t * 2.2 + phase))) ** 3
            # the highlight slides as the light's angle on the surface changes, and only where the surface is
            fx, fy = px + tx * (t - 0.5), py + ty * math.sin(2 * math.pi * (t + phase))
            cx, cy = int(math.floor(fx)), int(math.floor(fy))
            inside = 0 <= cy < lit.shape[0] and 0 <= cx < lit.shape[1] and self.inner[cy, cx] > 0
            if strength <= 0.01 or not inside:
                continue
            # placed between pixels (a 0.3 px/frame slide snapped to whole pixels would tick)
            star = cv2.warpAffine(self.star, np.array([[1, 0, fx - cx], [0, 1, fy - cy]], np.float32),
                                  self.star.shape[::-1], flags=cv2.INTER_LINEAR)
            sx0, sy0, sx1, sy1 = max(0, cx - r), max(0, cy - r), min(lit.shape[1], cx + r + 1), min(lit.shape[0], cy + r + 1)
            lit[sy0:sy1, sx0:sx1] += star[sy0 - cy + r : sy1 - cy + r, sx0 - cx + r : sx1 - cx + r] * strength
        return np.clip(lit, 0, 255).astype(np.uint8)
