"""Camera paths: the blueprint's normalised move evaluated at any time, in float (sub-pixel) precision."""

from __future__ import annotations

import math
from dataclasses import dataclass

from skureel.domain import CameraSpec


def ease_in_out(t: float) -> float:
    """Eases in and out without a jolt, yet never stops entirely."""
    t = min(1.0, max(0.0, t))
    s = t * t * (3 - 2 * t)
    # mostly smooth, with a little constant velocity so no stretch of frames is still
    return 0.75 * s + 0.25 * t


@dataclass(frozen=True)
class CameraState:
    zoom: float  # scale applied around the product centre
    dx: float  # shift of the product, fraction of frame width (+ right)
    dy: float  # fraction of frame height (+ down)
    background_dx: float  # parallax shift of the set (smaller than the product's)
    roll_deg: float
    focus: float  # 0 = set sharp, 1 = set fully defocused


class CameraPath:
    def __init__(self, camera: CameraSpec, seed: int) -> None:
        self.camera = camera
        self.phases = [((seed >> (i * 4)) & 0xFF) / 255 * math.tau for i in range(4)]
        # a locked-off shot still breathes a little, so no stretch of frames is frozen
        self.zoom_start = camera.zoom_start
        self.zoom_end = camera.zoom_end if abs(camera.zoom_end - camera.zoom_start) > 1e-3 else camera.zoom_start + 0.02

    def at(self, t: float) -> CameraState:
        c = self.camera
        e = ease_in_out(t)
        zoom = self.zoom_start + (self.zoom_end - self.zoom_start) * e
        # pans move the product against the set; orbits add parallax: product moves more than the set
        arc = math.sin(math.radians(c.arc_deg)) * 0.35 * (e - 0.5)
        dx = -c.pan * (e - 0.5) + arc
        dy = -c.tilt * (e - 0.5) + c.crane * (e - 0.5)
        if c.handheld:
            dx += c.handheld * (math.sin(t * 5.1 + self.phases[0]) + 0.5 * math.sin(t * 11.3 + self.phases[1]))
            dy += c.handheld * (math.sin(t * 4.3 + self.phases[2]) + 0.5 * math.sin(t * 9.7 + self.phases[3]))
        return CameraState(zoom=zoom, dx=dx, dy=dy, background_dx=-c.pan * (e - 0.5) * 0.3 - arc * 0.25,
                           roll_deg=c.roll_deg * (e - 0.5) * 2, focus=c.focus_pull * e)
