"""Real MP4s for the QA tests, made with PyAV from real photos: the product on a backdrop under a gentle camera
move, with optional faults (another product, a hue shift, a rewritten label, a lighting ramp, flicker, black)."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

Effect = Callable[[int, float, np.ndarray], np.ndarray]
FPS = 24


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


def frames(photo: np.ndarray, seconds: float, size: tuple[int, int], effect: Effect | None = None,
           swap: np.ndarray | None = None, swap_after: float = 1e9) -> list[np.ndarray]:
    width, height = size
    out = []
    count = int(round(seconds * FPS))
    for i in range(count):
        t = i / FPS
        source = swap if swap is not None and t >= swap_after else photo
        zoom = 1.0 + 0.08 * t / seconds  # a slow push-in with a little drift sideways
        scale = min(width, height) * 0.8 / max(source.shape[:2]) * zoom
        placed = cv2.resize(source, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        canvas = np.full((height, width, 3), (233, 228, 220), np.uint8)
        ph, pw = placed.shape[:2]
        x = int((width - pw) / 2 + 6 * np.sin(t))
        y = int((height - ph) / 2)
        xs, ys = max(0, x), max(0, y)
        crop = placed[ys - y: ys - y + min(ph, height - ys), xs - x: xs - x + min(pw, width - xs)]
        canvas[ys: ys + crop.shape[0], xs: xs + crop.shape[1]] = crop
        frame = canvas if effect is None else effect(i, t, canvas)
        out.append(np.clip(frame, 0, 255).astype(np.uint8))
    return out


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
    return write_mp4(path, frames(photo, seconds, size, effect, swap, swap_after))


# faults ----------------------------------------------------------------------------------------------------------
def hue_shift(degrees: int) -> Effect:
    def effect(_: int, __: float, rgb: np.ndarray) -> np.ndarray:
        hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
        hsv[..., 0] = (hsv[..., 0].astype(np.int16) + degrees // 2) % 180
        return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    return effect


def lighting_ramp(seconds: float) -> Effect:
    """Darker and warmer over the clip: the white balance of older models wandering."""
    def effect(_: int, t: float, rgb: np.ndarray) -> np.ndarray:
        k = t / seconds
        gain = np.array([1.0 - 0.05 * k, 1.0 - 0.2 * k, 1.0 - 0.45 * k])
        return rgb.astype(np.float32) * gain
    return effect


def flicker(amount: float = 28.0) -> Effect:
    def effect(i: int, _: float, rgb: np.ndarray) -> np.ndarray:
        return rgb.astype(np.float32) + (amount if i % 2 else -amount / 2)
    return effect


def black_from(start: float, stop: float) -> Effect:
    def effect(_: int, t: float, rgb: np.ndarray) -> np.ndarray:
        return np.zeros_like(rgb) if start <= t < stop else rgb
    return effect
