"""Material motion that needs more than a light on the surface: a rigid product's turntable parallax and the
meniscus shimmer of a liquid in glass. Both work on the sprite's (h, w, 4) premultiplied Y/A/U/V layer.

Turntable: a depth map derived from shading (the silhouette's distance field, bulged like a pillow, plus the
luma: lit faces are the near ones) displaces the product's texture sideways in proportion to depth, so near parts
slide more than the silhouette, which stays anchored: the product seems to turn a few degrees on a turntable. The
displaced layer is precomputed at a handful of angles at load time; each frame blends the two nearest (one
addWeighted over the product's box, ~0.4 ms at 1080x1920, instead of a remap and its maps per frame), which for
neighbours under a pixel apart is the same as interpolating the displacement.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from skureel.render.lid import lid_line
from skureel.render.yuv import WHITE_GAIN

TURN_KEYS = 9  # angles precomputed; neighbours stay under a pixel apart for amplitudes up to 4 px each way


def shading_depth(luma: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """0 at the silhouette, toward 1 on the product's nearest, most lit parts; smooth (no texture in it)."""
    inside = (alpha > 127).astype(np.uint8)
    distance = cv2.distanceTransform(inside, cv2.DIST_L2, 5)
    bulge = np.sqrt(distance / max(1.0, float(distance.max())))
    size = max(3.0, min(luma.shape) * 0.06)
    lit = cv2.GaussianBlur(luma.astype(np.float32), (0, 0), size) / 235.0
    depth = cv2.GaussianBlur(bulge * (0.75 + 0.25 * np.clip(lit, 0, 1)), (0, 0), size * 0.5)
    depth *= np.clip((distance - 1.0) / 4.0, 0, 1)  # the silhouette itself never moves (an edge moved 0.3 px shows)
    return np.asarray(depth / max(1e-3, float(depth.max())), np.float32)


def turn(t: float) -> float:
    """The turn's position, -1 -> 1 over the shot, easing in and out (a slow quarter turn of a turntable)."""
    return -math.cos(math.pi * min(1.0, max(0.0, t)))


class Turntable:
    """The region (h, w, 4) at a few turntable angles; frame(t) blends the two nearest."""

    def __init__(self, region: np.ndarray, amplitude: float) -> None:
        h, w = region.shape[:2]
        depth = shading_depth(region[..., 0], region[..., 1])
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        self.keys = []
        for k in range(TURN_KEYS):
            s = -1 + 2 * k / (TURN_KEYS - 1)
            self.keys.append(cv2.remap(region, xx - depth * (amplitude * s), yy, cv2.INTER_LINEAR,
                                       borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0)))
        self.out = np.empty_like(region)

    def frame(self, t: float) -> np.ndarray:
        position = (turn(t) + 1) / 2 * (TURN_KEYS - 1)
        k = min(TURN_KEYS - 2, int(position))
        weight = position - k
        cv2.addWeighted(self.keys[k], 1 - weight, self.keys[k + 1], weight, 0, dst=self.out)
        return self.out


class Meniscus:
    """A liquid's surface line inside glass: a thin bright band that curls up at the walls and ripples."""

    def __init__(self, luma: np.ndarray, alpha: np.ndarray) -> None:
        rows = np.nonzero(alpha.max(axis=1) > 200)[0]
        top, bottom = (int(rows[0]), int(rows[-1]) + 1) if rows.size else (0, luma.shape[0])
        # a fill line sits below the shoulder and cap: the strongest horizontal edge 20-60 % down, else 30 %
        self.line = lid_line(luma, alpha, top, bottom, span=(0.2, 0.6), fallback=0.3)
        height = bottom - top
        self.reach = max(3, int(height * 0.012))
        lo, hi = max(0, self.line - 4 * self.reach), min(luma.shape[0], self.line + 4 * self.reach)
        self.rows = (lo, hi)
        band_alpha = alpha[lo:hi].astype(np.float32) / 255.0
        inner = cv2.erode((alpha[lo:hi] > 200).astype(np.uint8), np.ones((1, 5), np.uint8)).astype(np.float32)
        cols = np.nonzero(inner.any(axis=0))[0]
        x0, x1 = (int(cols[0]), int(cols[-1]) + 1) if cols.size else (0, luma.shape[1])
        xs = np.arange(luma.shape[1], dtype=np.float32)
        # the meniscus climbs the glass a little at both walls
        wall = np.clip(1 - np.minimum(xs - x0, x1 - xs) / max(1.0, (x1 - x0) * 0.12), 0, 1) ** 2
        self.curl = (self.line - lo - 2.5 * self.reach * wall)[None, :].astype(np.float32)
        self.k = 2 * math.pi / max(12.0, (x1 - x0) * 0.18)
        self.xs = xs[None, :]
        self.yy = np.arange(hi - lo, dtype=np.float32)[:, None]
        self.weight = (band_alpha * inner * 70 * WHITE_GAIN).astype(np.float32)

    def add(self, luma: np.ndarray, t: float) -> None:
        """Adds the band at time t into the (product region's) luma, in place; callers clamp to alpha."""
        lo, hi = self.rows
        phase = 2 * math.pi * t * 1.3
        surface = self.curl + self.reach * 0.5 * np.sin(self.xs * self.k - phase)
        sparkle = 0.55 + 0.45 * np.sin(self.xs * self.k * 2.7 + phase * 1.9)
        band = np.exp(-(((self.yy - surface) / (self.reach * 0.7)) ** 2)) * sparkle * self.weight
        luma[lo:hi] = np.clip(luma[lo:hi].astype(np.float32) + band, 0, 255).astype(np.uint8)
