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


class Recipe(BaseModel):
    key: str
    match: list[str]
    shots: list[str]
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
        self._patterns = [(p, re.compile(r"(?<![\w])" + re.escape(p) + r"(?![\w])")) for p in self._ordered]

    def match_material(self, text: str | None) -> MaterialMatch | None:
        if not text or not text.strip():
            return None
        folded = fold(text)
        for phrase, pattern in self._patterns:
            if pattern.search(folded):
                return MaterialMatch(key=self._phrases[phrase], matched=phrase, score=100.0, known=True)
        words = [w for w in re.findall(r"[^\W\d_]{4,}", folded)]
        best: tuple[str, float] | None = None
        for word in words:
            found = process.extractOne(word, self._ordered, scorer=fuzz.ratio, score_cutoff=84)
            if found and (best is None or found[1] > best[1]):
                best = (found[0], found[1])
        if best:
            return MaterialMatch(key=self._phrases[best[0]], matched=best[0], score=best[1], known=True)
        return MaterialMatch(key="generic", matched=text, score=0.0, known=False)

    def lookup(self, table: str, name: str | None) -> str | None:
        """Resolve a named lighting/lens/camera entry loosely ('Softbox, upper-left' -> 'softbox upper left')."""
        if not name:
            return None
        options: dict[str, object] = getattr(self, table)
        folded = {re.sub(r"[\W_]+", " ", fold(k)).strip(): k for k in options}
        wanted = re.sub(r"[\W_]+", " ", fold(name)).strip()
        if wanted in folded:
            return folded[wanted]
        found = process.extractOne(wanted, list(folded), scorer=fuzz.token_set_ratio, score_cutoff=70)
        return folded[found[0]] if found else None

    def recipe_for(self, *texts: str | None) -> Recipe:
        haystack = " ".join(fold(t) for t in texts if t)
        for recipe in self.recipes:
            if any(re.search(r"(?<![\w])" + re.escape(fold(word)) + r"s?(?![\w])", haystack) for word in recipe.match):
                return recipe
        return next(r for r in self.recipes if r.key == "default")


def _read(folder: Path, name: str) -> dict[str, dict[str, object]]:
    path = folder / name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
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
