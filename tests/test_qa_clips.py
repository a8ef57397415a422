"""Real MP4s for the QA tests, made with PyAV from real photos: the product on a backdrop under a gentle camera
move, with optional faults (another product, a hue shift, a rewritten label, a lighting ramp, flicker, black)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

# the camera move and the faults are the fake providers' own (`--faults content=MODE`), so these clips and the
# fakes' clips are the same pictures
from skureel.providers.fake.content import FPS, Effect, flicker, frames, hue_shift, lighting_ramp

__all__ = ["black_from", "clip", "flicker", "frames", "hue_shift", "lighting_ramp", "packshot", "with_label",
           "write_mp4"]


def packshot(path: Path, side: int = 300) -> np.ndarray:
    """The photo as RGB on white (alpha flattened), longer side `side`."""
    image = Image.open(path).convert("RGBA")
    flat = Image.alpha_composite(Image.new("RGBA", image.size, (255, 255, 255, 255)), image).convert("RGB")
    flat.thumbnail((side, side))
    return np.asarray(flat).copy()


def with_label(photo: np.ndarray, text: str, box: tuple[float, float, float, float]) -> np.ndarray:
    """The photo with `text` printed on a label at `box` (fractions of the image)."""
    image = Image.fromarray(photo)
    draw = ImageDraw.Draw(image)
    w, h = image.size
    x0, y0, x1, y1 = box[0] * w, box[1] * h, box[2] * w, box[3] * h
    draw.rectangle((x0, y0, x1, y1), fill=(242, 226, 180))  # cream: not mistaken for the white sweep
    size = int((y1 - y0) * 0.5)
    font = ImageFont.load_default(size=size)
    draw.text(((x0 + x1) / 2, (y0 + y1) / 2), text, fill=(20, 20, 20), font=font, anchor="mm")
    return np.asarray(image).copy()


def write_mp4(path: Path, images: list[np.ndarray]) -> Path:
    height, width = images[0].shape[:2]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(FPS, 1))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "20", "preset": "veryfast"}
        for image in images:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def clip(path: Path, photo: np.ndarray, *, seconds: float = 2.5, size: tuple[int, int] = (288, 512),
         effect: Effect | None = None, swap: np.ndarray | None = None, swap_after: float = 1e9) -> Path:
    return write_mp4(path, list(frames(photo, seconds, size, effect, swap, swap_after)))


# faults ----------------------------------------------------------------------------------------------------------
def black_from(start: float, stop: float) -> Effect:
    def effect(_: int, t: float, rgb: np.ndarray) -> np.ndarray:
        return np.zeros_like(rgb) if start <= t < stop else rgb
    return effect
