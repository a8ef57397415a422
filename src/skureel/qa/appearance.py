"""Colour science for the gate: L*a*b* conversion, dominant colours, CIEDE2000 and colour temperature."""

from __future__ import annotations

import cv2
import numpy as np
from skimage.color import deltaE_ciede2000


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """uint8 sRGB (any shape ending in 3) to CIE L*a*b* (D65), float32: L in 0-100."""
    flat = rgb.reshape(-1, 1, 3).astype(np.float32) / 255.0
    return np.asarray(cv2.cvtColor(flat, cv2.COLOR_RGB2Lab), np.float32).reshape(*rgb.shape[:-1], 3)


def dominant(lab: np.ndarray, k: int, max_points: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    """k dominant colours (k x 3 L*a*b*) and their shares, by k-means; deterministic (fixed seed, even stride)."""
    points = lab.reshape(-1, 3).astype(np.float32)
    if len(points) > max_points:
        points = points[:: len(points) // max_points + 1]
    k = max(1, min(k, len(points)))
    cv2.setRNGSeed(12345)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    _, labels, centres = cv2.kmeans(points, k, None, criteria, 2, cv2.KMEANS_PP_CENTERS)  # type: ignore[call-overload]
    shares = np.bincount(labels.ravel(), minlength=k).astype(np.float64)
    return np.asarray(centres, np.float64), shares / max(1.0, shares.sum())


def palette_distance(ref: tuple[np.ndarray, np.ndarray], other: tuple[np.ndarray, np.ndarray]) -> float:
    """Share-weighted CIEDE2000 from each of the photo's dominant colours to the nearest one in the frame."""
    ref_centres, ref_shares = ref
    centres = other[0]
    de = np.asarray(deltaE_ciede2000(ref_centres[:, None, :], centres[None, :, :]))  # type: ignore[no-untyped-call]
    return float((de.min(axis=1) * ref_shares).sum())


def mean_lightness(lab_pixels: np.ndarray) -> float:
    return float(lab_pixels[..., 0].mean()) if lab_pixels.size else float("nan")


def mired(rgb_pixels: np.ndarray) -> float:
    """Correlated colour temperature of the pixels' mean colour (McCamy), as mired (1e6 / K): equal steps in mired
    look like equal shifts of white balance, which kelvin does not."""
    if not rgb_pixels.size:
        return float("nan")
    srgb = rgb_pixels.reshape(-1, 3).astype(np.float64).mean(axis=0) / 255.0
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    x_, y_, z_ = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ linear
    total = x_ + y_ + z_
    if y_ < 0.02 or total <= 1e-9:  # near black: chromaticity is noise, there is no light colour to read
        return float("nan")
    x, y = x_ / total, y_ / total
    n = (x - 0.3320) / (0.1858 - y)
    kelvin = 449.0 * n**3 + 3525.0 * n**2 + 6823.3 * n + 5520.33
    return float(1e6 / min(max(kelvin, 1000.0), 40000.0))
