"""Golden prompts for representative sample SKUs, one file each under tests/golden/ (prompt, then what is sent).

A changed template or vocabulary shows here as a diff a reviewer reads; regenerate deliberately with
`SKUREEL_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_prompts_golden.py`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tests.conftest import AURORA, NORDLYS, SAMPLE

from skureel.catalog import ingest
from skureel.catalog.brandkit import load_brand_kit
from skureel.planning import load_vocabulary, plan_catalog
from skureel.planning.blueprint import rigid_product
from skureel.planning.promptlint import lint_prompt
from skureel.prompts import render_prompt

GOLDEN = Path(__file__).parent / "golden"
# (sku, shot, provider, model, kit): apparel drape, a leather-covered camera (rigid) in detail, the tea box opening,
# a ring's speculars, a mug on a brand with high-key light, a packed bag; Kling's 5 s, Hailuo's bracket command,
# Veo's sound, Luma's and Runway's folded-in negative prompt
CASES = [
    ("AUR-TEE-NVY", "hero", "local", None, AURORA),
    ("AUR-CAM-TLR", "detail", "kling", "kling-v2-5-turbo", AURORA),
    ("AUR-CAM-TLR", "hero", "kling", "kling-v3", AURORA),
    ("AUR-TEA-SEN", "unboxing", "minimax", None, AURORA),
    ("AUR-RNG-GLD", "detail", "veo", None, AURORA),
    ("AUR-SCF-MUL", "hero", "luma", None, NORDLYS),
    ("AUR-MUG-WHT", "hero", "kling", "kling-v2-5-turbo", NORDLYS),
    ("AUR-BAG-GRY", "hero", "runway", None, AURORA),
]


def _render(sku: str, shot_id: str, provider: str, model: str | None, kit: Path) -> tuple[str, list[str]]:
    vocab = load_vocabulary()
    products = [p for p in ingest(SAMPLE).products if p.sku == sku]
    shot = next(s for s in plan_catalog(products, load_brand_kit(kit), vocab, provider=provider) if s.shot_id == shot_id)
    rendered = render_prompt(shot, provider, model)
    findings = [f.line() for f in lint_prompt(shot, rendered, rigid=rigid_product(products[0], vocab))]
    text = (f"{rendered.prompt}\n\nprovider: {rendered.provider}\nmodel: {rendered.model}\n"
            f"duration_s: {rendered.duration_s:g}\naspect_ratio: {rendered.aspect_ratio}\n"
            f"negative_prompt: {rendered.negative_prompt}\nmotion_effect: {shot.motion_effect}\n")
    return text, findings


@pytest.mark.parametrize(("sku", "shot_id", "provider", "model", "kit"), CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[2]}-{c[4].name}" for c in CASES])
def test_golden_prompt(sku: str, shot_id: str, provider: str, model: str | None, kit: Path) -> None:
    text, findings = _render(sku, shot_id, provider, model, kit)
    assert not findings, findings
    path = GOLDEN / f"{sku}__{shot_id}__{provider}__{kit.name}.txt"
    if os.environ.get("SKUREEL_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path.name} is missing: run with SKUREEL_UPDATE_GOLDEN=1 once and review it"
    assert text == path.read_text(encoding="utf-8")
    seconds = text.split("duration_s: ")[1].split("\n")[0]
    assert f" {seconds} seconds," in text.split("\n\n")[0]  # the text says what is sent
