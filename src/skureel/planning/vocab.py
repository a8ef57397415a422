"""Vocabularies (templates/vocab/*.yaml) and matching free catalog text onto them."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, Field
from rapidfuzz import fuzz, process

from skureel.domain import CameraSpec, LensSpec, LightingSpec, UnusableInput
from skureel.paths import templates_dir


class Material(BaseModel):
    key: str
    label: str
    synonyms: list[str]
    physics: str
    look: str
    effect: str
    avoid: str
    suits: list[str]
    rigid_physics: str = ""  # as the covering of a rigid product (a leather-covered camera); "" = physics holds
    rigid_effect: str = ""


class Recipe(BaseModel):
    key: str
    match: list[str]
    shots: list[str]
    rigid: bool = False  # the product holds its shape whatever it is made of (cameras, shoes, bottles, rings)
    material: str
    environment: str
    action: str
    in_use_action: str
    lighting: str
    lens: str
    camera: str
    mood: str
    audio: dict[str, str] = Field(default_factory=dict)


class CameraMove(BaseModel):
    spec: CameraSpec
    kling: dict[str, object] | None = None


def fold(text: str) -> str:
    """Casefold and strip accents so 'Baumwolle', 'BAUMWOLLE' and 'baumwölle' compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class MaterialMatch(BaseModel):
    key: str
    matched: str
    score: float
    known: bool


class Vocabulary:
    def __init__(self, materials: dict[str, Material], lighting: dict[str, LightingSpec], lenses: dict[str, LensSpec],
                 cameras: dict[str, CameraMove], recipes: list[Recipe]) -> None:
        self.materials, self.lighting, self.lenses, self.cameras, self.recipes = materials, lighting, lenses, cameras, recipes
        self._phrases: dict[str, str] = {}
        for key, material in materials.items():
            if key == "generic":
                continue
            for phrase in material.synonyms + [material.label]:
                self._phrases.setdefault(fold(phrase), key)
        # longest phrases first so "stainless steel" wins over "steel", "cotton blend" over "blend"
        self._ordered = sorted(self._phrases, key=len, reverse=True)
        # typos are forgiven on real words only: 'boat' is one letter from 'bot' (bột, powder), not a misspelling
        self._fuzzy = [p for p in self._ordered if len(p) >= 5]
        self._patterns = [(p, re.compile(r"(?<![\w])" + re.escape(p) + r"(?![\w])")) for p in self._ordered]
        # compiled once: planning runs these for every product of a 10,000-product catalog
        self._recipe_patterns = [
            (recipe, re.compile("(?<![\\w])(?:" + "|".join(re.escape(fold(w)) for w in recipe.match) + ")s?(?![\\w])"))
            for recipe in recipes if recipe.match
        ]
        self._tables: dict[str, dict[str, str]] = {}
        self._lookups: dict[tuple[str, str], str | None] = {}
        self._material_cache: dict[str, MaterialMatch | None] = {}
        self._recipe_cache: dict[str, Recipe] = {}

    def match_material(self, text: str | None) -> MaterialMatch | None:
        if not text or not text.strip():
            return None
        if text not in self._material_cache:
            self._material_cache[text] = self._match_material(text)
        return self._material_cache[text]

    def _match_material(self, text: str) -> MaterialMatch | None:
        folded = fold(text)
        for phrase, pattern in self._patterns:
            if pattern.search(folded):
                return MaterialMatch(key=self._phrases[phrase], matched=phrase, score=100.0, known=True)
        words = [w for w in re.findall(r"[^\W\d_]{4,}", folded)]
        best: tuple[str, float] | None = None
        for word in words:
            found = process.extractOne(word, self._fuzzy, scorer=fuzz.ratio, score_cutoff=84)
            if found and (best is None or found[1] > best[1]):
                best = (found[0], found[1])
        if best:
            return MaterialMatch(key=self._phrases[best[0]], matched=best[0], score=best[1], known=True)
        return MaterialMatch(key="generic", matched=text, score=0.0, known=False)

    def lookup(self, table: str, name: str | None) -> str | None:
        """Resolve a named lighting/lens/camera entry loosely ('Softbox, upper-left' -> 'softbox upper left')."""
        if not name:
            return None
        if (table, name) in self._lookups:
            return self._lookups[(table, name)]
        if table not in self._tables:
            options: dict[str, object] = getattr(self, table)
            self._tables[table] = {re.sub(r"[\W_]+", " ", fold(k)).strip(): k for k in options}
        folded = self._tables[table]
        wanted = re.sub(r"[\W_]+", " ", fold(name)).strip()
        if wanted in folded:
            result: str | None = folded[wanted]
        else:
            found = process.extractOne(wanted, list(folded), scorer=fuzz.token_set_ratio, score_cutoff=70)
            result = folded[found[0]] if found else None
        self._lookups[(table, name)] = result
        return result

    def recipe_for(self, *texts: str | None) -> Recipe:
        key = "\x1f".join(t or "" for t in texts)
        found = self._recipe_cache.get(key)  # asked again for each of the product's shots (planning, then lint)
        if found is None:
            if len(self._recipe_cache) > 50_000:
                self._recipe_cache.clear()
            found = self._recipe_cache[key] = self._recipe_for(texts)
        return found

    def _recipe_for(self, texts: tuple[str | None, ...]) -> Recipe:
        haystack = " ".join(fold(t) for t in texts if t)
        for recipe, pattern in self._recipe_patterns:
            if pattern.search(haystack):
                return recipe
        return next(r for r in self.recipes if r.key == "default")


def _read(folder: Path, name: str) -> dict[str, dict[str, object]]:
    path = folder / name
    try:
        # libyaml's loader when built in: the vocabulary is read by every CLI and render process (0.3-0.5 s saved)
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError) as exc:
        raise UnusableInput(f"{path}: cannot read vocabulary ({exc})") from exc
    if not isinstance(data, dict):
        raise UnusableInput(f"{path}: must be a mapping of names to entries")
    return data


@lru_cache(maxsize=4)
def load_vocabulary(folder: Path | None = None) -> Vocabulary:
    root = folder or templates_dir() / "vocab"
    try:
        materials = {k: Material(key=k, **v) for k, v in _read(root, "materials.yaml").items()}
        lighting = {k: LightingSpec(setup=k, **v) for k, v in _read(root, "lighting.yaml").items()}
        lenses = {k: LensSpec(name=k, **v) for k, v in _read(root, "lenses.yaml").items()}
        cameras: dict[str, CameraMove] = {}
        for key, entry in _read(root, "camera.yaml").items():
            kling = entry.pop("kling", None)
            cameras[key] = CameraMove(spec=CameraSpec(move=key, **entry), kling=kling)
        recipes = [Recipe(key=k, **v) for k, v in _read(root, "recipes.yaml").items()]
    except (TypeError, ValueError) as exc:
        raise UnusableInput(f"{root}: invalid vocabulary entry ({exc})") from exc
    return Vocabulary(materials, lighting, lenses, cameras, recipes)
