"""The local renderer's frame loop: a lit set, the product sprite moved by the camera, overlays, end card.

Frames stream one at a time; static layers are computed once; the product is placed with a float affine
matrix (sub-pixel), never snapped to whole pixels.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np

from skureel.domain import ShotSpec
from skureel.render.effects import SpriteAnimator
from skureel.render.layout import Box
from skureel.render.motion import CameraPath
from skureel.render.studio import Sprite, build_sprite, studio_set

PARALLAX_MARGIN = 48


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

    @property
    def total_frames(self) -> int:
        return int(round((self.shot_seconds + self.end_card_seconds) * self.fps))


class SceneRenderer:
    """Renders one shot of a cut-out product on a studio set into frames of one format."""

    def __init__(self, shot: ShotSpec, image_rgba: np.ndarray, mask: np.ndarray, bbox: tuple[int, int, int, int],
                 plan: RenderPlan, full_frame: bool = False) -> None:
        self.shot, self.plan, self.full_frame = shot, plan, full_frame
        self.path = CameraPath(shot.camera, shot.seed)
        zoom_max = max(self.path.zoom_start, self.path.zoom_end, 1.0) * (1.06 if shot.camera.handheld else 1.0)
        rx0, ry0, rx1, ry1 = plan.product_region
        bw, bh = bbox[2] - bbox[0], bbox[3] - bbox[1]
        # the product must fit its region at the largest zoom, including pans and parallax shifts
        slack = 1 + 2 * (abs(shot.camera.pan) + abs(math.sin(math.radians(shot.camera.arc_deg))) * 0.2)
        scale = min((rx1 - rx0) / (bw * zoom_max * slack), (ry1 - ry0) / (bh * zoom_max * slack))
        if full_frame:
            cover = max(plan.width / bw, plan.height / bh)
            contain = min(plan.width / bw, plan.height / bh)
            scale = cover if cover / contain < 1.25 else contain
            scale /= min(self.path.zoom_start, self.path.zoom_end)
        self.sprite: Sprite = build_sprite(image_rgba, mask, bbox, scale, shot.lighting, shadows=not full_frame)
        self.animator = SpriteAnimator(self.sprite, shot.motion_effect, shot.lighting.key_x)
        self.centre = ((rx0 + rx1) / 2, (ry0 + ry1) / 2)
        if full_frame:
            self.centre = (plan.width / 2, plan.height / 2)
        floor = (ry1 - ry0) and (self.centre[1] + (bh * scale) / 2) / plan.height
        if full_frame:
            self.set = self._blurred_fill(image_rgba, bbox)
        else:
            self.set = studio_set(plan.width, plan.height, plan.background_hex, shot.lighting, min(0.95, floor),
                                  margin=PARALLAX_MARGIN)
        self.set_blur = cv2.GaussianBlur(self.set, (0, 0), 9) if shot.camera.focus_pull else None
        self.patches = overlay_patches(plan.overlay) if plan.overlay is not None else []

    def _blurred_fill(self, image_rgba: np.ndarray, bbox: tuple[int, int, int, int]) -> np.ndarray:
        """Behind a contained lifestyle photo: the photo itself, enlarged and blurred."""
        w, h = self.plan.width + 2 * PARALLAX_MARGIN, self.plan.height
        src = image_rgba[bbox[1] : bbox[3], bbox[0] : bbox[2], :3]
        small = cv2.resize(src, (max(8, w // 16), max(8, h // 16)), interpolation=cv2.INTER_AREA)
        return (cv2.resize(cv2.GaussianBlur(small, (0, 0), 3), (w, h), interpolation=cv2.INTER_LINEAR) * 0.8).astype(np.uint8)

    def frames(self) -> Iterator[np.ndarray]:
        plan = self.plan
        shot_frames = int(round(plan.shot_seconds * plan.fps))
        end_frames = plan.total_frames - shot_frames
        fade_in = int(0.6 * plan.fps)
        sx, sy = self.sprite.centre
        frame = np.empty((plan.height, plan.width, 3), np.uint8)
        last_shot: np.ndarray | None = None
        for i in range(shot_frames):
            t = i / max(1, shot_frames - 1)
            cam = self.path.at(t)
            offset = PARALLAX_MARGIN + int(round(cam.background_dx * plan.width))
            offset = min(2 * PARALLAX_MARGIN, max(0, offset))
            if self.set_blur is not None and cam.focus > 0.01:
                # rack focus: the set goes soft as focus lands on the product
                background = cv2.addWeighted(self.set[:, offset : offset + plan.width], 1 - cam.focus,
                                             self.set_blur[:, offset : offset + plan.width], cam.focus, 0)
                frame[...] = background
            else:
                frame[...] = self.set[:, offset : offset + plan.width]
            sprite = self.animator.frame(t)
            rise, opacity = 0.0, 1.0
            if self.shot.motion_effect == "reveal":
                r = min(1.0, t / 0.3)
                ease = 1 - (1 - r) ** 3
                rise, opacity = (1 - ease) * plan.height * 0.06, min(1.0, 0.15 + ease)
            zoom = cam.zoom * 1.0
            cx = self.centre[0] + cam.dx * plan.width
            cy = self.centre[1] + cam.dy * plan.height + rise
            angle = math.radians(cam.roll_deg)
            cos, sin = math.cos(angle) * zoom, math.sin(angle) * zoom
            # float affine: sprite centre -> (cx, cy); every frame lands between pixels as it should
            matrix = np.array([[cos, -sin, cx - cos * sx + sin * sy], [sin, cos, cy - sin * sx - cos * sy]], dtype=np.float32)
            h, w = sprite.shape[:2]
            corners = np.array([[0, 0, 1], [w, 0, 1], [0, h, 1], [w, h, 1]], np.float32) @ matrix.T
            x0, y0 = np.floor(corners.min(axis=0)).astype(int) - 1
            x1, y1 = np.ceil(corners.max(axis=0)).astype(int) + 1
            x0, y0, x1, y1 = max(0, x0), max(0, y0), min(plan.width, x1), min(plan.height, y1)
            if x1 > x0 and y1 > y0:
                local = matrix.copy()
                local[0, 2] -= x0
                local[1, 2] -= y0
                warped = cv2.warpAffine(sprite, local, (int(x1 - x0), int(y1 - y0)), flags=cv2.INTER_LINEAR,
                                        borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
                composite_premultiplied(frame, warped, int(x0), int(y0), opacity)
            pb = np.array([[self.sprite.product_box[0], self.sprite.product_box[1], 1],
                           [self.sprite.product_box[2], self.sprite.product_box[1], 1],
                           [self.sprite.product_box[0], self.sprite.product_box[3], 1],
                           [self.sprite.product_box[2], self.sprite.product_box[3], 1]], np.float32) @ matrix.T
            plan.product_boxes.append((float(pb[:, 0].min()), float(pb[:, 1].min()), float(pb[:, 0].max()),
                                       float(pb[:, 1].max())))
            if plan.decorate is not None:
                plan.decorate(frame, i / plan.fps)
            overlay_opacity = min(1.0, max(0.0, (i - 6) / fade_in)) if fade_in else 1.0
            for patch in self.patches:
                patch.draw(frame, overlay_opacity)
            last_shot = frame
            yield frame
        yield from end_card_frames(plan, last_shot, end_frames)


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
