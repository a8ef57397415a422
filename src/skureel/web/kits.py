"""Brand kits per workspace: the bundled kits, and each workspace's own edited copies under the data folder.

A kit is only ever named (a name from `kit_names`), never given as a path. Editing one writes a complete new
folder beside the old (copy, new assets, new brand.yaml), validates it with the CLI's own loader
(catalog.brandkit: YAML schema, asset paths, every asset decoded) and only then swaps it in, so a bad upload
never leaves a half-written kit behind and a running batch keeps reading a whole one.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import shutil
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from skureel.domain import BrandKit, UnusableInput
from skureel.imageio import ImageProblem, image_size
from skureel.web.config import StudioConfig

ASSET_KEYS = ("logo", "font", "music", "presenter_photo")
MAX_ASSET_BYTES = 20 * 1024 * 1024
_IMAGE_EXT = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp"}
_FONT_MAGIC = {b"\x00\x01\x00\x00": ".ttf", b"true": ".ttf", b"OTTO": ".otf"}


class KitRefused(Exception):
    """An edit we will not save; `status` is the HTTP answer, the message one line in the user's terms."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _workspace_root(config: StudioConfig, workspace_id: int) -> Path:
    return config.data_dir / "kits" / str(int(workspace_id))


def _folders(root: Path) -> list[str]:
    if not root.is_dir():
        return []
    # staging and old copies of an edit start with a dot: never a kit
    return [p.name for p in root.iterdir() if not p.name.startswith(".") and (p / "brand.yaml").is_file()]


def kit_names(config: StudioConfig, workspace_id: int | None = None) -> list[str]:
    """The bundled kits plus the workspace's own (an edited bundled kit keeps its name)."""
    names = set(_folders(config.brand_kits_dir))
    if workspace_id is not None:
        names |= set(_folders(_workspace_root(config, workspace_id)))
    return sorted(names)


def kit_folder(config: StudioConfig, name: str, workspace_id: int | None = None) -> Path:
    """The folder a kit name means for a workspace: its edited copy when it has one, else the bundled kit."""
    if name not in kit_names(config, workspace_id):  # a name from the list, never a path from the request
        known = ", ".join(kit_names(config, workspace_id)) or "(none)"
        raise UnusableInput(f"unknown brand kit {name!r}; choose from {known}")
    if workspace_id is not None and (_workspace_root(config, workspace_id) / name / "brand.yaml").is_file():
        return _workspace_root(config, workspace_id) / name
    return config.brand_kits_dir / name


def is_edited(config: StudioConfig, name: str, workspace_id: int) -> bool:
    return (_workspace_root(config, workspace_id) / name / "brand.yaml").is_file()


def folder_digest(folder: Path) -> str:
    """What the kit's files hold: a preview or a run made from it is the same while this is."""
    sha = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        sha.update(path.relative_to(folder).as_posix().encode() + b"\0")
        sha.update(hashlib.sha256(path.read_bytes()).digest())
    return sha.hexdigest()


def load_kit(config: StudioConfig, name: str, workspace_id: int) -> BrandKit:
    from skureel.catalog.brandkit import load_brand_kit

    folder = kit_folder(config, name, workspace_id)
    try:
        return load_brand_kit(folder)
    except UnusableInput as exc:  # the message names our folder; the user knows the kit by its name
        raise KitRefused(_plain(str(exc), folder, name)) from exc


def _plain(message: str, folder: Path, name: str) -> str:
    for form in (str(folder.resolve()), str(folder)):
        message = message.replace(form + "/brand.yaml", f"brand kit {name}").replace(form, f"brand kit {name}")
    return message


def _words(text: str) -> list[str]:
    return [w.strip() for w in re.split(r"[,\n]", text) if w.strip()]


def form_values(form: dict[str, str]) -> dict[str, Any]:
    """The edit form's text fields as brand.yaml keys (lists from comma or line separated text)."""
    def text(key: str) -> str:
        return form.get(key, "").strip()

    values: dict[str, Any] = {
        "name": text("name"),
        "colours": {k: text(f"colour_{k}") for k in ("primary", "secondary", "background", "text")},
        "tone": _words(form.get("tone", "")), "banned_words": _words(form.get("banned_words", "")),
        "voice": text("voice") or "en-us", "negative_prompt": text("negative_prompt"), "locale": text("locale") or "en",
        "end_card": {"tagline": text("end_tagline"), "call_to_action": text("end_call_to_action"),
                     "duration_s": text("end_duration_s") or "1.5"},
    }
    for key in ("default_lighting", "default_lens", "camera_style", "campaign"):
        values[key] = text(key) or None
    return values


