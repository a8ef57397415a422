"""Package opening: the cut-out is split at its lid line and the lid lifts and tips back on its hinge.

Works on the sprite's (h, w, 4) premultiplied Y/A/U/V layer (render/yuv.py). The lid line is the strongest
horizontal edge in the upper part of the product (a box's lid seam casts one); the lid is warped with a perspective
transform (its far edge narrows and the face foreshortens as it tips back, and it darkens as it turns from the key
light), while the opening it leaves shows the inside, in shadow (the lid's silhouette, darkened). The sprite carries transparent headroom above
the product (LID_HEADROOM of its height) so the raised lid is placed, and checked against the frame, like the rest.
"""

from __future__ import annotations

import cv2
import numpy as np

from skureel.render.yuv import yauv_from_premultiplied

LID_HEADROOM = 0.3  # share of the product's height left free above it for the lid to rise into


def ease(x: float) -> float:
    x = min(1.0, max(0.0, x))
    return x * x * (3 - 2 * x)


def lid_line(luma: np.ndarray, alpha: np.ndarray, top: int, bottom: int, span: tuple[float, float] = (0.08, 0.45),
             fallback: float = 0.22) -> int:
    """Row of the lid seam: the strongest mostly-horizontal luma edge `span` (8-45 %) down the product; 22 % if none."""
    height = bottom - top
    lo, hi = top + int(height * span[0]), top + int(height * span[1])
    row = top + int(height * fallback)
    if hi - lo < 3:
        return row
    inside = (alpha[lo:hi] > 200).astype(np.float32)
    edge = np.abs(np.diff(luma[lo - 1 : hi].astype(np.float32), axis=0)) * inside
    widths = inside.sum(axis=1)
    score = edge.sum(axis=1) / np.maximum(1.0, widths)
    score[widths < max(4.0, float(widths.max()) * 0.5)] = 0  # a seam runs across most of the product
    if float(score.max()) < 6.0:
        return row
    return lo + int(np.argmax(score))


def toward_black(y: np.ndarray, a: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Premultiplied luma darkened toward black (16 * alpha, not 0), keeping `keep` of the light above it."""
    black = a.astype(np.float32) * (16 / 255)
    out: np.ndarray = np.clip(black + (y.astype(np.float32) - black) * keep + 0.5, 0, 255).astype(np.uint8)
    return out


def inside_layer(region: np.ndarray, top: int, line: int, photo: np.ndarray) -> np.ndarray:
    """The SKU's second photo (RGB, cropped to its subject) cover-fitted into the opening the lid leaves, inside its
    silhouette, as a (h, w, 4) Y/A/U/V layer of the region's size; a little darker, as inside a box."""
    h, w = region.shape[:2]
    silhouette = region[top:line, :, 1]
    cols = np.nonzero(silhouette.max(axis=0) > 127)[0]
    x0, x1 = (int(cols[0]), int(cols[-1]) + 1) if cols.size else (0, w)
    ow, oh = x1 - x0, max(1, line - top)
    ph, pw = photo.shape[:2]
    scale = max(ow / pw, oh / ph)
    fitted = cv2.resize(photo, (max(ow, int(round(pw * scale))), max(oh, int(round(ph * scale)))),
                        interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    fy, fx = (fitted.shape[0] - oh) // 2, (fitted.shape[1] - ow) // 2
    rgba = np.zeros((h, w, 4), np.float32)
    a = silhouette[:, x0:x1].astype(np.float32) / 255.0
    depth = np.linspace(0.62, 0.9, oh, dtype=np.float32)[:, None, None]  # the far wall is in the lid's shadow
    rgba[top:line, x0:x1, :3] = fitted[fy : fy + oh, fx : fx + ow].astype(np.float32) * depth * a[..., None]
    rgba[top:line, x0:x1, 3] = silhouette[:, x0:x1]
    return yauv_from_premultiplied(np.clip(rgba + 0.5, 0, 255).astype(np.uint8))


class LidOpening:
    """The lid lifts from t = 0.2 to 0.7; the opening shows `inside` (an RGB photo of the contents) when the SKU
    has a second image, otherwise the box's own silhouette in deep shadow."""

    def __init__(self, yauv: np.ndarray, box: tuple[int, int, int, int], inside: np.ndarray | None = None) -> None:
        x0, y0, x1, y1 = box
        self.box = box
        region = np.ascontiguousarray(yauv[y0:y1, x0:x1])
        alpha = region[..., 1]
        rows = np.nonzero(alpha.max(axis=1) > 127)[0]
        top, bottom = (int(rows[0]), int(rows[-1]) + 1) if rows.size else (0, region.shape[0])
        self.top, self.line = top, lid_line(region[..., 0], alpha, top, bottom)
        self.lid = np.zeros_like(region)
        self.lid[top : self.line] = region[top : self.line]
        self.body = region.copy()  # where the lid was, the opening: the same silhouette, in deep shadow
        self.lift = max(4.0, (bottom - top) * LID_HEADROOM * 0.8)
        band = max(3, int((bottom - top) * 0.08))
        shade = np.zeros(region.shape[0], np.float32)
        shade[top : self.line] = 0.8 if inside is None else 0.0
        if inside is not None:
            self.body[top : self.line] = inside_layer(region, top, self.line, inside)[top : self.line]
        shade[self.line : self.line + band] = np.linspace(0.45, 0.0, len(shade[self.line : self.line + band]))
        self.shade = shade
        self.closed = region
        self.out = yauv.copy()

    def frame(self, t: float) -> np.ndarray:
        x0, y0, x1, y1 = self.box
        s = ease((t - 0.2) / 0.5)  # closed for the first fifth, open by 70 % of the shot, then held
        if s <= 0.0:
            self.out[y0:y1, x0:x1] = self.closed
            return self.out
        h, w = self.body.shape[:2]
        lid_h = float(self.line - self.top)
        # perspective: the lid's far (top) edge narrows; its face foreshortens as it tips back; all of it rises
        narrow = w * 0.07 * s
        rise = self.lift * s
        top_y = self.top - rise
        bottom_y = self.top + lid_h * (1 - 0.65 * s) - rise
        src = np.array([[0, self.top], [w, self.top], [w, self.line], [0, self.line]], np.float32)
        dst = np.array([[narrow, top_y], [w - narrow, top_y], [w, bottom_y], [0, bottom_y]], np.float32)
        lid = cv2.warpPerspective(self.lid, cv2.getPerspectiveTransform(src, dst), (w, h), flags=cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
        lid[..., 0] = toward_black(lid[..., 0], lid[..., 1], np.full(1, 1 - 0.25 * s, np.float32))  # turning from the light
        body = self.body.copy()
        body[..., 0] = toward_black(body[..., 0], body[..., 1], (1 - self.shade * s)[:, None])
        inv = cv2.bitwise_not(np.ascontiguousarray(lid[..., 1]))
        kept = cv2.multiply(body, cv2.merge([inv, inv, inv, inv]), scale=1 / 255.0)
        self.out[y0:y1, x0:x1] = cv2.add(kept, lid)
        return self.out
