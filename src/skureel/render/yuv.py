"""Drawing straight into yuv420p planes: layers converted once, composited per frame into recycled VideoFrames.

Why: at 1080p the RGB -> I420 conversion and the copy into a VideoFrame cost about 4 ms per frame, a third of the
veryfast encoder's own CPU (shared/reference/render-notes.md). Every static layer (set, sprite, overlays, end card)
is converted once; per frame only the product's rectangle is warped (Y and alpha at full resolution, U/V/alpha at
half) and blended. The matrix is BT.601 limited range, the same as OpenCV's RGB->I420 that encode.py uses for RGB
frames and that the stream's VUI declares.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass, field

import av
import cv2
import numpy as np

# BT.601 limited range (OpenCV's COLOR_RGB2YUV_I420): rows Y, U, V applied to RGB in 0..255
RGB_TO_YUV = np.array([[0.256788, 0.504129, 0.097906],
                       [-0.148223, -0.290993, 0.439216],
                       [0.439216, -0.367788, -0.071427]], np.float32)
OFFSETS = (16.0, 128.0, 128.0)
WHITE_GAIN = float(RGB_TO_YUV[0].sum())  # white light added to R, G and B moves Y by this much, U and V not at all


def release_free_memory() -> None:
    """Hand freed heap pages back to the OS (glibc malloc_trim) before x264 allocates its frames.

    Why: the layers' float intermediates are freed by now, but glibc keeps them in the main thread's heap, and
    x264's threads allocate from their own arenas, so the pages would stay counted in the process (about 40 MB
    at 1080x1920). Elsewhere (no glibc) this does nothing.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        return


def pad_even(arr: np.ndarray) -> np.ndarray:
    """Zero-pad right and bottom to even sizes, so a layer maps onto whole chroma samples."""
    h, w = arr.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return arr
    pad = [(0, h % 2), (0, w % 2)] + [(0, 0)] * (arr.ndim - 2)
    return np.pad(arr, pad)


@dataclass
class YuvLayer:
    """A premultiplied layer: luma and alpha at full resolution, (U, V, alpha) interleaved at half resolution."""

    y: np.ndarray  # (h, w) uint8, premultiplied
    a: np.ndarray  # (h, w) uint8
    uva: np.ndarray  # (h/2, w/2, 3) uint8, U and V premultiplied, then alpha

    @property
    def width(self) -> int:
        return int(self.y.shape[1])

    @property
    def height(self) -> int:
        return int(self.y.shape[0])


