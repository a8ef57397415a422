"""Blueprints: a pure, deterministic function from (product, brand kit, vocabulary) to ShotSpecs.

Every field comes from the row's own columns when present, else the brand kit's defaults, else a recipe
chosen by category and material.
"""

from __future__ import annotations

import colorsys
import hashlib
import re
from collections.abc import Iterable
from functools import lru_cache

from skureel.domain import AudioSpec, BrandKit, Product, ShotSpec
from skureel.domain.shot import ShotKind
from skureel.planning.script import script_for
from skureel.planning.vocab import Recipe, Vocabulary

_KIND_ALIASES: dict[str, ShotKind] = {
    "hero": "hero", "packshot": "hero", "main": "hero",
    "detail": "detail", "macro": "detail", "closeup": "detail", "close-up": "detail",
    "in_use": "in_use", "in use": "in_use", "inuse": "in_use", "lifestyle": "in_use",
    "unboxing": "unboxing", "unbox": "unboxing", "reveal": "reveal", "avatar": "avatar", "presenter": "avatar",
}
_DEFAULT_DURATION = {"hero": 6.0, "detail": 5.0, "in_use": 6.0, "unboxing": 6.0, "reveal": 6.0, "avatar": 8.0}
_VERTICAL = {"9x16", "4x5", "2x3"}
_HORIZONTAL = {"16x9"}


def colour_name(hex_colour: str) -> str:
    """A plain-words name for a brand colour: models follow 'warm cream' better than '#f4ece1'."""
    r, g, b = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    h, lightness, s = colorsys.rgb_to_hls(r, g, b)
    tone = "pale " if lightness > 0.85 else "light " if lightness > 0.65 else "deep " if lightness < 0.3 else ""
    if s < 0.12:
        return "white" if lightness > 0.92 else f"{tone}grey".strip() if lightness > 0.15 else "black"
    names = ["red", "orange", "yellow", "green", "teal", "blue", "violet", "pink", "red"]
    bounds = [0.04, 0.11, 0.18, 0.45, 0.53, 0.72, 0.8, 0.95, 1.01]
    name = names[next(i for i, bound in enumerate(bounds) if h < bound)]
    if name in ("orange", "yellow") and lightness > 0.8:
        name = "cream"
    return f"{tone}{name}".strip()


def stable_seed(*parts: str) -> int:
    return int(hashlib.sha256("|".join(parts).encode()).hexdigest()[:8], 16) % 2_147_483_647


def shot_kinds(product: Product, recipe: Recipe) -> list[ShotKind]:
    if product.video.video_type == "avatar":
        return ["avatar"]
    kinds: list[ShotKind] = []
    for name in product.video.shots or recipe.shots:
        kind = _KIND_ALIASES.get(name.strip().casefold().replace("-", "_"), _KIND_ALIASES.get(name.strip().casefold()))
        if kind and kind not in kinds:
            kinds.append(kind)
    return kinds or ["hero"]


def _aspect(product: Product, formats: Iterable[str]) -> str:
    wanted = set(product.video.formats or formats)
    if wanted and wanted <= _VERTICAL:
        return "9:16"
    if wanted and wanted <= _HORIZONTAL:
        return "16:9"
    return "9:16" if not wanted & _HORIZONTAL else "1:1"


_ARTICLE = re.compile(r"(?i)^(the|a|an)\s")
_PLACEHOLDER = re.compile(r"(?i)\b(see|page|n/?a|various|assorted|default|multi)\b|;|,")  # not a colour


def _subject(product: Product, material_label: str) -> str:
    """The product named once, with an article, and what the title does not say yet (colour, material, size)."""
    title = re.sub(r"\s+", " ", product.title).strip()
    parts = [title if _ARTICLE.match(title) else f"the {title}"]
    details = []
    if product.color and product.color.casefold() not in title.casefold() and not _PLACEHOLDER.search(product.color):
        details.append(f"in {product.color.lower()}")
    if material_label and material_label != "product" and material_label.split()[0] not in title.casefold():
        details.append(f"made of {material_label}")
    if product.size and len(product.size) < 30 and "," not in product.size:  # a list of sizes says nothing on camera
        details.append(f"size {product.size}")
    if details:
        parts.append(", ".join(details))
    return ", ".join(parts)


def _environment(template: str, backdrop: str) -> str:
    """The recipe's set in the brand's background colour, which the local renderer paints too."""
    return template.replace("{backdrop}", backdrop) if "{backdrop}" in template else f"{template}, {backdrop} backdrop"


@lru_cache(maxsize=256)
def _word_start(word: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w])" + re.escape(word))


def _with_tone(mood: str, tone: list[str], said: str) -> str:
    """The mood plus the brand's tone words that the shot does not say already ('warm' once, not three times)."""
    folded = said.casefold()
    fresh = [w for w in tone[:3] if not _word_start(w.casefold()).search(folded)]  # "warm" in "warmly" too
    return f"{mood}; brand tone {', '.join(fresh)}" if fresh else mood


def _unique_items(*lists: str | None) -> str:
    """Comma lists joined with each item once, in order (the brand and the material may both say 'extra objects')."""
    seen: dict[str, str] = {}
    for text in lists:
        for item in (text or "").split(","):
            if item.strip():
                seen.setdefault(item.strip().casefold(), item.strip())
    return ", ".join(seen.values())


def rigid_product(product: Product, vocab: Vocabulary) -> bool:
    """Whether the product's category holds its shape (a camera, a shoe, a bottle), whatever it is made of."""
    return vocab.recipe_for(product.category, product.product_type, product.google_category, product.title).rigid


