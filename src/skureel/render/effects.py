"""Material motion on the product sprite: light sweep, cloth ripple, shimmer. Subtle, never tearing the product.

Each effect touches only the product's own rectangle inside the sprite, with OpenCV's SIMD kernels.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from skureel.render.studio import Sprite


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
