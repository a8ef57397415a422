"""The local renderer and composer on real images: decoded back and checked, frame by frame."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from tests.conftest import AURORA, CORPUS, needs_corpus

from skureel.catalog.brandkit import load_brand_kit
from skureel.catalog.images import ImageCache
from skureel.domain import Product
from skureel.planning import load_vocabulary, plan_product
from skureel.render.compose import choose_hero, compose_clip, overlay_text_for, prepare, render_local
from skureel.render.cutout import analyse
from skureel.render.frames import RenderPlan, SceneRenderer

FORMATS = {"9x16": (1080, 1920), "4x5": (1080, 1350), "1x1": (1080, 1080), "16x9": (1920, 1080)}


def shot_for(title: str, material: str, image: str, duration: float = 2.0, camera: str | None = None):  # noqa: ANN201
    product = Product(key="t", sku="T-1", title=title, material=material, images=[image], category="Home")
    product.video.duration_s = duration
    product.video.camera = camera
    return plan_product(product, load_brand_kit(AURORA), load_vocabulary())[0]


@needs_corpus
@pytest.mark.parametrize("name", sorted(p.name for p in (CORPUS / "images").iterdir()) if CORPUS.exists() else [])
def test_every_corpus_image_renders_all_formats(name: str, settings, tmp_path: Path) -> None:  # noqa: ANN001
    kit = load_brand_kit(AURORA)
    prepared = prepare(ImageCache(settings).load(str(CORPUS / "images" / name)))
    hero, notes = choose_hero([prepared])
    if "placeholder" in name:
        assert hero is None and "placeholder" in notes[0]
        return
    assert hero is not None
    shot = shot_for("Test product", "ceramic", str(CORPUS / "images" / name))
    for fmt, (w, h) in FORMATS.items():
        out = tmp_path / f"{fmt}.mp4"
        result, boxes = render_local(shot, hero, fmt, kit, overlay_text_for("Test product with a long name", "$9.99",
                                                                            "$12.00", kit), out, quality="draft")
        assert result.ok, (name, fmt, result.problems)
        assert (result.width, result.height) == (w, h) and result.codec == "h264" and result.pix_fmt == "yuv420p"
        assert result.audio_codec == "aac" and result.audio_rate == 48000 and result.faststart
        assert abs(result.lufs_i + 14) <= 1.5 and result.true_peak_db <= -1.0
        if hero.cutout.mode != "full-frame":  # the product is fully inside the frame on every frame
            assert len(boxes) == int(shot.duration_s * 30) + 12  # the product keeps moving through a 0.4 s cross-fade
            assert min(min(b[0], b[1], w - b[2], h - b[3]) for b in boxes) >= 0, (name, fmt)


@needs_corpus
def test_cutout_decisions_and_clean_edges(settings) -> None:  # noqa: ANN001
    cache = ImageCache(settings)
    modes = {}
    for path in sorted((CORPUS / "images").iterdir()):
        asset = cache.load(str(path))
        rgba = np.asarray(cv2.imread(asset.path, cv2.IMREAD_UNCHANGED))[..., [2, 1, 0, 3]]
        cut, mask = analyse(rgba, asset.has_alpha)
        modes[path.name] = cut.mode
        if cut.mode == "studio-background":
            # no white halo wider than 2 px: bright pixels in the soft edge lie within 2 px of the solid product
            solid = (mask >= 200).astype(np.uint8)
            ring = (mask > 20) & (mask < 200)
            distance = cv2.distanceTransform(1 - solid, cv2.DIST_L2, 3)
            bright = rgba[..., :3].min(axis=2) > 235
            assert int((ring & bright & (distance > 2)).sum()) <= mask.size * 0.0005, path.name
    assert modes["saleor_mug_transparent_rgba.png"] == "alpha"
    assert modes["abo_duffel_bag_white_bg.jpg"] == "studio-background"
    assert modes["cc0_film_camera_studio.jpg"] == "studio-background"  # off-white gradient
    assert modes["sylius_beanie_lifestyle.jpg"] == "full-frame"
    assert modes["saleor_no_image_placeholder_4096.png"] == "placeholder"


@needs_corpus
def test_hero_is_the_packshot(settings) -> None:  # noqa: ANN001
    cache = ImageCache(settings)
    names = ["abo_vitamin_label_text_only.jpg", "sylius_beanie_lifestyle.jpg", "abo_duffel_bag_white_bg.jpg",
             "saleor_no_image_placeholder_4096.png"]
    hero, notes = choose_hero([prepare(cache.load(str(CORPUS / "images" / n))) for n in names])
    assert hero is not None and hero.asset.source.endswith("abo_duffel_bag_white_bg.jpg")
    assert any("placeholder" in n for n in notes)


def _card(tmp_path: Path) -> np.ndarray:
    img = np.full((600, 600, 4), 255, np.uint8)
    img[150:450, 150:450] = (30, 30, 30, 255)
    return img


def test_push_in_is_sub_pixel_smooth(tmp_path: Path) -> None:
    """Track the card's left edge with sub-pixel precision: its velocity must change smoothly (no whole-pixel steps)."""
    rgba = _card(tmp_path)
    mask = np.zeros(rgba.shape[:2], np.uint8)
    mask[150:450, 150:450] = 255
    shot = shot_for("Card", "plastic", "card.png", duration=3.0, camera="slow push-in")
    plan = RenderPlan(width=1080, height=1080, fps=30, shot_seconds=3.0, end_card_seconds=0.0, background_hex="#ffffff",
                      product_region=(240, 240, 840, 840))
    shot = shot.model_copy(update={"motion_effect": "none"})
    renderer = SceneRenderer(shot, rgba, mask, (150, 150, 450, 450), plan)
    edges = []
    for frame in renderer.frames():
        row = frame[540, :, :].astype(np.float32).mean(axis=1)
        darkness = np.clip(255 - row, 0, None)[:540]
        gradient = np.clip(np.diff(darkness), 0, None)  # rising edge of the dark card
        xs = np.arange(gradient.size) + 0.5
        edges.append(float((gradient * xs).sum() / gradient.sum()))
    velocity = np.diff(edges)
    jitter = np.abs(np.diff(velocity))
    assert abs(edges[-1] - edges[0]) > 10  # it really moves
    assert float(np.median(jitter)) < 0.1 and float(jitter.max()) < 0.35, (np.median(jitter), jitter.max())


