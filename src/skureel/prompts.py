"""Sandboxed jinja2 rendering of blueprints into what each provider takes.

Catalog text only ever reaches a template as data inside the ShotSpec; templates come from
templates/prompts/ and are never built from catalog text.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import yaml
from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, Field

from skureel.domain import ShotSpec
from skureel.paths import templates_dir
from skureel.providers.capabilities import Capabilities, capabilities

_MINIMAX_COMMANDS = {"slow push-in": "Push in", "pull-out": "Pull out", "pan left": "Pan left", "pan right": "Pan right",
                     "tilt up": "Tilt up", "tilt down": "Tilt down", "orbit left": "Truck left", "orbit right": "Truck right",
                     "crane up": "Pedestal up", "tracking": "Tracking shot", "static": "Static shot",
                     "handheld drift": "Shake", "rack focus": "Push in", "top-down rotate": "Static shot"}
_KLING_CAMERA: dict[str, dict[str, Any]] = {
    "slow push-in": {"zoom": 4.0}, "pull-out": {"zoom": -4.0}, "pan left": {"pan": -4.0}, "pan right": {"pan": 4.0},
    "tilt up": {"tilt": 4.0}, "tilt down": {"tilt": -4.0}, "crane up": {"vertical": 4.0}, "tracking": {"horizontal": 4.0},
    "top-down rotate": {"roll": 3.0},
}
_KLING_PRESETS = {"orbit left": "left_turn_forward", "orbit right": "right_turn_forward"}
# stands for the product in the rendered text until the wording is varied: catalog words are never changed or counted
_SUBJECT = "\u27e6subject\u27e7"
_PLAIN_WORD = re.compile(r"[a-z]+(?:-[a-z]+)*")  # hyphenated words ("soft-touch") are not the watched ones


class RenderedPrompt(BaseModel):
    provider: str
    model: str
    prompt: str
    negative_prompt: str | None = None
    duration_s: float
    aspect_ratio: str
    resolution: str | None = None
    camera_control: dict[str, Any] | None = None
    audio: bool = False
    detail: int = 2
    params: dict[str, Any] = Field(default_factory=dict)


@lru_cache(maxsize=2)
def _environment(folder: str) -> SandboxedEnvironment:
    return SandboxedEnvironment(loader=FileSystemLoader(folder), undefined=StrictUndefined, autoescape=False,
                                trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)


@lru_cache(maxsize=1)
def wording() -> dict[str, tuple[str, tuple[str, ...]]]:
    """templates/vocab/wording.yaml as word -> (family, interchangeable words of the same part of speech); a family
    is one adjective with its adverb ('soft' and 'softly')."""
    rows = yaml.safe_load((templates_dir() / "vocab" / "wording.yaml").read_text(encoding="utf-8")) or {}
    table: dict[str, tuple[str, tuple[str, ...]]] = {}
    for row, forms in rows.items():
        adjectives, adverbs = tuple(forms["adjectives"]), tuple(forms["adverbs"])
        for index, (adjective, adverb) in enumerate(zip(adjectives, adverbs, strict=True)):
            table[adjective] = (f"{row}:{index}", adjectives)
            table[adverb] = (f"{row}:{index}", adverbs)
    return table


@lru_cache(maxsize=1)
def watched_words() -> re.Pattern[str]:
    """The watched words as one pattern, so a prompt is scanned once (planning 10,000 products stays fast)."""
    words = sorted(wording(), key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(w) for w in words) + r")(?![\w-])", re.I)


def vary_wording(text: str) -> str:
    """Say each watched word once: a repeat becomes the next word of its row that the text does not use yet
    ('soft shadow ... soft matte knit' -> 'soft shadow ... gentle matte knit')."""
    table = wording()
    found = [table[w][0] for w in _PLAIN_WORD.findall(text.casefold()) if w in table]
    used = set(found)
    if len(used) == len(found):
        return text  # the cheap check first: nothing said twice
    pattern = watched_words()
    seen: set[str] = set()

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        entry = table.get(word.casefold())
        if entry is None:
            return word
        family, options = entry
        if family not in seen:
            seen.add(family)
            return word
        for option in options:
            if table[option][0] not in used:
                used.add(table[option][0])
                seen.add(table[option][0])
                return option.capitalize() if word[0].isupper() else option
        return word  # the row is spent: the lint reports the repeat

    return pattern.sub(swap, text)


def _spoken_seconds(seconds: float) -> str:
    return f"{seconds:g}"


def kling_camera_control(shot: ShotSpec) -> dict[str, Any] | None:
    """Kling's camera_control: six axes with exactly one non-zero, or a preset type."""
    move = shot.camera.move
    if move in _KLING_PRESETS:
        return {"type": _KLING_PRESETS[move]}
    axes = _KLING_CAMERA.get(move)
    if not axes:
        return None
    config = {"horizontal": 0.0, "vertical": 0.0, "pan": 0.0, "tilt": 0.0, "roll": 0.0, "zoom": 0.0, **axes}
    return {"type": "simple", "config": config}


