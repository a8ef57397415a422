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
