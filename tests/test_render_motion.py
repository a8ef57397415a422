"""Material motion in the YUV renderer: chosen from the blueprint's effect and material, confined to the product,
premultiplied-valid, and moving the way the words say (a drape moves the hem, not the hanging edge; light and
glints change luma only)."""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
import pytest
from tests.conftest import AURORA, ROOT

from skureel.catalog.brandkit import load_brand_kit
from skureel.domain import LightingSpec, Product, ShotSpec
from skureel.planning import load_vocabulary, plan_product
from skureel.render.effects import YuvSpriteAnimator, has_meniscus, material_motion
from skureel.render.frames import RenderPlan, SceneRenderer, with_headroom
from skureel.render.studio import Sprite, build_sprite
from skureel.render.yuv import planes_of, yauv_from_premultiplied

vocabulary = lru_cache(maxsize=1)(load_vocabulary)  # parsing the YAML costs most of a second: once per module
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
                                                    ("ceramic", "turntable_sweep"), ("liquid_water", "shimmer"),
                                                    ("packaging", "lid"), ("plastic_matte", "turntable"),
                                                    ("suede", "turntable"), ("foam", "none")])
def test_motion_follows_the_blueprint(material: str, expected: str) -> None:
    product = Product(key="m", sku="M-1", title="Thing", material=material, images=["x.jpg"], category="Home")
    shot = plan_product(product, load_brand_kit(AURORA), vocabulary())[0]
    assert material_motion(shot.motion_effect, shot.material) == expected


@pytest.mark.parametrize("effect", ["light_sweep", "glint", "speculars", "drape", "shimmer", "turntable",
                                    "turntable_sweep"])
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
        if effect not in ("drape", "turntable", "turntable_sweep"):  # light has no chroma and no shape
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


def textured_box() -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]]:
    """A box with a coloured, blotchy surface (so a texture that slides shows in luma and chroma alike)."""
    rng = np.random.default_rng(5)
    noise = cv2.GaussianBlur(rng.uniform(0, 255, (300, 240, 3)).astype(np.float32), (0, 0), 4)
    rgba = np.zeros((300, 240, 4), np.uint8)
    rgba[40:260, 40:200, :3] = np.clip((noise[40:260, 40:200] - 128) * 5 + 128, 0, 255)
    rgba[40:260, 40:200, 3] = 255
    return rgba, rgba[..., 3].copy(), (40, 40, 200, 260)


def planes_over_time(shot: ShotSpec, inside: np.ndarray | None = None) -> list[tuple[np.ndarray, ...]]:
    """Y, U, V (int16) of every frame of a small 9:16 render of the textured box."""
    plan = RenderPlan(width=360, height=640, fps=30, shot_seconds=shot.duration_s, end_card_seconds=0.0,
                      background_hex="#f4efe6", product_region=(40, 60, 320, 520))
    rgba, mask, bbox = textured_box()
    out = []
    for frame in SceneRenderer(shot, rgba, mask, bbox, plan, inside=inside).yuv_frames():
        p = planes_of(frame)
        out.append((p.y.astype(np.int16), p.u.astype(np.int16), p.v.astype(np.int16)))
    return out


def planned(material: str, kind: str = "hero") -> ShotSpec:
    product = Product(key="m", sku="M-1", title="Thing", material=material, images=["x.jpg"], category="Home")
    product.video.duration_s = 0.6
    product.video.camera = "slow push-in"
    shots = plan_product(product, load_brand_kit(AURORA), vocabulary())
    return next(s for s in shots if s.kind == kind).model_copy(update={"duration_s": 0.6})


@pytest.mark.parametrize(("material", "moves", "shape_moves"), [
    ("plastic_matte", True, True), ("ceramic", True, True), ("silk", True, True),  # turntable, turntable, drape
    ("glass", True, False), ("liquid_water", True, False), ("gold", True, False),  # light only: luma, never chroma
    ("foam", False, False)])
def test_material_motion_shows_in_the_rendered_frames(material: str, moves: bool, shape_moves: bool) -> None:
    """The same shot rendered with the material's motion and without any (same camera path): the difference is the
    material motion, inside the product only. A rigid product turns (its texture slides: chroma moves too), fabric
    drapes, glass, liquid and metal move light (luma) only, and a foam product (its words: still) stays as still as the reference."""
    shot = planned(material)
    still = planes_over_time(shot.model_copy(update={"material": "generic", "motion_effect": "none"}))
    moving = planes_over_time(shot)
    luma = max(float(np.abs(a[0] - b[0]).mean()) for a, b in zip(moving, still, strict=True))
    chroma = max(int(np.abs(a[c] - b[c]).max()) for a, b in zip(moving, still, strict=True) for c in (1, 2))
    assert (luma > 0.05) == moves, luma
    assert (chroma > 3) == shape_moves, chroma