def _aspect_for(caps: Capabilities, wanted: str) -> str:
    if wanted in caps.aspect_ratios:
        return wanted
    vertical = wanted in ("9:16", "4:5", "2:3", "3:4")
    for option in (("9:16", "3:4", "1:1") if vertical else ("16:9", "4:3", "1:1")):
        if option in caps.aspect_ratios:
            return option
    return caps.aspect_ratios[0]


def _resolution(caps: Capabilities, seconds: float) -> str | None:
    """The highest the model allows at this length (Hailuo: 1080P at 6 s only, 768P at 10 s)."""
    if not caps.resolutions:
        return None
    limit = caps.model.hd_max_s if caps.model else None
    if limit is not None and seconds > limit and len(caps.resolutions) > 1:
        return caps.resolutions[-2]
    return caps.resolutions[-1]


def _capital(subject: str) -> str:
    """'the X' -> 'The X'; a subject that starts with the title itself is left alone (content keys mask the title)."""
    return "T" + subject[1:] if subject.startswith("the ") else subject


def render_prompt(shot: ShotSpec, provider: str | None = None, model: str | None = None) -> RenderedPrompt:
    name = provider or shot.provider
    caps = capabilities(name).for_model(model)  # the model's own durations, audio and prices
    spec = caps.model
    # native sound only when the blueprint asks for ambience or foley and the model makes it; music stays ours
    sound = caps.audio and shot.kind != "avatar" and bool(shot.audio.ambience or shot.audio.foley)
    env = _environment(str(templates_dir() / "prompts"))
    template = env.get_template(f"{name}.j2")
    # an avatar clip lasts as long as its speech; image-to-video takes the API's fixed values, and the text says those
    snapped = caps.snap_duration(shot.duration_s)
    seconds = shot.duration_s if shot.kind == "avatar" else snapped
    context: dict[str, Any] = {"shot": shot.model_dump(mode="python"), "subject": _SUBJECT,
                               "seconds": _spoken_seconds(seconds),
                               "camera_command": _MINIMAX_COMMANDS.get(shot.camera.move)}
    subject = shot.subject
    text, detail = "", 2
    # the sound sentence comes from its own template, only for models switched by a field (Veo's describes it anyway)
    asks_sound = bool(sound and spec and spec.audio_field)
    for detail in (2, 1, 0):  # shorten by dropping optional parts until it fits the provider's limit
        body = template.render(detail=detail, **context)
        if asks_sound:
            body += " " + env.get_template("_sound.j2").render(detail=detail, **context)
        text = re.sub(r"[ \t]*\n[ \t]*", " ", body).strip()
        text = vary_wording(re.sub(r" {2,}", " ", text))
        # the subject opens the scene as a sentence: "The Stoneware Mug in white: ..." (the title itself is kept as is)
        text = re.sub(rf"(^|[.\]] ){_SUBJECT}", lambda m: m.group(1) + _capital(subject), text).replace(_SUBJECT, subject)
        if len(text) <= caps.max_prompt_chars:
            break
    negative = shot.negative_prompt[: caps.max_prompt_chars] if caps.negative_prompt and shot.negative_prompt else None
    params: dict[str, Any] = {}
    if name in ("kling", "fal", "replicate"):
        params["mode"] = spec.default_mode if spec else "std"
        if asks_sound:
            params["sound"] = "on"  # part of the content key: the same clip with sound is a different purchase
    return RenderedPrompt(
        provider=name, model=model or caps.default_model, prompt=text, negative_prompt=negative,
        duration_s=seconds, aspect_ratio=_aspect_for(caps, shot.aspect_ratio),
        resolution=_resolution(caps, snapped),
        camera_control=kling_camera_control(shot) if caps.camera_control else None,
        audio=sound, detail=detail, params=params,
    )
