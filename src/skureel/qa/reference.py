"""The SKU's own photo, prepared once for the gate: its product cut-out, features, colours, label text and face."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from skureel.domain import UnusableInput
from skureel.qa.appearance import dominant, to_lab
from skureel.qa.thresholds import Thresholds
from skureel.render.cutout import analyse

SIDE = 480  # the photo's cut-out is worked on at this longer side: enough for OCR, cheap for matching


def orb() -> Any:
    # small patches and a low FAST threshold: drawn and plain packshots have few strong corners
    return cv2.ORB.create(nfeatures=1000, scaleFactor=1.2, edgeThreshold=15, patchSize=15, fastThreshold=10)


@dataclass
class Reference:
    source: str
    rgb: np.ndarray   # the product's bounding box composited on white, longer side SIDE
    mask: np.ndarray  # uint8 alpha of the product in that box
    gray: np.ndarray
    points: np.ndarray  # N x 2 keypoint positions
    descriptors: np.ndarray | None
    palette: tuple[np.ndarray, np.ndarray]
    text: str
    has_face: bool

    @property
    def core(self) -> np.ndarray:
        """The product's pixels, away from the soft edge (colour and text are read there)."""
        return cv2.erode(self.mask, np.ones((5, 5), np.uint8)) > 127


def from_image(path: Path, thresholds: Thresholds, *, avatar: bool = False) -> Reference:
    try:
        with Image.open(path) as image:
            has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
            rgba = np.asarray(image.convert("RGBA"))
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise UnusableInput(f"{path}: not a readable image ({type(exc).__name__})") from exc
    cutout, mask = analyse(rgba, has_alpha)
    if cutout.mode == "placeholder":
        raise UnusableInput(f"{path}: {cutout.reason}")
    return from_cutout(str(path), rgba, mask, cutout.bbox, thresholds, avatar=avatar)


def from_cutout(source: str, rgba: np.ndarray, mask: np.ndarray, bbox: tuple[int, int, int, int],
                thresholds: Thresholds, *, avatar: bool = False) -> Reference:
    """From an already analysed photo (the pipeline's `Prepared` hero: rgba, mask and cut-out box)."""
    x0, y0, x1, y1 = bbox
    crop, alpha = rgba[y0:y1, x0:x1, :3].astype(np.float32), mask[y0:y1, x0:x1]
    a = alpha[..., None].astype(np.float32) / 255.0
    rgb = (crop * a + 255.0 * (1.0 - a)).astype(np.uint8)
    scale = SIDE / max(rgb.shape[:2])
    size = (max(8, round(rgb.shape[1] * scale)), max(8, round(rgb.shape[0] * scale)))
    rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    alpha = cv2.resize(alpha, size, interpolation=cv2.INTER_LINEAR)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    keypoints, descriptors = orb().detectAndCompute(gray, cv2.dilate(alpha, np.ones((9, 9), np.uint8)))
    points = np.array([k.pt for k in keypoints], np.float32).reshape(-1, 2)
    core = cv2.erode(alpha, np.ones((5, 5), np.uint8)) > 127
    pixels = to_lab(rgb)[core if core.any() else alpha > 0]
    palette = dominant(pixels, thresholds.colour.clusters)
    from skureel.qa.text import read_text

    text = "" if avatar else read_text(rgb, core, min_height=thresholds.text.min_letter_height)
    has_face = False
    if avatar:
        from skureel.qa.face import count_faces

        has_face = count_faces(rgb) > 0
    return Reference(source=source, rgb=rgb, mask=alpha, gray=gray, points=points, descriptors=descriptors,
                     palette=palette, text=text, has_face=has_face)