def layer_from_premultiplied(rgba: np.ndarray) -> YuvLayer:
    """Premultiplied RGBA uint8 -> YuvLayer. Since YUV is affine in RGB, premultiplied YUV = a * offset + M . rgb_p."""
    rgba = pad_even(np.ascontiguousarray(rgba))
    h, w = rgba.shape[:2]
    f = rgba.astype(np.float32)
    alpha = f[..., 3] / 255.0
    yuv: np.ndarray = cv2.transform(f[..., :3], RGB_TO_YUV).astype(np.float32)
    for c, offset in enumerate(OFFSETS):
        yuv[..., c] += alpha * offset
    y = np.clip(yuv[..., 0] + 0.5, 0, 255).astype(np.uint8)
    chroma = np.dstack([yuv[..., 1], yuv[..., 2], f[..., 3]])
    half = cv2.resize(chroma, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    return YuvLayer(y=y, a=np.ascontiguousarray(rgba[..., 3]), uva=np.clip(half + 0.5, 0, 255).astype(np.uint8))


def yauv_from_premultiplied(rgba: np.ndarray) -> np.ndarray:
    """Premultiplied RGBA -> (h, w, 4) uint8 of premultiplied Y, alpha, premultiplied U and V, all at full size.

    Why four channels at full size for a moving layer: OpenCV's bilinear warp has SIMD paths for 1 and 4 channels
    only, and a 4-channel warp costs what a 1-channel one does; warping Y+A+U+V once and halving the result
    (a 2x2 box, as the I420 converter samples chroma) is cheaper than three separate warps.
    """
    rgba = pad_even(np.ascontiguousarray(rgba))
    f = rgba.astype(np.float32)
    alpha = f[..., 3] / 255.0
    yuv: np.ndarray = cv2.transform(f[..., :3], RGB_TO_YUV).astype(np.float32)
    for c, offset in enumerate(OFFSETS):
        yuv[..., c] += alpha * offset
    out = np.dstack([yuv[..., 0], f[..., 3], yuv[..., 1], yuv[..., 2]])
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def i420_planes(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An opaque RGB image (even sizes) as separate Y, U, V arrays."""
    h, w = rgb.shape[:2]
    buf = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2YUV_I420).reshape(-1)
    y = buf[: h * w].reshape(h, w)
    q = (h // 2) * (w // 2)
    u = buf[h * w : h * w + q].reshape(h // 2, w // 2)
    v = buf[h * w + q :].reshape(h // 2, w // 2)
    return y, u, v


@dataclass
class Planes:
    """Writable views of one VideoFrame's planes (the line padding cut off)."""

    frame: av.VideoFrame
    y: np.ndarray
    u: np.ndarray
    v: np.ndarray


def planes_of(frame: av.VideoFrame) -> Planes:
    views = []
    for plane in frame.planes:
        data = np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)
        views.append(data[:, : plane.width])
    return Planes(frame, views[0], views[1], views[2])


class FrameRing:
    """A few recycled VideoFrames: x264 copies each picture inside encode(), so a frame is free once it returns."""

    def __init__(self, width: int, height: int, size: int = 3) -> None:
        self.items = [planes_of(av.VideoFrame(width, height, "yuv420p")) for _ in range(size)]
        self.index = 0

    def next(self) -> Planes:
        self.index = (self.index + 1) % len(self.items)
        return self.items[self.index]


def still_frame(rgb: np.ndarray) -> Planes:
    """An opaque RGB image in its own VideoFrame (the end card, re-sent for each of its static frames)."""
    h, w = rgb.shape[:2]
    planes = planes_of(av.VideoFrame(w, h, "yuv420p"))
    y, u, v = i420_planes(rgb)
    planes.y[...], planes.u[...], planes.v[...] = y, u, v
    return planes


def _blend(region: np.ndarray, src: np.ndarray, inv: np.ndarray) -> None:
    kept = cv2.multiply(region, inv, scale=1 / 255.0)
    cv2.add(kept, src, dst=region)


def composite_yauv(dst: Planes, yauv: np.ndarray, x: int, top: int) -> None:
    """A warped (h, w, 4) premultiplied Y/A/U/V layer (even sizes) over the planes at even (x, top)."""
    h, w = yauv.shape[:2]
    y, a = cv2.extractChannel(yauv, 0), cv2.extractChannel(yauv, 1)
    _, ah, u, v = cv2.split(cv2.resize(yauv, (w // 2, h // 2), interpolation=cv2.INTER_AREA))
    composite(dst, y, a, u, v, ah, x, top)


def composite(dst: Planes, y: np.ndarray, a: np.ndarray, u: np.ndarray, v: np.ndarray, ah: np.ndarray, x: int,
              top: int, inv: np.ndarray | None = None, inv_half: np.ndarray | None = None) -> None:
    """Premultiplied layer over the planes at even (x, top); the layer lies inside the frame (callers clip)."""
    h, w = y.shape
    _blend(dst.y[top : top + h, x : x + w], y, inv if inv is not None else cv2.bitwise_not(a))
    inv_h = inv_half if inv_half is not None else cv2.bitwise_not(ah)
    cy, cx = top // 2, x // 2
    _blend(dst.u[cy : cy + h // 2, cx : cx + w // 2], u, inv_h)
    _blend(dst.v[cy : cy + h // 2, cx : cx + w // 2], v, inv_h)


@dataclass
class YuvPatch:
    """A static overlay region (logo, copy panel) ready to blend: inverse alphas precomputed."""

    x: int
    y: int
    layer: YuvLayer
    inv: np.ndarray
    inv_half: np.ndarray
    chroma: tuple[np.ndarray, np.ndarray, np.ndarray] = field(init=False)

    def __post_init__(self) -> None:
        u, v, ah = cv2.split(self.layer.uva)
        self.chroma = (u, v, ah)

    def draw(self, dst: Planes, opacity: float = 1.0) -> None:
        layer = self.layer
        u, v, ah = self.chroma
        if opacity >= 0.999:
            composite(dst, layer.y, layer.a, u, v, ah, self.x, self.y, self.inv, self.inv_half)
        elif opacity > 0.001:
            y, a, u, v, ah = (cv2.convertScaleAbs(p, alpha=opacity) for p in (layer.y, layer.a, u, v, ah))
            composite(dst, y, a, u, v, ah, self.x, self.y)


def yuv_patches(premultiplied: list[tuple[int, int, np.ndarray]], width: int, height: int) -> list[YuvPatch]:
    """(x, y, premultiplied RGBA) pieces -> patches grown to even bounds inside the (even-sized) frame."""
    out = []
    for x, y, rgba in premultiplied:
        h, w = rgba.shape[:2]
        x0, y0 = x - x % 2, y - y % 2
        x1, y1 = min(width, x + w + (x + w) % 2), min(height, y + h + (y + h) % 2)
        canvas = np.zeros((y1 - y0, x1 - x0, 4), np.uint8)
        canvas[y - y0 : y - y0 + h, x - x0 : x - x0 + w] = rgba[: y1 - y, : x1 - x]
        layer = layer_from_premultiplied(canvas)
        out.append(YuvPatch(x0, y0, layer, cv2.bitwise_not(layer.a), cv2.bitwise_not(np.ascontiguousarray(layer.uva[..., 2]))))
    return out


def crossfade(dst: Planes, a: Planes, b: Planes, weight: float) -> None:
    """dst = a * (1 - weight) + b * weight, plane by plane (dst may be a)."""
    for name in ("y", "u", "v"):
        cv2.addWeighted(getattr(a, name), 1 - weight, getattr(b, name), weight, 0, dst=getattr(dst, name))
