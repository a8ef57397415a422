"""Loading and validating brand kits; errors name the file, the key and what is allowed."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from skureel.domain import BrandKit, UnusableInput


def load_brand_kit(path: str | Path) -> BrandKit:
    folder = Path(path)
    file = folder / "brand.yaml" if folder.is_dir() else folder
    if not file.exists():
        raise UnusableInput(f"{file}: brand kit not found (give a folder with brand.yaml, or the yaml file)")
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise UnusableInput(f"{file}: not valid YAML{where}") from exc
    if not isinstance(data, dict):
        raise UnusableInput(f"{file}: must be a mapping of keys such as name, colours, logo")
    data["kit_dir"] = str(file.parent.resolve())
    try:
        kit = BrandKit.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise UnusableInput(f"{file}: key {key!r}: {first['msg']}") from exc
    for key in ("logo", "font", "music", "presenter_photo"):
        value = getattr(kit, key)
        if value and not Path(kit.asset(value) or "").is_file():
            raise UnusableInput(f"{file}: key {key!r}: file {value!r} not found next to brand.yaml")
    return kit
