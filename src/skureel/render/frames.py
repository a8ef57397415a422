"""The local renderer's frame loop: a lit set, the product sprite moved by the camera, overlays, end card.

Frames stream one at a time; static layers are computed once; the product is placed with a float affine
matrix (sub-pixel), never snapped to whole pixels.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import av
import cv2
import numpy as np

from skureel.domain import ShotSpec
from skureel.render.effects import SpriteAnimator, YuvSpriteAnimator, has_meniscus, material_motion
from skureel.render.layout import Box
from skureel.render.lid import LID_HEADROOM
from skureel.render.motion import CameraPath
from skureel.render.studio import Sprite, build_sprite, studio_set
from skureel.render.yuv import (
    FrameRing,
    Planes,
    composite_yauv,
    crossfade,
    i420_planes,
    release_free_memory,
    still_frame,
    yauv_from_premultiplied,
    yuv_patches,
)

PARALLAX_MARGIN = 48
REFLECTION = 0.2  # the product's reflection in the floor at its contact line (alpha), fading out below


def composite_premultiplied(dst: np.ndarray, src: np.ndarray, x: int, y: int, opacity: float = 1.0) -> None:
    """dst[y:, x:] = src over dst, src premultiplied RGBA uint8; clipped to dst; in place, SIMD via OpenCV."""
    h, w = src.shape[:2]
    H, W = dst.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if x0 >= x1 or y0 >= y1:
        return
    patch = src[y0 - y : y1 - y, x0 - x : x1 - x]
    if opacity < 0.999:
        patch = cv2.convertScaleAbs(patch, alpha=opacity)
    r, g, b, a = cv2.split(patch)
    composite_planes(dst, cv2.merge([r, g, b]), a, x0, y0)


def composite_planes(dst: np.ndarray, rgb: np.ndarray, alpha: np.ndarray, x: int, y: int,
                     inv3: np.ndarray | None = None) -> None:
    """Composite an already split premultiplied layer (rgb + alpha) at (x, y); inv3 may be precomputed."""
    h, w = rgb.shape[:2]
    region = dst[y : y + h, x : x + w]
    if inv3 is None:
        inv = 255 - alpha
        inv3 = cv2.merge([inv, inv, inv])
    kept = cv2.multiply(region, inv3, scale=1 / 255.0)
    cv2.add(kept, rgb, dst=region)


@dataclass
class OverlayPatch:
    x: int
    y: int
    rgba: np.ndarray  # premultiplied
    rgb: np.ndarray | None = None
    alpha: np.ndarray | None = None
    inv3: np.ndarray | None = None

    def __post_init__(self) -> None:
        r, g, b, a = cv2.split(self.rgba)
        self.rgb, self.alpha = cv2.merge([r, g, b]), a
        inv = 255 - a
        self.inv3 = cv2.merge([inv, inv, inv])

    def draw(self, frame: np.ndarray, opacity: float = 1.0) -> None:
        h, w = self.rgba.shape[:2]
        if self.y + h > frame.shape[0] or self.x + w > frame.shape[1]:
            composite_premultiplied(frame, self.rgba, self.x, self.y, opacity)
        elif opacity < 0.999:
            composite_premultiplied(frame, self.rgba, self.x, self.y, opacity)
        else:
            assert self.rgb is not None and self.alpha is not None
            composite_planes(frame, self.rgb, self.alpha, self.x, self.y, self.inv3)


def overlay_patches(overlay: np.ndarray) -> list[OverlayPatch]:
    """Split a full-frame RGBA overlay into its non-empty regions so per-frame work touches only those."""
    alpha = overlay[..., 3]
    patches: list[OverlayPatch] = []
    rows = alpha.any(axis=1)
    if not rows.any():
        return patches
    # group into horizontal bands: cheap and keeps the count small
    ys = np.nonzero(rows)[0]
    breaks = np.nonzero(np.diff(ys) > 24)[0]
    starts = np.concatenate([[ys[0]], ys[breaks + 1]])
    ends = np.concatenate([ys[breaks], [ys[-1]]]) + 1
    for y0, y1 in zip(starts, ends, strict=True):
        band = alpha[y0:y1]
        cols = np.nonzero(band.any(axis=0))[0]
        x0, x1 = int(cols[0]), int(cols[-1]) + 1
        piece = overlay[y0:y1, x0:x1].astype(np.uint16)
        premult = piece.copy()
        premult[..., :3] = (piece[..., :3] * piece[..., 3:4] + 127) // 255
        patches.append(OverlayPatch(x=x0, y=int(y0), rgba=premult.astype(np.uint8)))
    return patches


@dataclass
class RenderPlan:
    width: int
    height: int
    fps: int
    shot_seconds: float
    end_card_seconds: float
    background_hex: str
    product_region: Box
    overlay: np.ndarray | None = None  # RGBA, full frame
    end_card: np.ndarray | None = None  # RGB, full frame
    product_boxes: list[tuple[float, float, float, float]] = field(default_factory=list)  # per frame, for checks
    decorate: Callable[[np.ndarray, float], None] | None = None  # extra layers (presenter, captions) at time t (s)
    decorate_yuv: Callable[[Planes, float], None] | None = None  # the same drawn into yuv420p planes (yuv_frames)

    @property
    def total_frames(self) -> int:
        return int(round((self.shot_seconds + self.end_card_seconds) * self.fps))


@dataclass(frozen=True)
class Placement:
    """Where the product is on one frame: a float affine matrix (sprite -> frame), never snapped to pixels."""

    t: float  # normalised time of the camera move, 0..1
    matrix: np.ndarray  # 2x3 float32
    opacity: float
    offset: int  # parallax offset of the set, even (so chroma stays aligned)
    focus: float


def reveal_state(effect: str, t: float, height: int) -> tuple[float, float]:
    """(downward shift px, opacity): a reveal rises a little into place as it fades up."""
    if effect != "reveal":
        return 0.0, 1.0
    ease = 1 - (1 - min(1.0, t / 0.3)) ** 3
    return (1 - ease) * height * 0.03, min(1.0, 0.15 + ease)


def fit_scale(path: CameraPath, effect: str, region: Box, centre: tuple[float, float], size: tuple[float, float],
              frame: tuple[int, int], count: int) -> float:
    """The largest scale at which the product box (size, in image pixels) stays inside `region` on every frame of
    the move: exact, from the camera path itself, so no generic slack is lost (the product fills its box)."""
    rx0, ry0, rx1, ry1 = region
    width, height = frame
    bw, bh = size
    best = math.inf
    for i in range(max(2, count)):
        t = i / max(1, count - 1)
        cam = path.at(t)
        rise, _ = reveal_state(effect, t, height)
        ox, oy = centre[0] + cam.dx * width, centre[1] + cam.dy * height + rise
        angle = math.radians(cam.roll_deg)
        cos, sin = math.cos(angle) * cam.zoom, math.sin(angle) * cam.zoom
        for px, py in ((-bw / 2, -bh / 2), (bw / 2, -bh / 2), (-bw / 2, bh / 2), (bw / 2, bh / 2)):
            for k, origin, low, high in ((cos * px - sin * py, ox, rx0, rx1), (sin * px + cos * py, oy, ry0, ry1)):
                if k > 1e-9:
                    best = min(best, (high - origin) / k)
                elif k < -1e-9:
                    best = min(best, (low - origin) / k)
    return max(1e-3, best)


def with_headroom(sprite: Sprite, rows: int) -> Sprite:
    """The sprite with `rows` transparent rows on top, counted in its product box (a lid rises into them)."""
    x0, y0, x1, y1 = sprite.product_box
    return Sprite(rgba=np.pad(sprite.rgba, ((rows, 0), (0, 0), (0, 0))), product_box=(x0, y0, x1, y1 + rows),
                  product_alpha=np.pad(sprite.product_alpha, ((rows, 0), (0, 0))))


class SceneRenderer:
    """Renders one shot of a cut-out product on a studio set into frames of one format.

    The product keeps moving through a cross-fade into the end card; `frames()` yields RGB arrays (and runs
    `plan.decorate`), `yuv_frames()` yields yuv420p VideoFrames drawn in place (the fast path, render/yuv.py).
    """

    def __init__(self, shot: ShotSpec, image_rgba: np.ndarray, mask: np.ndarray, bbox: tuple[int, int, int, int],
                 plan: RenderPlan, full_frame: bool = False, inside: np.ndarray | None = None) -> None:
        """`inside`: an RGB photo of what a package holds (the SKU's second image), shown as its lid lifts."""
        self.shot, self.plan, self.full_frame, self.inside = shot, plan, full_frame, inside
        self.path = CameraPath(shot.camera, shot.seed)
        self.shot_frames = int(round(plan.shot_seconds * plan.fps))
        self.end_frames = plan.total_frames - self.shot_frames
        self.crossfade = min(self.end_frames, int(round(0.4 * plan.fps))) if self.end_frames > 0 else 0
        self.motion_frames = self.shot_frames + self.crossfade
        rx0, ry0, rx1, ry1 = plan.product_region
        bw, bh = bbox[2] - bbox[0], bbox[3] - bbox[1]
        self.centre = ((rx0 + rx1) / 2, (ry0 + ry1) / 2)
        if full_frame:
            self.centre = (plan.width / 2, plan.height / 2)
            cover = max(plan.width / bw, plan.height / bh)
            contain = min(plan.width / bw, plan.height / bh)
            scale = cover if cover / contain < 1.25 else contain
            scale /= min(self.path.zoom_start, self.path.zoom_end)
        self.effect = material_motion(shot.motion_effect, shot.material)
        # a lid needs headroom to rise into: it is part of the box that must stay inside the frame
        headroom = LID_HEADROOM if self.effect == "lid" and not full_frame else 0.0
        if not full_frame:
            scale = fit_scale(self.path, self.effect, plan.product_region, self.centre, (bw, bh * (1 + headroom)),
                              (plan.width, plan.height), self.motion_frames)
        self.sprite: Sprite = build_sprite(image_rgba, mask, bbox, scale, shot.lighting, shadows=not full_frame,
                                           reflection=REFLECTION)
        if headroom:
            self.sprite = with_headroom(self.sprite, int(round(bh * scale * headroom)))
        self.animator = SpriteAnimator(self.sprite, shot.motion_effect, shot.lighting.key_x)
        floor = (ry1 - ry0) and (self.centre[1] + (bh * (1 + headroom) * scale) / 2) / plan.height
        self.set: np.ndarray | None
        if full_frame:
            self.set = self._blurred_fill(image_rgba, bbox)
        else:
            # the wall meets the floor a little behind the product, so it stands on the floor, not on the seam
            behind = 0.25 * bh * scale / plan.height
            self.set = studio_set(plan.width, plan.height, plan.background_hex, shot.lighting, min(0.95, floor),
                                  margin=PARALLAX_MARGIN, horizon=min(0.95, floor) - behind,
                                  contact_x=self.centre[0] / plan.width)
        self.set_blur = cv2.GaussianBlur(self.set, (0, 0), 9) if shot.camera.focus_pull else None
        self.patches = overlay_patches(plan.overlay) if plan.overlay is not None else []

    def _blurred_fill(self, image_rgba: np.ndarray, bbox: tuple[int, int, int, int]) -> np.ndarray:
        """Behind a contained lifestyle photo: the photo itself, enlarged and blurred."""
        w, h = self.plan.width + 2 * PARALLAX_MARGIN, self.plan.height
        src = image_rgba[bbox[1] : bbox[3], bbox[0] : bbox[2], :3]
        small = cv2.resize(src, (max(8, w // 16), max(8, h // 16)), interpolation=cv2.INTER_AREA)
        return (cv2.resize(cv2.GaussianBlur(small, (0, 0), 3), (w, h), interpolation=cv2.INTER_LINEAR) * 0.8).astype(np.uint8)

    def placement(self, i: int) -> Placement:
        plan = self.plan
        t = i / max(1, self.motion_frames - 1)
        cam = self.path.at(t)
        offset = PARALLAX_MARGIN + int(round(cam.background_dx * plan.width / 2)) * 2
        offset = min(2 * PARALLAX_MARGIN, max(0, offset))
        rise, opacity = reveal_state(self.effect, t, plan.height)
        sx, sy = self.sprite.centre
        cx = self.centre[0] + cam.dx * plan.width
        cy = self.centre[1] + cam.dy * plan.height + rise
        angle = math.radians(cam.roll_deg)
        cos, sin = math.cos(angle) * cam.zoom, math.sin(angle) * cam.zoom
        # float affine: sprite centre -> (cx, cy); every frame lands between pixels as it should
        matrix = np.array([[cos, -sin, cx - cos * sx + sin * sy], [sin, cos, cy - sin * sx - cos * sy]], dtype=np.float32)
        pb = self.sprite.product_box
        corners = np.array([[pb[0], pb[1], 1], [pb[2], pb[1], 1], [pb[0], pb[3], 1], [pb[2], pb[3], 1]],
                           np.float32) @ matrix.T
        plan.product_boxes.append((float(corners[:, 0].min()), float(corners[:, 1].min()), float(corners[:, 0].max()),
                                   float(corners[:, 1].max())))
        return Placement(t=t, matrix=matrix, opacity=opacity, offset=offset, focus=cam.focus)

    def target_rect(self, matrix: np.ndarray, size: tuple[int, int], even: bool) -> tuple[int, int, int, int]:
        """The frame rectangle the warped sprite covers, clipped to the frame (grown to even bounds for chroma)."""
        w, h = size
        corners = np.array([[0, 0, 1], [w, 0, 1], [0, h, 1], [w, h, 1]], np.float32) @ matrix.T
        x0, y0 = (int(v) for v in np.floor(corners.min(axis=0)) - 1)
        x1, y1 = (int(v) for v in np.ceil(corners.max(axis=0)) + 1)
        if even:
            x0, y0, x1, y1 = x0 - x0 % 2, y0 - y0 % 2, x1 + x1 % 2, y1 + y1 % 2
        return max(0, x0), max(0, y0), min(self.plan.width, x1), min(self.plan.height, y1)

    def overlay_opacity(self, i: int) -> float:
        fade_in = int(0.6 * self.plan.fps)
        return min(1.0, max(0.0, (i - 6) / fade_in)) if fade_in else 1.0

    def frames(self) -> Iterator[np.ndarray]:
        plan = self.plan
        assert self.set is not None, "yuv_frames() has already released the RGB layers"
        frame = np.empty((plan.height, plan.width, 3), np.uint8)
        card = plan.end_card if plan.end_card is not None else np.zeros_like(frame)
        for i in range(self.motion_frames):
            p = self.placement(i)
            window = slice(p.offset, p.offset + plan.width)
            if self.set_blur is not None and p.focus > 0.01:
                # rack focus: the set goes soft as focus lands on the product
                frame[...] = cv2.addWeighted(self.set[:, window], 1 - p.focus, self.set_blur[:, window], p.focus, 0)
            else:
                frame[...] = self.set[:, window]
            sprite = self.animator.frame(p.t)
            h, w = sprite.shape[:2]
            x0, y0, x1, y1 = self.target_rect(p.matrix, (w, h), even=False)
            if x1 > x0 and y1 > y0:
                local = p.matrix.copy()
                local[0, 2] -= x0
                local[1, 2] -= y0
                warped = cv2.warpAffine(sprite, local, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                                        borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
                composite_premultiplied(frame, warped, x0, y0, p.opacity)
            if plan.decorate is not None:
                plan.decorate(frame, i / plan.fps)
            for patch in self.patches:
                patch.draw(frame, self.overlay_opacity(i))
            if i >= self.shot_frames:  # the shot keeps moving while the end card fades over it
                weight = (i - self.shot_frames + 1) / (self.crossfade + 1)
                yield cv2.addWeighted(frame, 1 - weight, card, weight, 0)
            else:
                yield frame
        for _ in range(self.end_frames - self.crossfade):
            yield card

    def yuv_frames(self) -> Iterator[av.VideoFrame]:
        """The same clip drawn straight into yuv420p planes (render/yuv.py), with `plan.decorate_yuv` (not
        `plan.decorate`, which frames() draws in RGB) over the product.

        Once started it releases the RGB layers (set, overlay, end card), so call it once, instead of frames()."""
        plan = self.plan
        yauv = yauv_from_premultiplied(self.sprite.rgba)
        animator = YuvSpriteAnimator(self.sprite, yauv, self.effect, self.shot.lighting.key_x, inside=self.inside,
                                     meniscus=has_meniscus(self.effect, self.shot.material))
        assert self.set is not None, "yuv_frames() runs once"
        sets = [i420_planes(self.set)]
        if self.set_blur is not None:
            sets.append(i420_planes(self.set_blur))
        patches = yuv_patches([(p.x, p.y, p.rgba) for p in self.patches], plan.width, plan.height)
        card = still_frame(plan.end_card if plan.end_card is not None else np.zeros((plan.height, plan.width, 3), np.uint8))
        # the RGB layers are a full frame each and x264 is about to need ~200 MB at 1080x1920: let them go
        self.patches, plan.overlay, plan.end_card = [], None, None
        self.set = self.set_blur = None
        ring = FrameRing(plan.width, plan.height, size=2)
        release_free_memory()
        h, w = yauv.shape[:2]
        # x264's frame threads keep every core busy, so OpenCV's own pool only adds wake-ups (CPU, not speed)
        threads = cv2.getNumThreads()
        cv2.setNumThreads(1)
        try:
            for i in range(self.motion_frames):
                p = self.placement(i)
                out = ring.next()
                for c, (dst, width) in enumerate(((out.y, plan.width), (out.u, plan.width // 2), (out.v, plan.width // 2))):
                    start = p.offset if c == 0 else p.offset // 2
                    if len(sets) > 1 and p.focus > 0.01:
                        cv2.addWeighted(sets[0][c][:, start : start + width], 1 - p.focus,
                                        sets[1][c][:, start : start + width], p.focus, 0, dst=dst)
                    else:
                        dst[...] = sets[0][c][:, start : start + width]
                x0, y0, x1, y1 = self.target_rect(p.matrix, (w, h), even=True)
                if x1 > x0 and y1 > y0:
                    local = p.matrix.copy()
                    local[0, 2] -= x0
                    local[1, 2] -= y0
                    warped = cv2.warpAffine(animator.frame(p.t), local, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                                            borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
                    if p.opacity < 0.999:
                        warped = cv2.convertScaleAbs(warped, alpha=p.opacity)
                    composite_yauv(out, warped, x0, y0)
                if plan.decorate_yuv is not None:
                    plan.decorate_yuv(out, i / plan.fps)
                opacity = self.overlay_opacity(i)
                for patch in patches:
                    patch.draw(out, opacity)
                if i >= self.shot_frames:
                    crossfade(out, out, card, (i - self.shot_frames + 1) / (self.crossfade + 1))
                yield out.frame
            for _ in range(self.end_frames - self.crossfade):
                yield card.frame
        finally:
            cv2.setNumThreads(threads)


def end_card_frames(plan: RenderPlan, last: np.ndarray | None, count: int) -> Iterator[np.ndarray]:
    if count <= 0:
        return
    card = plan.end_card if plan.end_card is not None else np.zeros((plan.height, plan.width, 3), np.uint8)
    fade = max(1, int(0.3 * plan.fps))
    start = last.copy() if last is not None else card
    for i in range(count):
        if i < fade:
            yield cv2.addWeighted(start, 1 - (i + 1) / fade, card, (i + 1) / fade, 0)
        else:
            yield card