def test_turntable_slides_the_middle_and_anchors_the_silhouette() -> None:
    """Turntable parallax from shading-derived depth: the product's middle slides sideways more than a few pixels
    over the shot while its outline (alpha) stays where it was."""
    rgba, mask, bbox = textured_box()
    sprite = build_sprite(rgba, mask, bbox, 1.5, LIGHT)
    base = yauv_from_premultiplied(sprite.rgba)
    animator = YuvSpriteAnimator(sprite, base, "turntable", key_x=-0.6)
    start, end = animator.frame(0.0).copy(), animator.frame(1.0).copy()
    assert int(np.abs(start[..., 1].astype(int) - end[..., 1].astype(int)).max()) <= 40  # the outline barely moves
    px0, py0, px1, py1 = (int(v) for v in sprite.product_box)
    row = int((py0 + py1) / 2)
    a, b = start[row, px0:px1, 0].astype(np.float32), end[row, px0:px1, 0].astype(np.float32)
    mid = slice(len(a) // 3, 2 * len(a) // 3)
    shifts = range(-8, 9)
    errors = [float(np.abs(np.roll(a, s)[mid] - b[mid]).mean()) for s in shifts]
    assert abs(list(shifts)[int(np.argmin(errors))]) >= 2, errors  # the middle has slid by a couple of pixels


def test_glass_and_liquid_shimmer_at_their_meniscus() -> None:
    """Glass and liquid carry a shimmering surface line; other materials do not. Before the glint reaches the
    product (t < 0.1) only the meniscus moves, and only in its band of rows."""
    assert has_meniscus("glint", "glass") and has_meniscus("shimmer", "liquid_water")
    assert not has_meniscus("speculars", "gold") and not has_meniscus("turntable_sweep", "ceramic")
    rgba = np.zeros((320, 200, 4), np.uint8)
    rgba[30:300, 40:160] = (150, 110, 60, 255)  # an amber bottle...
    rgba[30:120, 40:160, :3] = (200, 170, 120)  # ...lighter above its fill line at row 120
    sprite = build_sprite(rgba, rgba[..., 3].copy(), (40, 30, 160, 300), 1.0, LIGHT)
    base = yauv_from_premultiplied(sprite.rgba)
    with_line = YuvSpriteAnimator(sprite, base, "glint", key_x=-0.6, meniscus=True)
    without = YuvSpriteAnimator(sprite, base, "glint", key_x=-0.6)
    a, b = with_line.frame(0.02)[..., 0].astype(int), with_line.frame(0.08)[..., 0].astype(int)
    assert np.array_equal(without.frame(0.02)[..., 0], without.frame(0.08)[..., 0])  # no glint on it yet
    changed = np.nonzero(np.abs(a - b).max(axis=1) > 4)[0]
    line = with_line.meniscus.line if with_line.meniscus else -1
    assert changed.size and abs(line - (int(sprite.product_box[1]) + 90)) <= 3, (line, sprite.product_box)
    assert changed.min() >= line - 20 and changed.max() <= line + 20, (changed.min(), changed.max(), line)


def test_speculars_travel_across_the_surface() -> None:
    sprite, base = product_layer()
    animator = YuvSpriteAnimator(sprite, base, "speculars", key_x=-0.6)
    centroids = []
    for t in (0.05, 0.5, 0.95):
        lit = np.clip(animator.frame(t)[..., 0].astype(int) - base[..., 0].astype(int), 0, None)
        ys, xs = np.nonzero(lit > 20)
        centroids.append(float(xs.mean()) if xs.size else np.nan)
    assert np.nanmax(centroids) - np.nanmin(centroids) > 3, centroids  # the highlights move, not only twinkle


def test_package_opening_reveals_the_second_image() -> None:
    """An unboxing with an inside photo: as the lid lifts, the opening shows that photo's colours (a red inside on a
    textured box); until the lid moves, the inside photo changes nothing."""
    shot = planned("packaging")
    assert material_motion(shot.motion_effect, shot.material) == "lid"
    inside = np.zeros((80, 120, 3), np.uint8)
    inside[...] = (220, 30, 40)
    plain, revealed = planes_over_time(shot), planes_over_time(shot, inside=inside)
    for i in (0, 3):  # closed: the inside changes nothing
        assert np.array_equal(plain[i][2], revealed[i][2])
    v_open = revealed[-1][2] - plain[-1][2]
    assert int(v_open.max()) > 40  # red shows in the opening (V rises)


def test_the_skus_second_photo_reaches_the_opening(settings) -> None:  # noqa: ANN001
    """The SKU's gallery reaches the renderer: the hero carries the next-best photo, which only an opening package
    uses (and so only its content key names it)."""
    from skureel.catalog.images import ImageCache
    from skureel.pipeline.photos import load_photos
    from skureel.render.compose import inside_photo

    images = ROOT / "catalogs" / "sample" / "images"
    product = Product(key="p", sku="P-1", title="Tea box", material="packaging", category="Food",
                      images=[str(images / "tea_box.jpg"), str(images / "mug.png")])
    photos = load_photos(product, ImageCache(settings), hosted=False)
    assert photos.hero is not None and photos.hero.second is not None
    assert photos.hero.second is not photos.hero and photos.hero.second in photos.gallery
    unboxing = planned("packaging")
    assert inside_photo(unboxing, photos.hero) is photos.hero.second
    assert inside_photo(planned("ceramic"), photos.hero) is None
