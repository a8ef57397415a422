"""Blueprints, vocabularies, prompts per provider, lint and cost."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from tests.conftest import AURORA, CORPUS, NORDLYS, SAMPLE, needs_corpus

from skureel.catalog import ingest
from skureel.catalog.brandkit import load_brand_kit
from skureel.domain import Product
from skureel.planning import load_vocabulary, plan_product
from skureel.planning.lint import lint_shot
from skureel.planning.plan import build_plan
from skureel.prompts import render_prompt
from skureel.providers.capabilities import CAPABILITIES

HOSTED = [name for name, caps in CAPABILITIES.items() if caps.image_to_video and name != "local"]


def test_vocabulary_sizes_and_matching() -> None:
    vocab = load_vocabulary()
    assert len(vocab.materials) >= 25 and len(vocab.lighting) >= 10
    assert len(vocab.lenses) >= 8 and len(vocab.cameras) >= 12
    cases = {"100% Baumwolle": "cotton_jersey", "Cotton blend": "cotton_jersey", "Stainless steel 304": "stainless_steel",
             "Baumwole": "cotton_jersey", "18k Gold": "gold", "Soie naturelle": "silk", "кожа": "leather"}
    for text, key in cases.items():
        match = vocab.match_material(text)
        assert match is not None and match.key == key, text
    unknown = vocab.match_material("unobtainium")
    assert unknown is not None and not unknown.known and unknown.key == "generic"


def test_sample_plan_fills_every_field_and_is_deterministic() -> None:
    kit = load_brand_kit(AURORA)
    products = ingest(SAMPLE).products
    plan = build_plan(products, kit)
    assert {s.shot.sku for s in plan.shots} == {p.sku for p in products}
    for item in plan.shots:
        data = item.shot.model_dump()
        for field in ("subject", "action", "material_physics", "environment", "mood", "negative_prompt"):
            assert data[field], (item.shot.sku, field)
        assert item.shot.lighting.direction and item.shot.camera.move and item.shot.lens.focal_length_mm
        assert item.shot.duration_s > 0 and item.shot.seed >= 0
    again = build_plan(ingest(SAMPLE).products, kit)
    assert [s.shot.blueprint_hash() for s in plan.shots] == [s.shot.blueprint_hash() for s in again.shots]
    assert not plan.errors, [f.line() for f in plan.errors]
    avatar = next(s for s in plan.shots if s.shot.kind == "avatar")
    assert avatar.shot.audio.voice_over and avatar.shot.presenter_image


def test_row_columns_beat_brand_beat_recipe() -> None:
    vocab = load_vocabulary()
    kit = load_brand_kit(NORDLYS)
    product = Product(key="r", sku="r", title="Gold ring", category="Jewellery", material="18k gold")
    product.video.lighting = "Neon accent"
    product.video.camera = "pan-right"
    shot = plan_product(product, kit, vocab)[0]
    assert shot.lighting.setup == "neon accent" and shot.camera.move == "pan right"
    plain = plan_product(Product(key="r", sku="r", title="Gold ring", category="Jewellery"), kit, vocab)[0]
    assert plain.lighting.setup == "high-key white sweep"  # the brand's default
    kit_no_defaults = kit.model_copy(update={"default_lighting": None})
    assert plan_product(Product(key="r", sku="r", title="Gold ring", category="Jewellery"), kit_no_defaults,
                        vocab)[0].lighting.setup == "low-key dramatic"  # the jewellery recipe


@pytest.mark.parametrize("provider", HOSTED)
def test_prompts_respect_provider_limits(provider: str) -> None:
    caps = CAPABILITIES[provider]
    kit = load_brand_kit(AURORA)
    long_title = "Ultra " * 400 + "Scarf"
    product = Product(key="x", sku="x", title=long_title, category="Accessories", material="silk", images=["a.jpg"])
    product.video.duration_s = 7
    shot = plan_product(product, kit, load_vocabulary(), provider=provider)[0]
    rendered = render_prompt(shot)
    assert rendered.duration_s in caps.durations_s
    assert rendered.aspect_ratio in caps.aspect_ratios
    findings = lint_shot(shot, rendered, kit)
    if len(rendered.prompt) > caps.max_prompt_chars:
        assert any(f.field == "prompt" and f.severity == "error" for f in findings)
    normal = render_prompt(plan_product(Product(key="y", sku="y", title="Silk scarf", material="silk", images=["a.jpg"]),
                                        kit, load_vocabulary(), provider=provider)[0])
    assert len(normal.prompt) <= caps.max_prompt_chars
    assert "camera" in normal.prompt.casefold() and "light" in normal.prompt.casefold()
    if not caps.negative_prompt:
        assert normal.negative_prompt is None and "Avoid:" in normal.prompt
    if provider == "kling":
        control = normal.camera_control
        assert control is not None and control["type"] == "simple"
        assert sum(1 for v in control["config"].values() if v) == 1


def test_catalog_text_is_data_not_template() -> None:
    kit = load_brand_kit(AURORA)
    evil = "{{ self.__init__.__globals__ }} {% for x in range(3) %}boom{% endfor %}"
    product = Product(key="e", sku="e", title=evil, description=evil, material=evil, images=["a.jpg"])
    for provider in ("kling", "runway", "veo", "minimax"):
        rendered = render_prompt(plan_product(product, kit, load_vocabulary(), provider=provider)[0])
        assert "{{ self.__init__.__globals__ }}" in rendered.prompt
        assert "{% for x in range(3) %}boom{% endfor %}" in rendered.prompt
        assert "boomboom" not in rendered.prompt


def test_lint_catches_bad_blueprints() -> None:
    kit = load_brand_kit(AURORA)
    vocab = load_vocabulary()
    product = Product(key="v", sku="v", title="product", material="unobtainium", images=["a.jpg"])
    product.video.camera = "static"
    product.video.duration_s = 30
    shot = plan_product(product, kit, vocab, provider="kling")[0]
    shot = shot.model_copy(update={"action": "a crowd of 50 people cheers as the text 'SALE' appears on screen, camera pans"})
    findings = {(f.field, f.severity) for f in lint_shot(shot, render_prompt(shot), kit)}
    assert ("subject", "error") in findings and ("material", "warning") in findings
    assert ("duration", "error") in findings and ("action", "error") in findings
    assert ("camera", "error") in findings and ("action", "warning") in findings
    banned = product.model_copy(update={"title": "Miracle cream", "material": "cream"})
    shot = plan_product(banned, kit, vocab)[0]
    assert any("banned" in f.message for f in lint_shot(shot, render_prompt(shot), kit))


def test_avatar_script_claims_and_budget() -> None:
    kit = load_brand_kit(AURORA)
    product = Product(key="a", sku="a", title="Glow Serum", description="Brightens skin. Absorbs fast.", images=["a.jpg"])
    product.video.video_type = "avatar"
    product.video.script = "Glow Serum, now only $9 and 50% off! Shop now."
    product.video.duration_s = 6
    plan = build_plan([product], kit)
    messages = [f.message for f in plan.errors]
    assert any("$9" in m for m in messages) and any("50% off" in m for m in messages)
    product.video.script = None
    product.video.duration_s = None
    plan = build_plan([product], kit)
    script = plan.shots[0].shot.audio.voice_over or ""
    assert "Glow Serum" in script and "Brightens skin" in script and not plan.errors


def test_plan_cli_json_and_cost() -> None:
    result = subprocess.run([sys.executable, "-m", "skureel", "plan", str(SAMPLE), "--brand", str(AURORA), "--provider",
                             "kling", "--json"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["total_usd"] == pytest.approx(sum(s["cost"]["usd"] for s in data["shots"]))
    assert all(s["rendered"]["prompt"] for s in data["shots"])
    local = subprocess.run([sys.executable, "-m", "skureel", "plan", str(SAMPLE), "--brand", str(AURORA), "--json"],
                           capture_output=True, text=True, timeout=120)
    assert json.loads(local.stdout)["total_usd"] == 0


@needs_corpus
def test_corpus_catalogs_plan_and_materials_resolve_or_flag() -> None:
    kit = load_brand_kit(AURORA)
    for path in sorted((CORPUS / "catalogs").iterdir()):
        if "MALFORMED" in path.name:
            continue
        plan = build_plan(ingest(path).products, kit, providers=["kling"])
        for item in plan.shots:
            assert item.shot.material in load_vocabulary().materials
            if item.shot.material_source == "unknown":
                assert any(f.field == "material" for f in item.findings)
