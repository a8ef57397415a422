"""Label text: OCR of the product region (Debian's tesseract-ocr through pytesseract) and character error rate."""

from __future__ import annotations

import re
import shutil
from functools import lru_cache

import numpy as np
from rapidfuzz.distance import Levenshtein

_KEEP = re.compile(r"[^0-9A-Z]+")


@lru_cache(maxsize=1)
def ocr_available() -> bool:
    return shutil.which("tesseract") is not None


def normalise(text: str) -> str:
    """Letters and digits only, upper case: OCR's spacing and punctuation are too noisy to compare."""
    return _KEEP.sub("", text.upper())


def read_text(rgb: np.ndarray, region: np.ndarray | None = None, min_conf: float = 70.0,
              min_height: float = 0.04) -> str:
    """Words of 3+ letters or digits that tesseract is sure of, in reading order, normalised; '' when there are none
    (texture and print patterns read as stray 1-2 letter "words", which would make every photo look labelled)."""
    if not ocr_available():
        return ""
    import pytesseract

    # colour, not grey: tesseract's own conversion keeps a cream label apart from the text on it, ours did not
    image = np.where(region[..., None], rgb, 255).astype(np.uint8) if region is not None and region.any() else rgb
    # read at the cut-out's own 480 px: scaling a frame already warped up from a smaller clip only adds ringing
    try:
        data = pytesseract.image_to_data(image, config="--psm 11 --oem 1", output_type=pytesseract.Output.DICT,
                                         timeout=20)
    except (pytesseract.TesseractError, RuntimeError, OSError):
        return ""
    # only print large enough to survive in a video frame (`min_height` of the cut-out): the brand and product
    # name, not the ingredient list, which no generated 720p clip can be expected to keep legible
    tall = min_height * rgb.shape[0]
    words = [normalise(w) for w, c, h in zip(data["text"], data["conf"], data["height"], strict=False)
             if float(c) >= min_conf and float(h) >= tall]
    return "".join(w for w in words if len(w) >= 3)


def cer(expected: str, read: str) -> float:
    """Character error rate: edits needed to turn what was read into the photo's text, per character of it."""
    if not expected:
        return 0.0
    return Levenshtein.distance(expected, read) / len(expected)
