"""The cut-out lets the backdrop show through a product's holes (the sample ring, the gap under a bag's handles)
and keeps the product's own white and cream parts (a label, printed letters, white bulbs) opaque (issue 16)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tests.conftest import CORPUS, needs_corpus

from skureel.imageio import open_rgba
from skureel.render.cutout import analyse

IMAGES = Path(__file__).resolve().parents[1] / "catalogs" / "sample" / "images"


def _cut(path: Path) -> tuple[np.ndarray, np.ndarray]:
    rgba = np.asarray(open_rgba(path))
    cut, mask = analyse(rgba, has_alpha=False)
    assert cut.mode == "studio-background", cut.reason
    return rgba[..., :3].astype(np.int16), mask


def test_the_rings_hole_shows_the_backdrop_and_its_band_stays() -> None:
    rgb, mask = _cut(IMAGES / "ring.jpg")
    hole = (slice(470, 531), slice(420, 481))  # the middle of the band's ellipse, backdrop white in the photo
    assert rgb[hole].min() >= 250
    assert mask[hole].max() == 0, "the hole is opaque: the backdrop's white would be composited into the clip"
    band = rgb.min(axis=2) < 200  # the gold band (its anti-aliased rim included)
    assert (mask[band] > 200).mean() > 0.9


def test_a_cream_label_on_a_bottle_stays_opaque() -> None:
    rgb, mask = _cut(IMAGES / "serum.jpg")
    label = (slice(495, 586), slice(410, 501))  # below the print: light, enclosed by the bottle
    assert rgb[label].min() >= 200
    assert mask[label].min() == 255


@needs_corpus
def test_a_bags_handle_gap_shows_through_but_its_white_lettering_stays() -> None:
    rgb, mask = _cut(CORPUS / "images" / "abo_duffel_bag_white_bg.jpg")
    gap = (slice(150, 206), slice(535, 591))  # between the two handles, above the bag: the backdrop
    assert rgb[gap].min() >= 245 and mask[gap].max() == 0
    letters = rgb[478:547, 380:425].min(axis=2) >= 241  # white print on a black strap, each letter a small island
    assert letters.sum() > 200
    assert (mask[478:547, 380:425][letters] > 200).mean() > 0.95


@needs_corpus
def test_white_products_on_white_keep_their_bodies() -> None:
    rgb, mask = _cut(CORPUS / "images" / "abo_led_bulb_lineup_1024x208.jpg")
    body = rgb[78:149, 581:615]  # a white bulb's enclosed body: near-white, but not the backdrop's white
    light = body.min(axis=2) >= 238
    assert light.sum() > 500
    assert (mask[78:149, 581:615][light] > 200).mean() > 0.95
