"""Decoding a clip once: RGB frames sampled every few tenths of a second (plus first and last) for the spatial
measures, and a cheap per-frame luma summary (flicker, black, frozen) read from the Y plane without conversion."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import av
import cv2
import numpy as np

from skureel.domain import UnusableInput


class UnusableClip(UnusableInput):
    """The clip cannot be decoded as video at all (exit 2, not a QA failure)."""


@dataclass
class Sample:
    t: float
    rgb: np.ndarray  # H x W x 3 uint8, scaled so the shorter side is at most the sampling limit


@dataclass
class Decoded:
    path: str
    width: int
    height: int
    fps: float
    duration_s: float
    samples: list[Sample] = field(default_factory=list)
    luma: np.ndarray = field(default_factory=lambda: np.zeros(0))  # mean luma (0-255) of every frame
    longest_black_s: float = 0.0
    longest_frozen_s: float = 0.0


def _scaled(rgb: np.ndarray, short_side: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    s = short_side / min(h, w)
    if s >= 1.0:
        return rgb
    return cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)


def decode(path: Path, *, every_s: float = 0.5, max_short_side: int = 540, until_s: float | None = None) -> Decoded:
    """`until_s`: ignore what follows (a deliverable's end card is not the product)."""
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as exc:
        raise UnusableClip(f"{path}: not a readable video ({type(exc).__name__})") from exc
    with container:
        if not container.streams.video:
            raise UnusableClip(f"{path}: has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = float(stream.average_rate) if stream.average_rate else 0.0
        out = Decoded(path=str(path), width=stream.codec_context.width, height=stream.codec_context.height,
                      fps=rate or 24.0, duration_s=0.0)
        means: list[float] = []
        black = frozen = longest_black = longest_frozen = 0
        previous: np.ndarray | None = None
        last: tuple[float, av.VideoFrame] | None = None  # converted to RGB only if it stays the last frame
        next_t = 0.0
        try:
            for index, frame in enumerate(container.decode(stream)):
                t = float(frame.time) if frame.time is not None else index / out.fps
                if until_s is not None and t >= until_s - 1e-6:
                    break
                plane = frame.planes[0]
                luma = np.frombuffer(memoryview(plane), np.uint8).reshape(-1, plane.line_size)[: frame.height, : frame.width]
                gray = luma[::6, ::6].astype(np.int16)
                means.append(float(luma[::2, ::2].mean()))
                # the delivery probe's rules (render/probe.py), so a base clip and a deliverable are judged alike
                black = black + 1 if gray.mean() < 18 and gray.std() < 6 else 0
                frozen = frozen + 1 if previous is not None and int(np.abs(gray - previous).max()) <= 3 else 0
                longest_black, longest_frozen = max(longest_black, black), max(longest_frozen, frozen)
                previous = gray
                if t + 1e-6 >= next_t:
                    out.samples.append(Sample(t=t, rgb=_scaled(frame.to_ndarray(format="rgb24"), max_short_side)))
                    next_t = t + every_s
                    last = None
                else:
                    last = (t, frame)
        except av.FFmpegError as exc:
            if not means:
                raise UnusableClip(f"{path}: no frame could be decoded ({type(exc).__name__})") from exc
        if not means:
            raise UnusableClip(f"{path}: has no frames")
        if last is not None:
            out.samples.append(Sample(t=last[0], rgb=_scaled(last[1].to_ndarray(format="rgb24"), max_short_side)))
    out.luma = np.asarray(means, np.float64)
    out.duration_s = len(means) / out.fps
    out.longest_black_s = longest_black / out.fps
    out.longest_frozen_s = longest_frozen / out.fps
    return out
