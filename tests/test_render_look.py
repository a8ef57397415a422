"""The local renderer's look, read from rendered Y planes: a backdrop without hard edges (no layer's bounds show)
and a lower frame that is a lit floor the product stands on (reflection, falloff), not an empty band."""

from __future__ import annotations

import numpy as np
from tests.test_composition import shot_for

from skureel.domain import LightingSpec, ShotSpec
from skureel.formats import preset
from skureel.render.frames import RenderPlan, SceneRenderer
from skureel.render.layout import layout_for
from skureel.render.yuv import planes_of

SOFT_KEY = LightingSpec(setup="softbox", direction="upper left", quality="soft", colour_temperature_k=5200)


def tall_product(value: int = 40) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]]:
    """A tall dark box (a camera-like shape: its cast shadow throws far to the side) on a transparent canvas."""
    rgba = np.zeros((640, 420, 4), np.uint8)
    rgba[40:600, 80:340] = (value, value, value, 255)
    return rgba, rgba[..., 3].copy(), (80, 40, 340, 600)


def middle_luma(shot: ShotSpec, value: int = 40, fmt: str = "9x16") -> tuple[np.ndarray, tuple[float, ...], RenderPlan]:
    spec = preset(fmt)
    plan = RenderPlan(width=spec.width, height=spec.height, fps=30, shot_seconds=shot.duration_s, end_card_seconds=0.0,
                      background_hex="#f4efe6", product_region=layout_for(spec).product)
    rgba, mask, bbox = tall_product(value)
    frames = [planes_of(f).y.astype(np.int16) for f in SceneRenderer(shot, rgba, mask, bbox, plan).yuv_frames()]
    middle = len(frames) // 2
    return frames[middle], plan.product_boxes[middle], plan


def lit_shot() -> ShotSpec:
    return shot_for("box.png", 0.3).model_copy(update={"lighting": SOFT_KEY})


def test_backdrop_has_no_hard_edges() -> None:
    """Away from the product (its contact shadow and reflection), neighbouring pixels differ by at most the 8-bit rounding of a
    smooth gradient: the set's wall-to-floor sweep, the cast shadow and the sprite's rectangle leave no seam."""
    luma, box, _ = middle_luma(lit_shot())
    height, width = luma.shape
    x0, y0, x1, y1 = box
    grow = 0.06 * (y1 - y0)
    away = np.ones_like(luma, bool)
    reflection = 0.3 * (y1 - y0)  # the product's mirror image in the floor has the product's own edges
    away[max(0, int(y0 - grow)) : int(y1 + reflection + grow), max(0, int(x0 - grow)) : int(x1 + grow)] = False
    rows = np.abs(np.diff(luma, axis=1))[away[:, 1:] & away[:, :-1]]
    cols = np.abs(np.diff(luma, axis=0))[away[1:] & away[:-1]]
    assert int(rows.max()) <= 2 and int(cols.max()) <= 2, (int(rows.max()), int(cols.max()))


def test_product_stands_on_a_lit_floor() -> None:
    """Under the product the floor carries its reflection (a dark and a light product differ there, faintly), and the
    floor falls off toward the frame's bottom edge: the lower third reads as a surface, not an empty band."""
    shot = lit_shot()
    dark, box, plan = middle_luma(shot, 20)
    light, _, _ = middle_luma(shot, 235)
    x0, y0, x1, y1 = (int(v) for v in box)
    below = slice(y1 + 4, y1 + max(8, int((y1 - y0) * 0.12)))
    inner = slice(x0 + (x1 - x0) // 4, x1 - (x1 - x0) // 4)
    reflection = float((light[below, inner] - dark[below, inner]).mean())
    assert 8 <= reflection <= 90, reflection  # visible, and far fainter than the product itself (219 levels)
    floor = dark[y1 + (plan.height - y1) // 3 :, :]
    top, bottom = float(floor[:40].mean()), float(floor[-40:].mean())
    assert top - bottom >= 14, (top, bottom)  # the floor darkens toward the viewer
