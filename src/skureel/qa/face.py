"""Faces for avatar clips: the LBP frontal-face cascade from OpenCV's data, as shipped inside scikit-image
(OpenCV 5's wheels no longer bundle cascades or the cascade classifier)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import cv2
import numpy as np

SIDE = 320  # faces are searched on a frame scaled to this longer side: a presenter's face is large


@lru_cache(maxsize=1)
def _cascade() -> Any:
    from skimage.data import lbp_frontal_face_cascade_filename
    from skimage.feature import Cascade

    return Cascade(lbp_frontal_face_cascade_filename())  # type: ignore[no-untyped-call]


def count_faces(rgb: np.ndarray) -> int:
    scale = SIDE / max(rgb.shape[:2])
    small = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else rgb
    short = min(small.shape[:2])
    found = _cascade().detect_multi_scale(img=small, scale_factor=1.2, step_ratio=1, min_size=(24, 24),
                                          max_size=(short, short), min_neighbor_number=3)
    return len(found)
