"""Frames from a hosted provider's base clip, reframed around the product for each social format."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import cv2
import numpy as np

Box = tuple[float, float, float, float]


def crop_window(src_w: int, src_h: int, dst_w: int, dst_h: int, product: Box, margin: float = 0.04) -> tuple[int, int, int, int] | None:
    """The largest crop of the target aspect that keeps the product box (fractions) inside; None if none does."""
    target = dst_w / dst_h
    crop_w, crop_h = (src_w, src_w / target) if src_w / src_h < target else (src_h * target, src_h)
    px0, py0, px1, py1 = (product[0] - margin) * src_w, (product[1] - margin) * src_h, (product[2] + margin) * src_w, (product[3] + margin) * src_h
    if px1 - px0 > crop_w + 1 or py1 - py0 > crop_h + 1:
        return None
    cx = min(max((px0 + px1) / 2, crop_w / 2), src_w - crop_w / 2)
    cy = min(max((py0 + py1) / 2, crop_h / 2), src_h - crop_h / 2)
    x0, y0 = int(round(cx - crop_w / 2)), int(round(cy - crop_h / 2))
    return x0, y0, int(round(crop_w)), int(round(crop_h))


class ClipReframer:
    """Decodes a base clip at any size and rate and yields frames at the target size and fps."""

    def __init__(self, path: Path, width: int, height: int, fps: int, seconds: float, product: Box | None) -> None:
        self.path, self.width, self.height, self.fps, self.seconds = path, width, height, fps, seconds
        self.product = product or (0.2, 0.2, 0.8, 0.8)

    def frames(self) -> Iterator[np.ndarray]:
        wanted = int(round(self.seconds * self.fps))
        produced = 0
        last: np.ndarray | None = None
        with av.open(str(self.path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            window: tuple[int, int, int, int] | None | str = "unset"
            for frame in container.decode(stream):
                t = float(frame.time) if frame.time is not None else produced / self.fps
                rgb = frame.to_ndarray(format="rgb24")
                if window == "unset":
                    window = crop_window(rgb.shape[1], rgb.shape[0], self.width, self.height, self.product)
                out = self._reframe(rgb, window if not isinstance(window, str) else None)
                # constant frame rate: repeat or drop source frames by timestamp
                while produced < wanted and produced / self.fps <= t + 0.5 / self.fps:
                    yield out
                    produced += 1
                last = out
                if produced >= wanted:
                    return
        while produced < wanted and last is not None:
            yield last
            produced += 1

    def _reframe(self, rgb: np.ndarray, window: tuple[int, int, int, int] | None) -> np.ndarray:
        if window is not None:
            x, y, w, h = window
            crop = rgb[y : y + h, x : x + w]
            interp = cv2.INTER_AREA if w > self.width else cv2.INTER_LINEAR
            return cv2.resize(crop, (self.width, self.height), interpolation=interp)
        # the product would be cut: fit the whole frame and fill around it with a blurred copy
        scale = min(self.width / rgb.shape[1], self.height / rgb.shape[0])
        fit = cv2.resize(rgb, (int(rgb.shape[1] * scale), int(rgb.shape[0] * scale)), interpolation=cv2.INTER_AREA)
        small = cv2.resize(rgb, (max(8, self.width // 16), max(8, self.height // 16)), interpolation=cv2.INTER_AREA)
        out = (cv2.resize(cv2.GaussianBlur(small, (0, 0), 3), (self.width, self.height)) * 0.75).astype(np.uint8)
        y0, x0 = (self.height - fit.shape[0]) // 2, (self.width - fit.shape[1]) // 2
        out[y0 : y0 + fit.shape[0], x0 : x0 + fit.shape[1]] = fit
        return out