def _asset_suffix(key: str, data: bytes) -> str:
    """The stored file's extension from its bytes (never from the uploaded name); refuses what the kit can't use."""
    label = key.replace("_", " ")
    if key in ("logo", "presenter_photo"):
        try:
            kind = image_size(data)[2]
        except ImageProblem as exc:
            raise KitRefused(f"the {label} is not usable: {exc}") from exc
        if kind not in _IMAGE_EXT:
            raise KitRefused(f"the {label} is a {kind} image; upload PNG, JPEG or WebP")
        return _IMAGE_EXT[kind]
    if key == "font":
        suffix = _FONT_MAGIC.get(data[:4])
        if suffix is None:
            raise KitRefused("the font is not a TrueType or OpenType font (.ttf/.otf)")
        return suffix
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return ".wav"
    if data[:4] == b"fLaC":
        return ".flac"
    if data[:3] == b"ID3" or data[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return ".mp3"
    if data[4:8] == b"ftyp":
        return ".m4a"
    raise KitRefused("the music is not an audio file the renderer reads (WAV, MP3, AAC/M4A or FLAC)")


def save_kit(config: StudioConfig, workspace_id: int, name: str, values: dict[str, Any],
             uploads: dict[str, bytes], remove: set[str]) -> BrandKit:
    """Write the edited kit as the workspace's copy; raises KitRefused (and keeps the old kit) when it is unusable."""
    from skureel.catalog.brandkit import load_brand_kit

    source = kit_folder(config, name, workspace_id)
    try:
        data = yaml.safe_load((source / "brand.yaml").read_text(encoding="utf-8"))
    except yaml.YAMLError:
        data = None
    data = data if isinstance(data, dict) else {}  # a kit broken on disk is mended from the form's values
    data.update(values)  # keys the form does not show (safe-zone overrides) are kept
    for key in remove:
        data[key] = None
    if not str(data.get("name") or "").strip():
        raise KitRefused("the kit needs a display name")
    try:
        checked = BrandKit.model_validate({**data, "kit_dir": ""})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = " ".join(str(p) for p in first["loc"]).replace("_", " ")
        raise KitRefused(f"{where}: {first['msg'].removeprefix('Value error, ')}") from exc
    data = checked.model_dump(mode="json", exclude={"kit_dir"}, exclude_none=True)  # typed values in the YAML
    root = _workspace_root(config, workspace_id)
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".{name}.{secrets.token_hex(6)}"
    shutil.copytree(source, staging)
    try:
        for key, blob in uploads.items():
            if len(blob) > MAX_ASSET_BYTES:
                raise KitRefused(f"the {key.replace('_', ' ')} is larger than {MAX_ASSET_BYTES / 1e6:g} MB", 413)
            file = f"{key}-{hashlib.sha256(blob).hexdigest()[:10]}{_asset_suffix(key, blob)}"
            (staging / file).write_bytes(blob)
            data[key] = file
        (staging / "brand.yaml").write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
        try:
            kit = load_brand_kit(staging)  # the CLI's loader: schema, confined paths, every asset decoded
        except UnusableInput as exc:
            raise KitRefused(_plain(str(exc), staging, name)) from exc
        final = root / name
        old = root / f".{name}.old-{secrets.token_hex(4)}"
        if final.exists():
            final.rename(old)
        staging.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return kit.model_copy(update={"kit_dir": str((root / name).resolve())})


def reset_kit(config: StudioConfig, workspace_id: int, name: str) -> bool:
    """Drop the workspace's copy so the bundled kit applies again; False when there is no bundled kit to go back to."""
    if name not in _folders(config.brand_kits_dir) or not is_edited(config, name, workspace_id):
        return False
    shutil.rmtree(_workspace_root(config, workspace_id) / name)
    return True
