"""A SKU photo made acceptable to a hosted model before anything is paid: aspect, size and bytes.

Vendors refuse inputs outside their limits (Kling: aspect between 1:2.5 and 2.5:1, at least 300 px, at most
10 MB) after a round trip and sometimes a queue. We pad with the brand's background to the nearest allowed
aspect, upscale to the minimum side and re-encode under the byte limit, once per image and provider limits.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image

from skureel.imageio import open_rgba

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Limits:
    min_side: int = 300
    max_bytes: int = 10 * 1024 * 1024
    min_aspect: float = 1 / 2.5  # width / height
    max_aspect: float = 2.5
    max_side: int = 2048
    target_aspect: float | None = None  # a per-family base (9:16 or 16:9): the photo cropped or padded to it first


@dataclass(frozen=True)
class Payload:
    data: bytes
    box: Box | None  # the product's box as fractions of the adapted image
    adapted: bool  # padded or upscaled: the content key must then cover the adapted bytes
    digest: str

    @property
    def note(self) -> str:
        return "photo padded/upscaled to the provider's limits" if self.adapted else ""


def _hex_rgb(colour: str) -> tuple[int, int, int]:
    text = colour.lstrip("#")
    if len(text) != 6:
        return (255, 255, 255)
    return (int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16))


@lru_cache(maxsize=128)
def adapt_image(path: str, sha256: str, bbox: tuple[int, int, int, int] | None, limits: Limits,
                background: str = "#ffffff") -> Payload:
    """Cached per (image content, limits, background): a batch encodes each photo once per provider."""
    del sha256  # part of the cache key only
    image = open_rgba(path, max_pixels=1 << 31)  # the cache's decoded PNG, checked when it was made
    fill = _hex_rgb(background)
    flat = Image.alpha_composite(Image.new("RGBA", image.size, (255, 255, 255, 255)), image).convert("RGB")
    width, height = flat.size
    aspect = width / height
    adapted = False
    offset_x = offset_y = 0
    if limits.target_aspect and abs(aspect / limits.target_aspect - 1) > 0.01:
        flat, offset_x, offset_y = _to_aspect(flat, bbox, limits.target_aspect, fill)
        adapted, aspect = True, limits.target_aspect
    if aspect > limits.max_aspect or aspect < limits.min_aspect:
        target = limits.max_aspect if aspect > limits.max_aspect else limits.min_aspect
        new_w, new_h = (width, round(width / target)) if aspect > limits.max_aspect else (round(height * target), height)
        canvas = Image.new("RGB", (new_w, new_h), fill)
        offset_x, offset_y = (new_w - width) // 2, (new_h - height) // 2
        canvas.paste(flat, (offset_x, offset_y))
        flat, adapted = canvas, True
    padded_w, padded_h = flat.size
    scale = 1.0
    if min(flat.size) < limits.min_side:
        scale = limits.min_side / min(flat.size)
        adapted = True
    if max(flat.size) * scale > limits.max_side:
        scale = limits.max_side / max(flat.size)
    if scale != 1.0:
        flat = flat.resize((max(1, round(flat.width * scale)), max(1, round(flat.height * scale))),
                           Image.Resampling.LANCZOS)
    data = _jpeg_under(flat, limits.max_bytes)
    box: Box | None = None
    if bbox is not None:
        x0, y0, x1, y1 = bbox
        box = ((x0 + offset_x) / padded_w, (y0 + offset_y) / padded_h,
               (x1 + offset_x) / padded_w, (y1 + offset_y) / padded_h)
    return Payload(data=data, box=box, adapted=adapted, digest=hashlib.sha256(data).hexdigest()[:32])


def _to_aspect(flat: Image.Image, bbox: tuple[int, int, int, int] | None, target: float,
               fill: tuple[int, int, int]) -> tuple[Image.Image, int, int]:
    """Cropped to the target aspect around the product when all of it fits (with a margin), else padded with the
    brand's background: the model then composes natively in that aspect. Returns the image and the offset of the
    original's origin in it (negative for a crop)."""
    width, height = flat.size
    crop_w, crop_h = (min(width, round(height * target)), height) if width / height > target else \
        (width, min(height, round(width / target)))
    if bbox is not None:
        x0, y0, x1, y1 = bbox
        pad = round(0.04 * max(crop_w, crop_h))
        left = min(max((x0 + x1) // 2 - crop_w // 2, 0), width - crop_w)
        top = min(max((y0 + y1) // 2 - crop_h // 2, 0), height - crop_h)
        if x0 - pad >= left and y0 - pad >= top and x1 + pad <= left + crop_w and y1 + pad <= top + crop_h:
            return flat.crop((left, top, left + crop_w, top + crop_h)), -left, -top
    new_w, new_h = (round(height * target), height) if width / height < target else (width, round(width / target))
    canvas = Image.new("RGB", (new_w, new_h), fill)
    offset_x, offset_y = (new_w - width) // 2, (new_h - height) // 2
    canvas.paste(flat, (offset_x, offset_y))
    return canvas, offset_x, offset_y


def _jpeg_under(image: Image.Image, max_bytes: int) -> bytes:
    """Quality steps down first, then size: a product photo keeps its detail as long as it can."""
    current = image
    while True:
        for quality in (92, 85, 75, 65):
            out = io.BytesIO()
            current.save(out, format="JPEG", quality=quality)
            if out.tell() <= max_bytes:
                return out.getvalue()
        if min(current.size) <= 64:
            return out.getvalue()
        current = current.resize((max(1, int(current.width * 0.8)), max(1, int(current.height * 0.8))),
                                 Image.Resampling.LANCZOS)
