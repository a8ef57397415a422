"""The prompt lint: each rule catches the sloppy brief it is named after, and every prompt we write passes all of them."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import AURORA, CORPUS, NORDLYS, SAMPLE, needs_corpus

from skureel.catalog import ingest
from skureel.catalog.brandkit import load_brand_kit
from skureel.domain import Product, ShotSpec
from skureel.planning import load_vocabulary, plan_catalog, plan_product
from skureel.planning.blueprint import rigid_product
from skureel.planning.promptlint import lint_prompt, repeated_phrases, repeated_words
from skureel.prompts import RenderedPrompt, render_prompt, vary_wording
from skureel.providers.capabilities import CAPABILITIES

SCENE_PROVIDERS = [n for n in CAPABILITIES if n not in ("heygen", "did")]
# the camera's detail prompt as it was written before this lint (issue 16): every rule has something to say
OLD_CAMERA = (
    "the Twin-Lens Reflex Camera, in black, made of leather: the lens glides slowly over the surface of Twin-Lens "
    "Reflex Camera, in black, made of leather, revealing texture and finish. Supple but firm, creases softly, holds "
    "its shape. Set: a dark graphite studio set with a subtle gradient, pale cream backdrop. Lighting: large softbox "
    "from the upper left, gentle falloff to the lower right, soft shadow, key light from the upper left, soft light, "
    "5200K. Camera: slow push-in toward the product, slow, eye level; shot on a 100mm lens at f/2.8 (macro). Mood: "
    "nostalgic; brand tone warm, confident, understated. 6 seconds, photorealistic product cinematography, no "
    "on-screen text."
)


def camera_shot() -> ShotSpec:
    product = Product(key="c", sku="AUR-CAM-TLR", title="Twin-Lens Reflex Camera", color="Black",
                      material="metal and leather", category="Electronics > Cameras", images=["a.jpg"])
    product.video.shots = ["detail"]
    return plan_product(product, load_brand_kit(AURORA), load_vocabulary(), provider="kling")[0]


def findings(shot: ShotSpec, prompt: str, seconds: float = 5.0, rigid: bool = True) -> dict[str, list[str]]:
    rendered = RenderedPrompt(provider="kling", model="kling-v2-5-turbo", prompt=prompt, duration_s=seconds,
                              aspect_ratio="9:16")
    out: dict[str, list[str]] = {}
    for f in lint_prompt(shot, rendered, rigid=rigid):
        out.setdefault(f.field, []).append(f.message)
    return out


def test_the_old_prompt_breaks_every_rule() -> None:
    shot = camera_shot().model_copy(update={"material_physics": "supple but firm, creases softly, holds its shape"})
    found = findings(shot, OLD_CAMERA)
    assert set(found) == {"wording", "environment", "subject", "duration", "material"}, found
    assert "the prompt says 6 seconds but 5 s is sent" in found["duration"]
    assert "'Twin-Lens Reflex Camera' 2 times" in found["subject"][0]


def test_a_repeated_phrase_and_a_thrice_soft_light_are_caught() -> None:
    assert "from the upper left" in " | ".join(repeated_phrases(
        "large softbox from the upper left, soft shadow, key light from the upper left"))
    assert repeated_words("soft shadow, soft light, fabric swaying softly") == ["soft x3"]
    assert repeated_phrases("a soft shadow. a soft light.") == []  # two-word echoes are fine
    assert repeated_words("soft shadow, gentle falloff") == []


def test_set_and_backdrop_that_disagree_are_caught() -> None:
    shot = camera_shot()
    bad = findings(shot, "The Twin-Lens Reflex Camera: it rests. Set: a dark graphite studio set, pale cream backdrop.")
    assert "contradicts" in bad["environment"][0]
    good = findings(shot, "The Twin-Lens Reflex Camera: it rests. Set: a graphite plinth before a pale cream backdrop.")
    assert "environment" not in good


def test_the_subject_is_named_once_with_an_article() -> None:
    shot = camera_shot()
    twice = findings(shot, "The Twin-Lens Reflex Camera: the lens glides over the surface of Twin-Lens Reflex Camera.")
    assert "2 times" in twice["subject"][0]
    bare = findings(shot, "Twin-Lens Reflex Camera, in black: a macro lens glides over its surface.")
    assert "without an article" in bare["subject"][0]
    assert "subject" not in findings(shot, "[Push in] The Twin-Lens Reflex Camera: a macro lens glides over it.")


def test_seconds_in_the_text_equal_the_seconds_sent() -> None:
    shot = camera_shot()
    assert "duration" in findings(shot, "The Twin-Lens Reflex Camera. 6 seconds, photorealistic.", seconds=5.0)
    assert "duration" not in findings(shot, "The Twin-Lens Reflex Camera. 5 seconds, photorealistic.", seconds=5.0)
    kling = render_prompt(shot, "kling", "kling-v2-5-turbo")  # 5 or 10 s only: the 5 s default snaps, the text follows
    assert kling.duration_s == 5.0 and "5 seconds" in kling.prompt and "6 seconds" not in kling.prompt


def test_material_physics_follows_the_category() -> None:
    shot = camera_shot()
    assert shot.material == "leather" and "creases" not in shot.material_physics and "covering" in shot.material_physics
    soft = shot.model_copy(update={"material_physics": "supple but firm, creases softly, holds its shape"})
    assert "material" in findings(soft, "The Twin-Lens Reflex Camera: a macro lens glides over it.")
    # the same leather on a soft product keeps its own physics, and the lint has no complaint
    assert "material" not in findings(soft, "The Twin-Lens Reflex Camera: a macro lens glides over it.", rigid=False)
    drape = shot.model_copy(update={"motion_effect": "cloth_ripple"})
    assert any("cloth drape" in m for m in findings(drape, "The Twin-Lens Reflex Camera: it rests.")["material"])


def test_repeats_are_varied_but_catalog_words_are_never_touched() -> None:
    assert vary_wording("soft shadow, soft matte knit, swaying softly") == "soft shadow, gentle matte knit, swaying delicately"
    product = Product(key="s", sku="s", title="Soft Touch Cotton Tee", material="cotton", category="Apparel", images=["a.jpg"])
    shot = plan_product(product, load_brand_kit(AURORA), load_vocabulary(), provider="kling")[0]
    rendered = render_prompt(shot)
    assert rendered.prompt.startswith("The Soft Touch Cotton Tee") and "Soft matte knit" in rendered.prompt
    assert not lint_prompt(shot, rendered)


def _lint_all(path: Path, kits: tuple[Path, ...], providers: list[str]) -> list[str]:
    vocab = load_vocabulary()
    products = ingest(path).products
    by_sku = {p.sku: p for p in products}
    problems: list[str] = []
    for kit in kits:
        for provider in providers:
            for shot in plan_catalog(products, load_brand_kit(kit), vocab, provider=provider):
                rendered = render_prompt(shot, provider)
                problems += [f"{path.name} {kit.name} {f.line()} :: {rendered.prompt}"
                             for f in lint_prompt(shot, rendered, rigid=rigid_product(by_sku[shot.sku], vocab))]
    return problems


def test_every_sample_prompt_passes_for_every_provider() -> None:
    problems = _lint_all(SAMPLE, (AURORA, NORDLYS), SCENE_PROVIDERS)
    assert not problems, problems[:3]


@needs_corpus
@pytest.mark.parametrize("name", sorted(p.name for p in (CORPUS / "catalogs").iterdir() if "MALFORMED" not in p.name)
                         if (CORPUS / "catalogs").exists() else [])
def test_every_corpus_prompt_passes(name: str) -> None:
    # local (every detail), kling (5 s snapping) and minimax (bracketed camera command, Avoid: clause)
    problems = _lint_all(CORPUS / "catalogs" / name, (AURORA, NORDLYS), ["local", "kling", "minimax", "veo"])
    assert not problems, problems[:3]


def test_the_local_clip_moves_the_way_the_prompt_says() -> None:
    """The blueprint's motion_effect drives the local renderer (render/effects.py material_motion), so the words a
    hosted model reads and the motion the local clip makes come from the same plan."""
    from skureel.render.effects import material_motion

    vocab = load_vocabulary()
    shots = {s.sku: s for s in plan_catalog(ingest(SAMPLE).products, load_brand_kit(AURORA), vocab)}
    motion = {sku: material_motion(s.motion_effect, s.material) for sku, s in shots.items()}
    assert motion["AUR-TEE-NVY"] == motion["AUR-SCF-MUL"] == "drape"
    assert motion["AUR-TEA-SEN"] == "lid" and "lid lifts" in shots["AUR-TEA-SEN"].action
    assert motion["AUR-RNG-GLD"] == "speculars"
    # rigid products never drape, whatever they are made of: the leather camera and the packed bag catch the light
    assert shots["AUR-CAM-TLR"].motion_effect == shots["AUR-BAG-GRY"].motion_effect == "light_sweep"
    assert "drape" not in (motion["AUR-CAM-TLR"], motion["AUR-BAG-GRY"])
    assert "glides" in shots["AUR-CAM-TLR"].material_physics and "sheen" in shots["AUR-BAG-GRY"].material_physics


@pytest.mark.parametrize("kit", [AURORA, NORDLYS], ids=lambda k: k.name)
def test_every_recipe_material_and_lighting_combination_passes(kit: Path) -> None:
    """What marketing may combine in a row (category x material, any lighting) writes a prompt the lint signs."""
    vocab = load_vocabulary()
    brand = load_brand_kit(kit)
    problems: list[str] = []

    def check(product: Product) -> None:
        rigid = rigid_product(product, vocab)
        for shot in plan_product(product, brand, vocab, provider="kling"):
            rendered = render_prompt(shot)
            problems.extend(f"{f.line()} :: {rendered.prompt}" for f in lint_prompt(shot, rendered, rigid=rigid))

    for recipe in vocab.recipes:
        category = recipe.match[0] if recipe.match else "Misc"
        for material in vocab.materials.values():
            product = Product(key="x", sku="x", title="Sample Item", category=category, material=material.label,
                              images=["a.jpg"])
            product.video.shots = ["hero", "detail", "in_use", "unboxing"]
            check(product)
        for lighting in vocab.lighting:
            product = Product(key="x", sku="x", title="Sample Item", category=category, images=["a.jpg"])
            product.video.lighting = lighting
            check(product)
    assert not problems, problems[:3]