def test_compose_hosted_clip_reframes_without_cutting_the_product(tmp_path: Path) -> None:
    """A landscape base clip (like a hosted model's) composed into a tall format keeps the product box inside."""
    source = tmp_path / "base.mp4"
    with av.open(str(source), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
        for i in range(48):
            frame = np.full((720, 1280, 3), 200, np.uint8)
            x = 500 + i
            frame[200:520, x : x + 280] = (200, 40, 40)  # the "product", moving
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    kit = load_brand_kit(AURORA)
    for fmt, (w, h) in FORMATS.items():
        out = tmp_path / f"c_{fmt}.mp4"
        result = compose_clip(source, (0.38, 0.27, 0.66, 0.73), 2.0, fmt, kit, overlay_text_for("Mug", "$5", None, kit),
                              out, quality="draft")
        assert result.ok, (fmt, result.problems)
        assert (result.width, result.height) == (w, h) and abs(result.duration_s - 3.5) < 0.04
        with av.open(str(out)) as container:
            first = next(container.decode(video=0)).to_ndarray(format="rgb24")
        red = (first[..., 0] > 150) & (first[..., 1] < 90)
        ys, xs = np.nonzero(red)
        assert xs.min() > 0 and xs.max() < w - 1 and ys.min() > 0 and ys.max() < h - 1, fmt


def test_probe_finds_frozen_and_black_runs_whether_it_decodes_or_watched_the_encoder(tmp_path: Path) -> None:
    """A clip that moves for 10 frames, freezes for 24 and goes black for 20: the probe reads the same runs back from
    the file as FrameRuns measured on the frames as they went into the encoder (render_local's path)."""
    from skureel.render.encode import encode_mp4
    from skureel.render.probe import FrameRuns, probe
    from skureel.render.yuv import planes_of

    def frames():  # noqa: ANN202
        for i in range(54):
            frame = av.VideoFrame(160, 96, "yuv420p")
            p = planes_of(frame)
            p.u[...], p.v[...] = 128, 128
            p.y[...] = 16 if i >= 34 else 120
            if i < 34:
                p.y[30:60, 10 + 4 * min(i, 10) : 40 + 4 * min(i, 10)] = 230
            yield frame

    out = tmp_path / "runs.mp4"
    runs = FrameRuns(54)
    encode_mp4(out, runs.watch(frames()), width=160, height=96, fps=30, audio=None, quality="draft")
    decoded = probe(out, width=160, height=96, fps=30, duration_s=54 / 30, expect_sound=False)
    watched = probe(out, width=160, height=96, fps=30, duration_s=54 / 30, expect_sound=False, watched=runs)
    assert decoded.frames == watched.frames == 54
    assert round(decoded.longest_black_s * 30) == round(watched.longest_black_s * 30) == 20
    assert round(decoded.longest_frozen_s * 30) == round(watched.longest_frozen_s * 30) == 23  # frames 10-33 stand still
    assert any("frozen" in p for p in watched.problems) and any("black frames" in p for p in watched.problems)
