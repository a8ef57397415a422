"""Composition per format, measured on the rendered frames: where the product is, how big, never cut off; time on
screen and the cross-fade into the end card; the YUV path's sub-pixel smoothness; the loudness meter.

The product's matte is read from the frames themselves: the same shot is rendered twice through the real YUV
drawing path with the product painted black, then white (same mask, so the same geometry and shadow); the luma
difference is 219 x alpha on product pixels and 0 everywhere else.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import av
import numpy as np
import pytest
from tests.conftest import AURORA, CORPUS, ROOT

from skureel.catalog.brandkit import load_brand_kit
from skureel.catalog.images import ImageCache
from skureel.domain import Product, ShotSpec
from skureel.formats import preset
from skureel.planning import Vocabulary, load_vocabulary, plan_product
from skureel.render.compose import Prepared, overlay_text_for, prepare, render_local
from skureel.render.frames import RenderPlan, SceneRenderer
from skureel.render.layout import layout_for
from skureel.render.yuv import planes_of

FORMATS = ("9x16", "4x5", "1x1", "16x9")
SAMPLE_IMAGES = sorted((ROOT / "catalogs" / "sample" / "images").iterdir())
CORPUS_IMAGES = sorted((CORPUS / "images").iterdir()) if (CORPUS / "images").exists() else []
# least share of the frame height the product spans on its median frame, unless it is limited by its width first
MIN_HEIGHT = {"9x16": 0.45, "4x5": 0.45, "1x1": 0.42, "16x9": 0.55}
MIN_WIDTH = {"9x16": 0.74, "4x5": 0.74, "1x1": 0.74, "16x9": 0.40}  # the same for a wide product


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    return load_vocabulary()  # parsing the YAML costs most of a second: once per module


def shot_for(image: str, seconds: float, camera: str = "slow push-in", effect: str = "none") -> ShotSpec:
    product = Product(key="t", sku="T-1", title="Test product", material="ceramic", images=[image], category="Home")
    product.video.duration_s = seconds
    product.video.camera = camera
    shot = plan_product(product, load_brand_kit(AURORA), vocabulary())[0]
    return shot.model_copy(update={"motion_effect": effect})


def painted(hero: Prepared, value: int) -> np.ndarray:
    rgba = hero.rgba.copy()
    rgba[..., :3] = value
    return rgba


def matte_boxes(hero: Prepared, shot: ShotSpec, fmt: str) -> tuple[list[tuple[int, int, int, int]], RenderPlan]:
    """Per frame, the bbox of pixels the product covers at least half, read from two renders' Y planes."""
    spec = preset(fmt)
    lumas = []
    plan = RenderPlan(width=spec.width, height=spec.height, fps=30, shot_seconds=shot.duration_s, end_card_seconds=0.0,
                      background_hex="#f4efe6", product_region=layout_for(spec).product)
    for value in (0, 255):
        plan.product_boxes.clear()
        renderer = SceneRenderer(shot, painted(hero, value), hero.mask, hero.cutout.bbox, plan)
        lumas.append([planes_of(frame).y.astype(np.int16) for frame in renderer.yuv_frames()])
    boxes = []
    for black, white in zip(*lumas, strict=True):
        ys, xs = np.nonzero(white - black > 110)
        assert xs.size, "the product is not on the frame"
        boxes.append((int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1))
    return boxes, plan


