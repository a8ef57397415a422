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
    for key in ("logo", "font", "music", "presenter_photo", "motion_reference"):
        value = getattr(kit, key)
        if not value or (key == "motion_reference" and value.startswith(("https://", "http://"))):
            continue  # a URL is fetched by the vendor, not by us
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
    if key == "motion_reference":
        return motion_clip_problem(path)
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


def motion_clip_problem(path: Path) -> str | None:
    """Kling Motion Control's limits for the reference (../shared/reference/kling-v3.md section 2): mp4 or mov,
    at most 100 MB, 3 to 30 s, 340 to 3850 px a side."""
    import av

    if path.suffix.lower() not in (".mp4", ".mov"):
        return "the motion reference must be an .mp4 or .mov clip"
    if path.stat().st_size > 100 * 1024 * 1024:
        return "the motion reference is larger than 100 MB"
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            seconds = float(container.duration or 0) / 1_000_000
            width, height = stream.codec_context.width, stream.codec_context.height
    except (av.FFmpegError, IndexError, OSError):
        return "not a readable video clip"
    if not 3.0 <= round(seconds, 1) <= 30.0:
        return f"lasts {seconds:.1f} s; a motion reference lasts 3 to 30 s"
    if not (340 <= min(width, height) and max(width, height) <= 3850):
        return f"is {width}x{height}; each side must be 340 to 3850 px"
    return None
