"""The sample catalog's avatar row on the local provider: audible speech over the script, captions that follow it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.signal import butter, sosfilt
from tests.conftest import AURORA, SAMPLE

from skureel.catalog import ingest
from skureel.catalog.brandkit import load_brand_kit
from skureel.ledger import Ledger
from skureel.pipeline.production import produce_sku
from skureel.pipeline.work import ShotWork, SkuWork
from skureel.planning.plan import build_plan
from skureel.render.audio import RATE, decode_audio
from skureel.render.presenter import LEAD_S, PresenterLayer
from skureel.speech import synthesize


def test_presenter_slide_has_speech_over_the_script_and_timed_captions(settings, tmp_path: Path) -> None:  # noqa: ANN001
    kit = load_brand_kit(AURORA)
    product = next(p for p in ingest(SAMPLE).products if p.video.video_type == "avatar")
    plan = build_plan([product], kit)
    shots = [ShotWork(shot=s.shot, rendered=s.rendered) for s in plan.shots]
    work = SkuWork(product=product, shots=shots, formats=["9x16", "4x5", "1x1", "16x9"], brand=kit, settings=settings,
                   ledger_url=f"sqlite:///{tmp_path / 'l.sqlite'}", staging=str(tmp_path / "stage"), quality="draft")
    outcome = produce_sku(work)
    assert not outcome.failures, outcome.failures
    assert sorted(c.format for c in outcome.composed) == ["16x9", "1x1", "4x5", "9x16"]
    script = product.video.script or ""
    for clip in outcome.composed:
        row = clip.row
        assert row["label"].startswith("presenter slide") and row["kind"] == "avatar" and row["tags"]["voice"]
        start, end = row["speech_start_s"], row["speech_end_s"]
        assert end - start > len(script.split()) / 4  # about 2.5 words per second, never rushed
        assert abs(row["duration_s"] - (end + 0.7 + kit.end_card.duration_s)) < 0.1
        samples = decode_audio(clip.path)
        assert samples is not None
        # speech lives in 1-4 kHz; the brand's music bed (a chord below 900 Hz) barely does
        band = sosfilt(butter(4, [1000, 4000], btype="band", fs=RATE, output="sos"), samples.mean(axis=1))
        window = int(0.25 * RATE)
        energy = [float(np.sqrt(np.mean(band[i : i + window] ** 2))) for i in range(0, band.size - window, window)]
        spoken = energy[int(start / 0.25) : int(end / 0.25) - 1]
        quiet = energy[int((end + 0.8) / 0.25) :]
        floor = max(np.median(quiet), 1e-6)
        assert np.mean([e > 4 * floor for e in spoken]) > 0.8, (np.round(spoken, 4), floor)
    assert abs(Ledger(work.ledger_url).all_deliverables().__len__()) == 0  # nothing is published by production


def test_captions_highlight_the_word_being_spoken(tmp_path: Path) -> None:
    kit = load_brand_kit(AURORA)
    speech = synthesize("Fifteen percent vitamin C in a lightweight texture that sinks in fast.", "en-us")
    rgba = np.full((400, 300, 4), 255, np.uint8)
    mask = np.full((400, 300), 255, np.uint8)
    from skureel.domain import LightingSpec

    layer = PresenterLayer(rgba, mask, (0, 0, 300, 400), (0, 0, 500, 700), (40, 1000, 1040, 1200), speech, kit,
                           LightingSpec(setup="softbox upper left", direction="upper left", quality="soft",
                                        colour_temperature_k=5200))
    frame = np.zeros((1920, 1080, 3), np.uint8)
    for word in speech.words:
        middle = LEAD_S + (word.start_s + word.end_s) / 2
        layer(frame, middle)
        assert layer.caption_times[-1][2] == word.text, (word, layer.caption_times[-1])


def test_presenter_slide_drawn_in_yuv_looks_like_the_rgb_path() -> None:
    """The presenter slide is drawn straight into yuv420p planes (presenter, captions, product, copy); every frame
    matches the RGB path (frames() through OpenCV's RGB->I420) at >= 35 dB PSNR on each plane."""
    import cv2

    from skureel.domain import LightingSpec
    from skureel.formats import preset
    from skureel.planning import load_vocabulary, plan_product
    from skureel.render.frames import RenderPlan, SceneRenderer
    from skureel.render.layout import layout_for
    from skureel.render.overlays import OverlayText, draw_end_card, draw_overlay
    from skureel.render.yuv import planes_of

    kit = load_brand_kit(AURORA)
    speech = synthesize("Light and fast.", "en-us")
    light = LightingSpec(setup="softbox", direction="upper left", quality="soft", colour_temperature_k=5200)
    yy, xx = np.mgrid[0:400, 0:300]
    person = np.zeros((400, 300, 4), np.uint8)
    person[..., 0], person[..., 1], person[..., 2] = 90 + xx // 3, 60 + yy // 4, 140
    person[..., 3] = np.where(((xx - 150) / 120) ** 2 + ((yy - 220) / 180) ** 2 < 1, 255, 0)
    box = np.zeros((300, 240, 4), np.uint8)
    box[40:260, 40:200] = (200, 80, 60, 255)
    spec = preset("9x16")
    layout = layout_for(spec)
    px0, py0, px1, py1 = layout.product
    split = px0 + (px1 - px0) // 2
    from skureel.domain import Product

    product = Product(key="a", sku="A-1", title="Serum", material="ceramic", images=["x.jpg"], category="Home")
    shot = plan_product(product, kit, load_vocabulary())[0].model_copy(update={"duration_s": 1.0, "lighting": light})
    planes = []
    for yuv in (False, True):
        plan = RenderPlan(width=spec.width, height=spec.height, fps=30, shot_seconds=1.0, end_card_seconds=0.3,
                          background_hex=kit.colours.background, product_region=(split, py0 + 200, px1, py1 - 300),
                          overlay=draw_overlay(spec, layout, kit, OverlayText(title="Serum", price="$9")),
                          end_card=draw_end_card(spec, layout, kit))
        layer = PresenterLayer(person, person[..., 3].copy(), (30, 40, 270, 400), (px0, py0, split, py1 - 300),
                               (layout.safe[0], py1 - 280, layout.safe[2], py1 - 20), speech, kit, light)
        renderer = SceneRenderer(shot, box, box[..., 3].copy(), (40, 40, 200, 260), plan)
        if yuv:
            plan.decorate_yuv = layer.draw_yuv
            frames = [tuple(p.astype(np.float64) for p in (q.y, q.u, q.v))
                      for q in (planes_of(f) for f in renderer.yuv_frames())]
        else:
            plan.decorate = layer
            frames = []
            for rgb in renderer.frames():
                i420 = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420).reshape(-1).astype(np.float64)
                n, q = spec.width * spec.height, spec.width * spec.height // 4
                frames.append((i420[:n].reshape(spec.height, spec.width),
                               i420[n : n + q].reshape(spec.height // 2, -1), i420[n + q :].reshape(spec.height // 2, -1)))
        assert layer.caption_times, "the captions were drawn"
        planes.append(frames)
    assert len(planes[0]) == len(planes[1]) == 39
    worst = min(10 * np.log10(255**2 / max(1e-9, float(np.mean((a - b) ** 2))))
                for rgb, yuv in zip(*planes, strict=True) for a, b in zip(rgb, yuv, strict=True))
    assert worst >= 35, worst