def check_composition(path: Path, settings) -> None:  # noqa: ANN001
    hero = prepare(ImageCache(settings).load(str(path)))
    if hero.cutout.mode in ("placeholder", "full-frame"):
        pytest.skip(f"{path.name}: {hero.cutout.mode}, not a cut-out product")
    shot = shot_for(str(path), 0.3)  # 9 frames: the camera path still runs from t = 0 to 1
    for fmt in FORMATS:
        spec = preset(fmt)
        w, h = spec.width, spec.height
        layout = layout_for(spec)
        boxes, plan = matte_boxes(hero, shot, fmt)
        x0, y0, x1, y1 = boxes[len(boxes) // 2]
        # big: like a product ad, in its limiting dimension
        assert (y1 - y0) / h >= MIN_HEIGHT[fmt] or (x1 - x0) / w >= MIN_WIDTH[fmt], (path.name, fmt, boxes[len(boxes) // 2])
        # never cut off, never under the copy, on any frame
        assert min(min(b[0], b[1], w - b[2], h - b[3]) for b in boxes) >= 1, (path.name, fmt)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        tx0, ty0, _, _ = layout.text
        if fmt == "16x9":  # on the left third, the copy on the other side
            assert abs(cx - w / 3) <= 0.06 * w, (path.name, fmt, cx)
            assert max(b[2] for b in boxes) < tx0, (path.name, fmt)
        else:  # centred on the safe area, above the copy
            safe = layout.safe
            assert abs(cx - (safe[0] + safe[2]) / 2) <= 0.05 * w, (path.name, fmt, cx)
            assert safe[1] - 0.1 * h <= cy <= ty0, (path.name, fmt, cy)
            assert max(b[3] for b in boxes) < ty0, (path.name, fmt)
        # what the renderer reports (and the pipeline records as product_box_min_margin_px) is what the frames show
        reported = plan.product_boxes[len(boxes) // 2]
        assert all(abs(a - b) <= 3 for a, b in zip(reported, (x0, y0, x1, y1), strict=True)), (reported, (x0, y0, x1, y1))


@pytest.mark.parametrize("path", SAMPLE_IMAGES, ids=lambda p: p.name)
def test_sample_products_fill_each_format(path: Path, settings) -> None:  # noqa: ANN001
    check_composition(path, settings)


@pytest.mark.skipif(not CORPUS_IMAGES, reason="../shared/corpus/images is absent in this checkout")
@pytest.mark.parametrize("path", CORPUS_IMAGES, ids=lambda p: p.name)
def test_corpus_products_fill_each_format(path: Path, settings) -> None:  # noqa: ANN001
    check_composition(path, settings)


def test_time_on_screen_and_crossfade_into_end_card(settings, tmp_path: Path) -> None:  # noqa: ANN001
    kit = load_brand_kit(AURORA)
    image = SAMPLE_IMAGES[0]
    hero = prepare(ImageCache(settings).load(str(image)))
    shot = shot_for(str(image), 4.5, effect="light_sweep")
    out = tmp_path / "clip.mp4"
    result, boxes = render_local(shot, hero, "9x16", kit, overlay_text_for("Test product", "$9", None, kit), out,
                                 quality="draft")
    assert result.ok, result.problems
    # x264's options string (in its SEI): frame threads, not PyAV's default sliced threads (12-29 % slower)
    options = out.read_bytes().split(b"x264 - core", 1)[1][:1500]
    assert b" sliced_threads=0 " in options, options[:400]
    with av.open(str(out)) as container:
        lumas = [planes_of(f).y[::4, ::4].astype(np.int16) for f in container.decode(video=0)]
    total = len(lumas)
    assert total == 180
    card = lumas[-1]
    distance = np.array([np.abs(luma - card).mean() for luma in lumas])
    static = int(np.argmax(distance[::-1] > 1.0))  # trailing frames that are the end card itself
    assert static / 30 <= 1.5 - 0.3, static  # the end card (cross-fade included) is at most 1.5 s
    assert len(boxes) / total >= 0.8  # the product is on screen (drawn) for at least 80 % of the clip
    shot_end = int(4.5 * 30)
    fade = distance[shot_end - 1 : total - static]
    assert len(fade) >= 10 and bool(np.all(np.diff(fade) < 0)), np.round(fade, 2)  # a dissolve, not a cut
    assert fade[len(fade) // 2] < distance[shot_end - 1] * 0.8 and fade[len(fade) // 2] > 1.0


def test_yuv_push_in_is_sub_pixel_smooth() -> None:
    """The card's left edge, tracked on the Y plane with sub-pixel precision, moves with smoothly changing speed."""
    rgba = np.full((600, 600, 4), 255, np.uint8)
    rgba[150:450, 150:450] = (30, 30, 30, 255)
    mask = np.zeros(rgba.shape[:2], np.uint8)
    mask[150:450, 150:450] = 255
    shot = shot_for("card.png", 3.0)
    plan = RenderPlan(width=1080, height=1080, fps=30, shot_seconds=3.0, end_card_seconds=0.0, background_hex="#ffffff",
                      product_region=(240, 240, 840, 840))
    edges = []
    for frame in SceneRenderer(shot, rgba, mask, (150, 150, 450, 450), plan).yuv_frames():
        row = planes_of(frame).y[540, :540].astype(np.float32)
        gradient = np.clip(-np.diff(row), 0, None)  # the luma falls into the dark card
        edges.append(float((gradient * (np.arange(gradient.size) + 0.5)).sum() / gradient.sum()))
    jitter = np.abs(np.diff(np.diff(edges)))
    assert abs(edges[-1] - edges[0]) > 10
    assert float(np.median(jitter)) < 0.1 and float(jitter.max()) < 0.35, (np.median(jitter), jitter.max())


def test_loudness_meter_matches_pyloudnorm() -> None:
    """render/loudness.py replaces pyloudnorm (scipy costs a second per process to import): same integrated LUFS."""
    import pyloudnorm

    from skureel.render.audio import RATE, decode_audio, integrated_lufs

    music = decode_audio(AURORA / "music.wav")
    assert music is not None
    rng = np.random.default_rng(3)
    for signal in (music[: RATE * 6], rng.normal(0, 0.05, (RATE * 3, 2)).astype(np.float32)):
        expected = pyloudnorm.Meter(RATE).integrated_loudness(signal.astype(np.float64))
        assert abs(integrated_lufs(signal) - expected) < 0.02
