"""The one image loader: ingest, hero choice, render, presenter and logo all decode through here.

One pixel limit (from settings), one set of accepted formats, and failures translated into words a marketer can
act on ("truncated image", "image too large: 900 MP, limit 40 MP") rather than a library's exception repr.
"""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from skureel.domain import SkureelError

ALLOWED_FORMATS = ["JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "AVIF", "HEIF", "MPO"]
DEFAULT_MAX_PIXELS = 40_000_000
MIN_SIDE_LOCAL = 200
MIN_SIDE_HOSTED = 300
MAX_ASPECT = 6.0  # beyond 6:1 a photo is a banner or a strip, not a product shot

try:  # HEIC/HEIF from phones; optional so a missing wheel only costs that format
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIF_SUPPORTED = True
except ImportError:  # pragma: no cover - depends on the environment
    HEIF_SUPPORTED = False

Image.init()  # registers every plugin, so the list below names only formats this Pillow can open
ALLOWED_FORMATS = [name for name in ALLOWED_FORMATS if name in Image.OPEN]


class ImageProblem(SkureelError):
    """One image could not be used; the product is reported, the run goes on."""


_REPR = re.compile(r"<[^<>]*\bat 0x[0-9a-f]+>")


def _sniff(data: bytes) -> str | None:
    head = data[:512].lstrip()
    if head[:5] in (b"<?xml", b"<svg ") or b"<svg" in head[:256]:
        return "an SVG drawing, not a photo: export it as PNG or JPEG"
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypmsf1", b"ftyphevc") and not HEIF_SUPPORTED:
        return "HEIC images need pillow-heif (pip install pillow-heif), or save it as JPEG"
    if head[:5] == b"%PDF-":
        return "a PDF, not an image: export the page as PNG or JPEG"
    if head[:1] in (b"<",) or head[:9].lower().startswith(b"<!doctype"):
        return "a web page, not an image (the link probably points at a product page)"
    return None


def plain_reason(exc: BaseException, data: bytes = b"", max_pixels: int = DEFAULT_MAX_PIXELS) -> str:
    """Words for a decoding failure; never an object repr or a library's class name."""
    if isinstance(exc, ImageProblem):
        return str(exc)
    if isinstance(exc, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
        numbers = [int(n) for n in re.findall(r"\d+", str(exc))]
        size = f"{numbers[0] / 1e6:.0f} MP, " if numbers else ""
        return f"image too large: {size}limit {max_pixels / 1e6:.0f} MP"
    if isinstance(exc, UnidentifiedImageError):
        return _sniff(data) or "not an image file (or an image kind we do not read: use JPEG, PNG or WebP)"
    text = _REPR.sub("the file", str(exc))
    if "truncated" in text or "broken data stream" in text or "image file is truncated" in text:
        return "truncated image (the file is cut short: export or download it again)"
    if isinstance(exc, MemoryError):
        return "image too large to decode"
    return f"could not decode the image ({text[:160]})" if text else "could not decode the image"


def _check_pixels(width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise ImageProblem(f"image too large: {width * height / 1e6:.0f} MP ({width}x{height}), "
                           f"limit {max_pixels / 1e6:.0f} MP")
    if width < 1 or height < 1:
        raise ImageProblem("image has no pixels")


def image_size(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[int, int, str]:
    """Width, height and format from the header only (no pixel decode), under the same limit."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS) as image:
                _check_pixels(image.width, image.height, max_pixels)
                return image.width, image.height, image.format or "unknown"
    except ImageProblem:
        raise
    except Exception as exc:  # noqa: BLE001 - Pillow raises many kinds; every one becomes a plain reason
        raise ImageProblem(plain_reason(exc, data, max_pixels)) from exc


def file_size(path: str | Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[int, int, str] | None:
    """Header-only look at a local file (Pillow reads only what the header needs); None when it cannot be read,
    the loader reports why later."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path, formats=ALLOWED_FORMATS) as image:
                _check_pixels(image.width, image.height, max_pixels)
                return image.width, image.height, image.format or "unknown"
    except Exception:  # noqa: BLE001 - any unreadable file: planning carries on, the loader says why
        return None


def decode_rgba(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[Image.Image, str, bool]:
    """Decode under the pixel limit, first frame only, EXIF-rotated, any mode to RGBA.

    Returns the image, its original format and whether it had transparency.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
            _check_pixels(image.width, image.height, max_pixels)
            original = image.format or "unknown"
            had_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
            image.seek(0)  # animated GIF/WebP: the first frame is the product
            image.load()
            image = ImageOps.exif_transpose(image) or image
    except ImageProblem:
        raise
    except Exception as exc:  # noqa: BLE001 - see image_size
        raise ImageProblem(plain_reason(exc, data, max_pixels)) from exc
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(image, dtype=np.float32)
        peak = float(arr.max()) or 1.0
        image = Image.fromarray(np.clip(arr / peak * 255.0, 0, 255).astype(np.uint8), "L")
    if image.mode == "CMYK":
        image = image.convert("RGB")
    rgba = image.convert("RGBA")
    arr = np.array(rgba)
    clear = arr[..., 3] == 0  # fully transparent pixels are often black: neutral, so resampling leaves no fringe
    if clear.any():
        arr[clear, :3] = 255
    return Image.fromarray(arr), original, had_alpha


def open_rgba(path: str | Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """A local file (a brand asset, a decoded cache entry) through the same checks."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ImageProblem(f"cannot read the file ({exc.strerror or 'unreadable'})") from exc
    return decode_rgba(data, max_pixels)[0]


def fitness(width: int, height: int, hosted: bool, min_side: int | None = None) -> str | None:
    """Why a photo cannot make a clip, in words, before any CPU or money is spent on it; None when it can."""
    need = min_side or (MIN_SIDE_HOSTED if hosted else MIN_SIDE_LOCAL)
    short = min(width, height)
    if short < need:
        who = "hosted models need" if hosted else "the local renderer needs"
        return f"image is {width}x{height} px; {who} at least {need} px on the short side: use a larger photo"
    ratio = max(width, height) / max(1, short)
    if ratio > MAX_ASPECT:
        return (f"image is {width}x{height} px ({ratio:.0f}:1), a banner rather than a product photo; "
                f"use a photo between 1:{MAX_ASPECT:.0f} and {MAX_ASPECT:.0f}:1")
    return None
