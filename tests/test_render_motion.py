"""Material motion in the YUV renderer: chosen from the blueprint's effect and material, confined to the product,
premultiplied-valid, and moving the way the words say (a drape moves the hem, not the hanging edge; light and
glints change luma only)."""

from __future__ import annotations

import numpy as np
import pytest
from tests.conftest import AURORA

from skureel.catalog.brandkit import load_brand_kit
from skureel.domain import LightingSpec, Product
from skureel.planning import load_vocabulary, plan_product
from skureel.render.effects import YuvSpriteAnimator, material_motion
from skureel.render.frames import with_headroom
from skureel.render.studio import Sprite, build_sprite
from skureel.render.yuv import yauv_from_premultiplied

LIGHT = LightingSpec(setup="softbox", direction="upper left", quality="soft", colour_temperature_k=5200)


def product_layer() -> tuple[Sprite, np.ndarray]:
    """A mid-grey product with a few bright spots on a transparent background, as the renderer builds it."""
    rgba = np.zeros((300, 240, 4), np.uint8)
    rgba[40:260, 40:200] = (120, 110, 100, 255)
    for x, y in ((80, 90), (150, 140), (110, 210)):
        rgba[y - 4 : y + 5, x - 4 : x + 5, :3] = 250
    mask = rgba[..., 3].copy()
    sprite = build_sprite(rgba, mask, (40, 40, 200, 260), 1.5, LIGHT)
    return sprite, yauv_from_premultiplied(sprite.rgba)


@pytest.mark.parametrize(("material", "expected"), [("silk", "drape"), ("glass", "glint"), ("gold", "speculars"),
                                                    ("ceramic", "light_sweep"), ("liquid_water", "shimmer"),
                                                    ("packaging", "lid")])
def test_motion_follows_the_blueprint(material: str, expected: str) -> None:
    product = Product(key="m", sku="M-1", title="Thing", material=material, images=["x.jpg"], category="Home")
    shot = plan_product(product, load_brand_kit(AURORA), load_vocabulary())[0]
    assert material_motion(shot.motion_effect, shot.material) == expected


@pytest.mark.parametrize("effect", ["light_sweep", "glint", "speculars", "drape", "shimmer"])
def test_effect_moves_the_product_only(effect: str) -> None:
    sprite, base = product_layer()
    animator = YuvSpriteAnimator(sprite, base, effect, key_x=-0.6)
    x0, y0, x1, y1 = animator.box
    frames = [animator.frame(t).copy() for t in (0.1, 0.3, 0.5, 0.7, 0.9)]
    outside = np.ones(base.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    changed = [int(np.abs(a.astype(int) - b.astype(int)).max()) for a, b in zip(frames, frames[1:], strict=False)]
    assert max(changed) > 8, changed  # it moves
    for frame in frames:
        assert np.array_equal(frame[outside], base[outside])  # and nothing outside the product's box does
        # still premultiplied: luma never above what white at that alpha would be
        assert int((frame[..., 0].astype(int) - (frame[..., 1].astype(int) * 235 + 254) // 255).max()) <= 1
        if effect != "drape":  # light has no chroma and no shape
            assert np.array_equal(frame[..., 1:], base[..., 1:])


def test_drape_hangs_from_its_top_edge() -> None:
    sprite, base = product_layer()
    animator = YuvSpriteAnimator(sprite, base, "drape", key_x=-0.6)
    px0, py0, px1, py1 = (int(v) for v in sprite.product_box)
    a, b = animator.frame(0.2)[..., 1].astype(int), animator.frame(0.6)[..., 1].astype(int)
    top, hem = slice(py0, py0 + 6), slice(py1 - 20, py1)
    assert np.abs(a[top] - b[top]).max() <= 8  # the hanging edge stays put
    assert np.abs(a[hem] - b[hem]).max() > 60  # the hem swings


def test_glint_is_narrower_and_brighter_than_the_sweep() -> None:
    sprite, base = product_layer()
    lit = {}
    for effect in ("light_sweep", "glint"):
        frame = YuvSpriteAnimator(sprite, base, effect, key_x=-0.6).frame(0.5)
        lit[effect] = frame[..., 0].astype(int) - base[..., 0].astype(int)
    assert (lit["glint"] > 6).sum() < 0.6 * (lit["light_sweep"] > 6).sum()
    assert lit["glint"].max() > lit["light_sweep"].max()


def test_package_lid_lifts_and_the_body_stays() -> None:
    """A box with a lid seam: the lid rises into the sprite's headroom and tips back; the body does not move."""
    rgba = np.zeros((320, 240, 4), np.uint8)
    rgba[40:300, 40:200] = (60, 120, 80, 255)
    rgba[40:100, 40:200, :3] = (90, 170, 120)  # the lid, lighter above its seam at row 100
    sprite = with_headroom(build_sprite(rgba, rgba[..., 3].copy(), (40, 40, 200, 300), 1.0, LIGHT), 78)
    base = yauv_from_premultiplied(sprite.rgba)
    animator = YuvSpriteAnimator(sprite, base, "lid", key_x=-0.6)
    closed, opened = animator.frame(0.0).copy(), animator.frame(0.9).copy()
    rows = lambda layer: np.nonzero(layer[..., 1].max(axis=1) > 200)[0]  # noqa: E731
    assert np.array_equal(closed, base)  # closed at the start
    assert rows(closed)[0] - rows(opened)[0] >= 40  # the lid has risen
    assert rows(closed)[-1] == rows(opened)[-1]  # the box stays on the floor
    seam = int(animator.opening.line)
    assert abs(seam - (rows(closed)[0] + 60)) <= 2  # the lid line is found at the seam, 60 px under the top
    body = slice(seam + 30, rows(closed)[-1])
    assert np.array_equal(opened[body], closed[body])
