"""Separating the product from its background, deciding per image, and judging which image is the hero."""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np
from pydantic import BaseModel

CutoutMode = Literal["alpha", "studio-background", "full-frame", "placeholder"]


class Cutout(BaseModel):
    mode: CutoutMode
    bbox: tuple[int, int, int, int]  # x0, y0, x1, y1 in image pixels (exclusive end)
    foreground_fraction: float
    components: int
    packshot_score: float
    reason: str


def _border(arr: np.ndarray, width: int = 4) -> np.ndarray:
    return np.concatenate([arr[:width].reshape(-1, arr.shape[-1]), arr[-width:].reshape(-1, arr.shape[-1]),
                           arr[:, :width].reshape(-1, arr.shape[-1]), arr[:, -width:].reshape(-1, arr.shape[-1])])


def is_placeholder(rgba: np.ndarray) -> bool:
    """A flat 'no image' graphic: a handful of grey tones and nothing else."""
    small = cv2.resize(rgba, (128, 128), interpolation=cv2.INTER_AREA)
    rgb = small[..., :3].astype(np.int16)
    saturation = (rgb.max(axis=2) - rgb.min(axis=2)).max()
    tones = len(np.unique((rgb // 24).reshape(-1, 3), axis=0))
    opaque = small[..., 3] > 16
    return bool(opaque.mean() > 0.5 and saturation < 24 and tones <= 6)


def _mask_stats(mask: np.ndarray) -> tuple[tuple[int, int, int, int], float, int, float]:
    """bbox, foreground fraction, number of significant components, share of the largest component."""
    binary = (mask > 127).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA] if count > 1 else np.array([0])
    total = float(binary.sum()) or 1.0
    significant = int((areas > total * 0.01).sum())
    largest = float(areas.max()) / total if areas.size else 0.0
    ys, xs = np.nonzero(binary)
    if xs.size == 0:
        h, w = mask.shape
        return (0, 0, w, h), 0.0, 0, 0.0
    bbox = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    return bbox, total / binary.size, significant, largest


# an enclosed light region is the backdrop seen through the product (a ring's hole, the gap under a bag's handles)
# when it is big (a highlight or a printed letter is not), as flat as the backdrop and of its colour, and has no print
# inside it (a blank white label is the one look-alike: it would need the backdrop's exact white and no print at all)
HOLE_MIN_SHARE = 0.002  # of the image's pixels
HOLE_COLOUR_TOLERANCE = 4.0  # levels per channel, on top of the backdrop's own spread
HOLE_PRINT_SHARE = 0.01  # darker pixels inside the region, as a share of it: print, so a label


def _see_through(rgb: np.ndarray, labels: np.ndarray, stats: np.ndarray, edge_labels: np.ndarray,
                 border: np.ndarray) -> np.ndarray:
    """Labels of the light components that do not touch the border but show the backdrop all the same."""
    h, w = labels.shape
    areas = stats[:, cv2.CC_STAT_AREA]
    big = np.flatnonzero(areas >= max(64, HOLE_MIN_SHARE * h * w))
    chosen: np.ndarray = big[(big != 0) & ~np.isin(big, edge_labels)]
    if chosen.size == 0:
        return chosen
    backdrop = np.median(border, axis=0)
    spread = float(border.std(axis=0).max())
    holes = []
    for label in chosen:
        x, y, bw, bh = (int(v) for v in stats[label, :4])
        inside = labels[y : y + bh, x : x + bw] == label
        pixels = rgb[y : y + bh, x : x + bw][inside].astype(np.float32)
        if np.abs(pixels.mean(axis=0) - backdrop).max() > HOLE_COLOUR_TOLERANCE + spread:
            continue  # another colour: a white product part or a cream label under the same light
        if float(pixels.std(axis=0).max()) > 2.0 + 1.5 * spread:
            continue  # shaded or textured: a highlight's falloff, a surface
        filled = inside.astype(np.uint8)
        contours, _ = cv2.findContours(filled, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(filled, contours, -1, 1, thickness=cv2.FILLED)
        if int(filled.sum()) - int(inside.sum()) > HOLE_PRINT_SHARE * int(areas[label]):
            continue  # print inside it: a label's letters, not the backdrop
        holes.append(int(label))
    found: np.ndarray = np.array(holes, dtype=labels.dtype)
    return found


def studio_mask(rgb: np.ndarray) -> np.ndarray | None:
    """Border-seeded separation from a white, off-white or light-grey sweep; None when the border is busy."""
    border = _border(rgb).astype(np.int16)
    brightness = border.min(axis=1)
    chroma = border.max(axis=1) - border.min(axis=1)
    if np.percentile(brightness, 10) < 200 or np.percentile(chroma, 90) > 24:
        return None
    floor = max(180, int(np.percentile(brightness, 2)) - 14)
    # per-pixel channel min and max with OpenCV: numpy's reduction over a 3-long last axis costs ~0.3 s per photo
    r, g, b = cv2.split(np.ascontiguousarray(rgb))
    low, high = cv2.min(cv2.min(r, g), b), cv2.max(cv2.max(r, g), b)
    candidate = ((low >= floor) & (cv2.subtract(high, low) <= 26)).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(candidate, connectivity=4)
    edge_labels = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    edge_labels = edge_labels[edge_labels != 0]
    background = np.isin(labels, np.concatenate([edge_labels, _see_through(rgb, labels, stats, edge_labels, border)]))
    product: np.ndarray = (~background).astype(np.uint8) * 255
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    product = cv2.morphologyEx(product, cv2.MORPH_OPEN, kernel)
    product = cv2.morphologyEx(product, cv2.MORPH_CLOSE, kernel)
    # soft edge: pull the edge in by one pixel so no white fringe survives, then feather it
    product = cv2.erode(product, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
    return cv2.GaussianBlur(product, (0, 0), 0.7)


def analyse(rgba: np.ndarray, has_alpha: bool) -> tuple[Cutout, np.ndarray]:
    """Returns the decision and an alpha mask (uint8, same size as the image)."""
    h, w = rgba.shape[:2]
    if is_placeholder(rgba):
        return Cutout(mode="placeholder", bbox=(0, 0, w, h), foreground_fraction=0.0, components=0, packshot_score=0.0,
                      reason="a flat 'no image' placeholder graphic, not a product photo"), np.zeros((h, w), np.uint8)
    alpha = rgba[..., 3]
    if has_alpha and (alpha < 250).mean() > 0.01:
        mask = alpha.copy()
        bbox, fraction, comps, largest = _mask_stats(mask)
        score = _score(fraction, comps, largest, plain=True)
        return Cutout(mode="alpha", bbox=bbox, foreground_fraction=fraction, components=comps, packshot_score=score,
                      reason="the image's own transparency"), mask
    mask_or_none = studio_mask(rgba[..., :3])
    if mask_or_none is not None:
        bbox, fraction, comps, largest = _mask_stats(mask_or_none)
        if 0.01 < fraction < 0.97:
            score = _score(fraction, comps, largest, plain=True)
            return Cutout(mode="studio-background", bbox=bbox, foreground_fraction=fraction, components=comps,
                          packshot_score=score, reason="separated from a plain light studio background"), mask_or_none
    full = np.full((h, w), 255, np.uint8)
    return Cutout(mode="full-frame", bbox=(0, 0, w, h), foreground_fraction=1.0, components=1, packshot_score=0.15,
                  reason="busy or dark background: used full-frame with camera motion only"), full


def _score(fraction: float, components: int, largest: float, plain: bool) -> float:
    """How much an image looks like a packshot: one object, a sensible size, on a plain background."""
    size = 1.0 - min(1.0, abs(fraction - 0.35) / 0.35) * 0.5
    single = largest * (1.0 if components <= 2 else 0.6 if components <= 4 else 0.25)
    return round((0.6 * single + 0.4 * size) * (1.0 if plain else 0.5), 3)