def plan_product(product: Product, brand: BrandKit, vocab: Vocabulary, *, provider: str = "local",
                 formats: Iterable[str] = ("9x16", "4x5", "1x1", "16x9"), language: str | None = None) -> list[ShotSpec]:
    recipe = vocab.recipe_for(product.category, product.product_type, product.google_category, product.title)
    material_text = product.material or next((v.material for v in product.variants if v.material), None)
    match = vocab.match_material(material_text)
    source = "row"
    if match is None or not match.known:
        from_text = vocab.match_material(" ".join(x for x in (product.title, product.category or "") if x))
        if from_text and from_text.known:
            match, source = from_text, "text"
        elif match is not None:
            source = "unknown"
        else:
            source = "recipe"
    material_key = match.key if match and match.known else recipe.material
    material = vocab.materials.get(material_key) or vocab.materials["generic"]
    # a soft material on a rigid product (a leather-covered camera) moves like the product, not like the material
    rigid = recipe.rigid and bool(material.rigid_physics)
    physics = material.rigid_physics if rigid else material.physics
    lighting_name = (vocab.lookup("lighting", product.video.lighting) or vocab.lookup("lighting", brand.default_lighting)
                     or recipe.lighting)
    camera_name = (vocab.lookup("cameras", product.video.camera) or vocab.lookup("cameras", brand.camera_style)
                   or recipe.camera)
    lens_name = vocab.lookup("lenses", product.video.lens) or vocab.lookup("lenses", brand.default_lens) or recipe.lens
    backdrop = colour_name(brand.colours.background)
    mood = product.video.mood or recipe.mood
    negative = _unique_items(product.video.negative_prompt or brand.negative_prompt, material.avoid)
    images = [product.resolve_image(i) for i in product.images]
    aspect = _aspect(product, formats)
    # "made of electronics with screen" says nothing: a device is named by its title
    label = "" if material_key == "electronics" else material.label
    subject = _subject(product, label if source != "unknown" else (material_text or ""))
    shots: list[ShotSpec] = []
    for kind in shot_kinds(product, recipe):
        lens = vocab.lenses[lens_name]
        camera = vocab.cameras[camera_name].spec
        effect = (material.rigid_effect or material.effect) if rigid else material.effect
        if kind == "detail":
            lens = vocab.lenses["100mm macro"] if not product.video.lens else lens
            action = "a macro lens glides slowly over its surface, revealing texture and finish"  # named once, above
            if not product.video.camera:
                camera = vocab.cameras["slow push-in"].spec
        elif kind == "in_use":
            lens = vocab.lenses["35mm"] if not product.video.lens else lens
            action = recipe.in_use_action
        elif kind in ("unboxing", "reveal"):
            action = "the box sits closed on the table, then its lid lifts to reveal the product inside" if material_key == "packaging" \
                else "the product rises into frame and settles as light reveals it"
            effect = "reveal"
        elif kind == "avatar":
            action = "a presenter stands beside the product and speaks to camera with a friendly smile"
            camera = vocab.cameras["slow push-in"].spec
            lens = vocab.lenses["50mm"]
        else:
            action = recipe.action
        shot_id = kind if not language else f"{kind}-{language}"
        environment = _environment(recipe.environment, backdrop)
        said = " ".join((action, physics, environment, vocab.lighting[lighting_name].description, mood))
        script = script_for(product, brand, language) if kind == "avatar" else None
        duration = product.video.duration_s or _DEFAULT_DURATION[kind]
        if kind == "avatar" and script and not product.video.duration_s:
            duration = max(5.0, round(len(script.split()) / 2.5 + 1.0 + brand.end_card.duration_s, 1))
        audio = AudioSpec(
            ambience=recipe.audio.get("ambience", ""), foley=recipe.audio.get("foley", ""),
            music=product.video.audio or recipe.audio.get("music", "") if not brand.music or product.video.audio
            else "brand music bed",
            voice_over=script, language=language or product.language or brand.locale,
        )
        shots.append(ShotSpec(
            sku=product.sku, shot_id=shot_id, kind=kind, subject=subject, action=action, material=material_key,
            material_physics=physics, environment=environment,
            lighting=vocab.lighting[lighting_name], camera=camera, lens=lens, duration_s=duration,
            mood=_with_tone(mood, brand.tone, said),
            audio=audio, negative_prompt=negative,
            seed=product.video.seed if product.video.seed is not None else stable_seed(product.sku, shot_id),
            aspect_ratio=aspect, source_images=images, motion_effect=effect,
            provider=(product.video.provider or provider).partition(":")[0], title=product.title, language=language,
            material_source=source,
            presenter_image=(product.resolve_image(product.video.presenter_image) if product.video.presenter_image
                             else brand.asset(brand.presenter_photo)) if kind == "avatar" else None,
        ))
    return shots


def plan_catalog(products: Iterable[Product], brand: BrandKit, vocab: Vocabulary, *, provider: str = "local",
                 formats: Iterable[str] = ("9x16", "4x5", "1x1", "16x9"),
                 languages: Iterable[str] = ()) -> list[ShotSpec]:
    formats = tuple(formats)
    wanted_languages = tuple(languages)
    shots: list[ShotSpec] = []
    for product in products:
        langs: list[str | None] = [None]
        if product.video.video_type == "avatar":
            row_langs = list(product.video.scripts)
            chosen = [lang for lang in wanted_languages if lang in row_langs or lang == (product.language or brand.locale)]
            if wanted_languages:
                langs = list(chosen) or [None]
            elif row_langs:
                langs = [None, *row_langs]
        for lang in langs:
            shots.extend(plan_product(product, brand, vocab, provider=provider, formats=formats, language=lang))
    return shots
