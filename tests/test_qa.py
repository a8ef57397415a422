"""The QA gate on real MP4s made with PyAV from real photos: a faithful clip passes, each fault fails its measure."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from tests.conftest import CORPUS, ROOT, needs_corpus
from tests.test_qa_clips import black_from, clip, flicker, hue_shift, lighting_ramp, packshot, with_label

from skureel.domain import UnusableInput
from skureel.qa import QaReport, Reference, from_image, load_thresholds, score_clip

IMAGES = ROOT / "catalogs" / "sample" / "images"
LIMITS = load_thresholds()


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("qa")


def failed(report: QaReport) -> set[str]:
    return set(report.flags)


def ref(path: Path, avatar: bool = False) -> Reference:
    return from_image(path, LIMITS, avatar=avatar)


@pytest.mark.parametrize("name", ["film_camera.jpg", "mug.png", "tshirt.jpg", "scarf.jpg"])
def test_a_faithful_clip_passes(work: Path, name: str) -> None:
    photo = IMAGES / name
    report = score_clip(clip(work / f"ok-{name}.mp4", packshot(photo)), ref(photo), LIMITS)
    assert report.passed, report.reasons
    assert report.score == 1.0 and report.frames_sampled == 6  # 0, 0.5 ... 2.0 s and the last frame
    assert {m.name for m in report.measures} == {"identity", "colour", "text", "drift", "flicker", "black", "frozen"}


def test_another_product_fails_identity(work: Path) -> None:
    report = score_clip(clip(work / "camera.mp4", packshot(IMAGES / "film_camera.jpg")), ref(IMAGES / "mug.png"), LIMITS)
    assert "identity" in failed(report)
    assert "different product" in report.reasons[0]


def test_a_product_swapped_halfway_fails_identity_with_the_time(work: Path) -> None:
    mug, camera = packshot(IMAGES / "mug.png"), packshot(IMAGES / "film_camera.jpg")
    report = score_clip(clip(work / "swap.mp4", mug, swap=camera, swap_after=1.2), ref(IMAGES / "mug.png"), LIMITS)
    assert failed(report) >= {"identity"}
    assert "after 1.5 s" in next(m.sentence for m in report.measures if m.name == "identity")


def test_a_colour_shift_fails_colour(work: Path) -> None:
    photo = IMAGES / "mug.png"
    report = score_clip(clip(work / "hue.mp4", packshot(photo), effect=hue_shift(150)), ref(photo), LIMITS)
    assert failed(report) == {"colour"}
    colour = next(m for m in report.measures if m.name == "colour")
    assert colour.value is not None and colour.value > 20 and colour.sentence.startswith("colour shifted ΔE")


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract-ocr is not installed (make install adds it)")
def test_label_text_is_read_and_a_changed_or_melted_label_fails(work: Path) -> None:
    serum = packshot(IMAGES / "serum.jpg", 360)
    labelled = with_label(serum, "SERUM", (0.33, 0.50, 0.67, 0.64))
    Image.fromarray(labelled).save(work / "labelled.png")
    photo = ref(work / "labelled.png")
    assert photo.text == "SERUM"
    good = score_clip(clip(work / "label-ok.mp4", labelled, size=(360, 640)), photo, LIMITS)
    assert good.passed, good.reasons
    other = with_label(serum, "RUMBA", (0.33, 0.50, 0.67, 0.64))
    bad = score_clip(clip(work / "label-bad.mp4", labelled, size=(360, 640), swap=other, swap_after=1.2), photo, LIMITS)
    assert failed(bad) == {"text"}
    assert "the label text changed after 1.5 s" in bad.reasons[0]

    def melt(_: int, t: float, rgb: np.ndarray) -> np.ndarray:  # the label melts into a blur halfway
        return cv2.GaussianBlur(rgb, (0, 0), 2.5) if t >= 1.2 else rgb

    melted = score_clip(clip(work / "label-melt.mp4", labelled, size=(360, 640), effect=melt), photo, LIMITS)
    assert failed(melted) == {"text"} and "after 1.5 s" in melted.reasons[0]


def test_a_plain_photo_has_no_label_text_to_check(work: Path) -> None:
    photo = IMAGES / "tshirt.jpg"
    report = score_clip(clip(work / "tee.mp4", packshot(photo)), ref(photo), LIMITS)
    text = next(m for m in report.measures if m.name == "text")
    assert text.passed is None and "no label text" in text.sentence


def test_a_lighting_ramp_fails_drift(work: Path) -> None:
    photo = IMAGES / "film_camera.jpg"
    report = score_clip(clip(work / "ramp.mp4", packshot(photo), effect=lighting_ramp(2.5)), ref(photo), LIMITS)
    assert failed(report) == {"drift"}
    assert "warmer" in report.reasons[0] or "darker" in report.reasons[0]


def test_alternate_frame_brightness_fails_flicker(work: Path) -> None:
    photo = IMAGES / "film_camera.jpg"
    report = score_clip(clip(work / "flicker.mp4", packshot(photo), effect=flicker()), ref(photo), LIMITS)
    assert "flicker" in failed(report) and "identity" not in failed(report)


def test_black_frames_fail_black(work: Path) -> None:
    photo = IMAGES / "film_camera.jpg"
    report = score_clip(clip(work / "black.mp4", packshot(photo), effect=black_from(0.8, 1.8)), ref(photo), LIMITS)
    assert "black" in failed(report)
    assert "1.0 s of black frames" in report.reasons


def test_an_avatar_clip_needs_a_face_in_every_frame(work: Path) -> None:
    from skimage import data  # a real photo (NASA, public domain) that ships inside scikit-image

    Image.fromarray(data.astronaut()).save(work / "astronaut.png")
    presenter = ref(work / "astronaut.png", avatar=True)
    assert presenter.has_face
    good = score_clip(clip(work / "av-ok.mp4", packshot(work / "astronaut.png", 400)), presenter, LIMITS, avatar=True)
    assert good.passed, good.reasons
    faceless = score_clip(clip(work / "av-bad.mp4", packshot(IMAGES / "mug.png")), presenter, LIMITS, avatar=True)
    # the detector may see a "face" in a stray frame of a mug; most frames without one is what must fail
    missing = re.match(r"no face in (\d) of 6 frames", faceless.reasons[0])
    assert failed(faceless) == {"face"} and missing and int(missing.group(1)) >= 4, faceless.reasons


@needs_corpus
def test_corpus_photos_faithful_passes_and_another_product_fails(work: Path) -> None:
    bag, beanie = CORPUS / "images" / "abo_duffel_bag_white_bg.jpg", CORPUS / "images" / "sylius_beanie_lifestyle.jpg"
    movie = clip(work / "bag.mp4", packshot(bag))
    assert score_clip(movie, ref(bag), LIMITS).passed
    assert "identity" in failed(score_clip(movie, ref(beanie), LIMITS))
    with pytest.raises(UnusableInput, match="placeholder"):  # a 'no image' graphic is not a photo to hold a clip to
        ref(CORPUS / "images" / "saleor_no_image_placeholder_4096.png")


def test_thresholds_are_data_and_a_bad_file_is_one_line(tmp_path: Path) -> None:
    assert LIMITS.colour.max_median_de > 0 and LIMITS.sampling.every_s == 0.5
    bad = tmp_path / "qa.yaml"
    bad.write_text("colour:\n  max_median_dE: 3\n")
    with pytest.raises(UnusableInput, match="colour.max_median_dE"):
        load_thresholds(bad)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "skureel", "qa", *args], capture_output=True, text=True, timeout=120)


def test_cli_exit_codes_and_json(work: Path) -> None:
    photo = IMAGES / "mug.png"
    good = clip(work / "cli-ok.mp4", packshot(photo))
    result = _cli(str(good), "--against", str(photo), "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["passed"] is True and payload["qa_flags"] == []
    assert {m["name"] for m in payload["measures"]} >= {"identity", "colour", "drift", "flicker"}
    shifted = clip(work / "cli-hue.mp4", packshot(photo), effect=hue_shift(150))
    result = _cli(str(shifted), "--against", str(photo))
    assert result.returncode == 1 and "colour shifted ΔE" in result.stdout
    garbage = work / "garbage.mp4"
    garbage.write_bytes(np.random.default_rng(1).integers(0, 255, 4000, dtype=np.uint8).tobytes())
    result = _cli(str(garbage), "--against", str(photo))
    assert result.returncode == 2 and result.stderr.startswith("error:") and "Traceback" not in result.stderr
    result = _cli(str(good), "--against", str(work / "missing.png"))
    assert result.returncode == 2 and "not found" in result.stderr


def test_a_close_up_is_judged_by_the_rules_of_its_shot_kind(work: Path) -> None:
    photo = IMAGES / "tea_box.jpg"

    def macro(_: int, __: float, rgb: np.ndarray) -> np.ndarray:  # a macro shot: the middle of the product, large
        h, w = rgb.shape[:2]
        return cv2.resize(rgb[h * 3 // 8: h * 5 // 8, w * 3 // 8: w * 5 // 8], (w, h), interpolation=cv2.INTER_CUBIC)

    movie = clip(work / "macro.mp4", packshot(photo), effect=macro)
    assert "identity" in failed(score_clip(movie, ref(photo), LIMITS))  # as a hero shot: the product is not whole
    detail = score_clip(movie, ref(photo), LIMITS.for_kind("detail"))
    assert detail.passed, detail.reasons
    assert next(m for m in detail.measures if m.name == "colour").passed is True  # read at the frame's centre
