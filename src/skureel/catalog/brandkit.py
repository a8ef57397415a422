"""Loading and validating brand kits; errors name the file, the key and what is allowed."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from skureel.domain import BrandKit, UnusableInput
from skureel.imageio import ImageProblem, open_rgba


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
    kit_dir = Path(kit.kit_dir)
    for key in ("logo", "font", "music", "presenter_photo"):
        value = getattr(kit, key)
        if not value:
            continue
        asset = Path(kit.asset(value) or "").resolve()
        if not asset.is_relative_to(kit_dir):
            raise UnusableInput(f"{file}: key {key!r}: {value!r} is outside the brand kit's folder; put the file beside brand.yaml")
        if not asset.is_file():
            raise UnusableInput(f"{file}: key {key!r}: file {value!r} not found next to brand.yaml")
        problem = _asset_problem(key, asset)
        if problem:  # decoded now, so a corrupt logo stops `plan` and `run` at once, not mid-render
            raise UnusableInput(f"{asset}: brand kit {key} is unusable: {problem}")
    return kit


def _asset_problem(key: str, path: Path) -> str | None:
    if key in ("logo", "presenter_photo"):
        try:
            open_rgba(path)
        except ImageProblem as exc:
            return str(exc)
        return None
    if key == "font":
        from PIL import ImageFont

        try:
            ImageFont.truetype(str(path), 24)
        except OSError:
            return "not a TrueType or OpenType font (.ttf/.otf)"
        return None
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                return "has no audio track"
            next(container.decode(container.streams.audio[0]))
    except (av.FFmpegError, StopIteration, OSError):
        return "not a readable audio file (use WAV, MP3, AAC or FLAC)"
    return None
