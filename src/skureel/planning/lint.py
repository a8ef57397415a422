"""Lint blueprints against prompt-writing practice, provider limits and the brand kit, before spending."""

from __future__ import annotations

import re

from skureel.domain import BrandKit, ImageAsset, LintFinding, ShotSpec
from skureel.imageio import fitness
from skureel.planning.promptlint import lint_prompt
from skureel.planning.script import WORDS_PER_SECOND
from skureel.prompts import RenderedPrompt
from skureel.providers.capabilities import model_caps

_TEXT_REQUEST = re.compile(r"\b(text|caption|logo|title card|subtitle|lettering|words|typography|headline)s?\b.{0,30}"
                           r"\b(on screen|on-screen|overlay|appears?|reading|says|displayed)\b|"
                           r"\b(on[- ]screen text|text overlay|with the words?)\b", re.I)
_CROWD = re.compile(r"\b(\d+|dozens|hundreds|crowd|many)\s+(people|persons|models|dancers|fans|shoppers)\b", re.I)
_VAGUE = {"a product", "product", "the product", "item", "the item", "thing", "untitled", "new product", "test"}
_DIRECTIONS = ("left", "right", "above", "below", "behind", "front", "top", "side", "overhead", "upper", "lower")
_MONEY = re.compile(r"(?:[$€£₹¥]\s?\d[\d.,]*|\d[\d.,]*\s?(?:usd|eur|gbp|dollars?|euros?)|\d+\s?%\s?off|\b\d+\s?percent off)", re.I)


def _finding(severity: str, shot: ShotSpec, field: str, message: str, provider: str | None = None) -> LintFinding:
    return LintFinding(severity=severity, sku=shot.sku, shot_id=shot.shot_id, field=field, message=message,
                       provider=provider)


def lint_shot(shot: ShotSpec, rendered: RenderedPrompt, brand: BrandKit, *, hero: ImageAsset | None = None,
              images_checked: bool = False, output_min_side: int = 1080, facts: str = "",
              rigid: bool = False) -> list[LintFinding]:
    """`rigid`: the product's category holds its shape (planning.blueprint.rigid_product), for the prompt lint."""
    caps = model_caps(rendered.provider, rendered.model)
    out: list[LintFinding] = lint_prompt(shot, rendered, rigid=rigid)
    if caps.retired:
        out.append(_finding("error", shot, "provider", f"{caps.name} is retired since {caps.retired}: "
                            f"{caps.retired_reason}", caps.name))
    cam = shot.camera
    moving = any((abs(cam.zoom_end - cam.zoom_start) > 0.001, cam.pan, cam.tilt, cam.arc_deg, cam.crane, cam.roll_deg,
                  cam.handheld, cam.focus_pull))
    if cam.move != "static" and not moving:
        out.append(_finding("warning", shot, "camera", f"camera move {cam.move!r} has no motion values"))
    if "camera" not in rendered.prompt.casefold() and rendered.provider != "heygen" and rendered.provider != "did":
        out.append(_finding("error", shot, "camera", "no explicit camera motion in the prompt", rendered.provider))
    if not any(d in shot.lighting.direction.casefold() for d in _DIRECTIONS):
        out.append(_finding("error", shot, "lighting", f"lighting {shot.lighting.setup!r} has no direction"))
    text = " ".join([shot.subject, shot.action, shot.environment, shot.mood])
    if _TEXT_REQUEST.search(text):
        out.append(_finding("error", shot, "action", "asks for text or logos on screen: models render text badly; use overlays"))
    crowd = _CROWD.search(text)
    if crowd and (not crowd.group(1).isdigit() or int(crowd.group(1)) > 8):
        out.append(_finding("warning", shot, "action", "more than 8 people in shot: expect distorted faces and hands"))
    if cam.move == "static" and re.search(r"\b(pan|tilt|orbit|push|dolly|track)", text, re.I):
        out.append(_finding("error", shot, "camera", "static shot but the action asks for camera movement"))
    if re.search(r"\bfrom the (left|right)\b.*\bfrom the (left|right)\b", shot.lighting.direction, re.I) and \
            shot.lighting.quality == "hard":
        out.append(_finding("warning", shot, "lighting", "two hard key lights from different directions"))
    if shot.kind == "avatar":
        if not caps.avatar:
            out.append(_finding("error", shot, "kind", f"{caps.name} has no avatar model", caps.name))
        elif shot.duration_s > 60:
            out.append(_finding("error", shot, "duration", "avatar clips are limited to 60s", caps.name))
    elif shot.duration_s > max(caps.durations_s):
        out.append(_finding("error", shot, "duration", f"{shot.duration_s:g}s exceeds {caps.name}'s maximum of "
                            f"{max(caps.durations_s):g}s", caps.name))
    elif shot.duration_s not in caps.durations_s:
        out.append(_finding("warning", shot, "duration", f"{shot.duration_s:g}s is not a {caps.name} value; "
                            f"snapped to {rendered.duration_s:g}s", caps.name))
    if len(rendered.prompt) > caps.max_prompt_chars:
        out.append(_finding("error", shot, "prompt", f"prompt is {len(rendered.prompt)} chars, over {caps.name}'s "
                            f"{caps.max_prompt_chars}", caps.name))
    elif rendered.detail < 2:
        out.append(_finding("warning", shot, "prompt", f"prompt shortened to fit {caps.max_prompt_chars} chars", caps.name))
    blob = " ".join([rendered.prompt, shot.audio.voice_over or ""]).casefold()
    for word in brand.banned_words:
        if re.search(r"(?<![\w])" + re.escape(word.casefold()) + r"(?![\w])", blob):
            out.append(_finding("error", shot, "prompt", f"banned brand word {word!r}"))
    title = shot.title.strip().casefold()
    if title in _VAGUE or len(title) < 3:
        out.append(_finding("error", shot, "subject", f"vague subject {shot.title!r}: name the product"))
    if shot.material_source == "unknown":
        out.append(_finding("warning", shot, "material", "material not in the vocabulary; planned as a generic product"))
    if shot.kind != "avatar" and caps.image_to_video and not shot.source_images and not caps.text_to_video:
        out.append(_finding("error", shot, "source_images", f"no usable image: {caps.name} needs one for image-to-video"))
    if shot.kind != "avatar" and images_checked and hero is None and shot.source_images:
        out.append(_finding("error", shot, "source_images", "none of the product's images could be used"))
    if shot.kind == "detail" and hero is not None and max(hero.width, hero.height) < output_min_side:
        out.append(_finding("warning", shot, "source_images",
                            f"macro shot from a {hero.width}x{hero.height} image: smaller than the {output_min_side}px output"))
    if shot.kind != "avatar" and hero is not None and hero.width and hero.height:
        unfit = fitness(hero.width, hero.height, hosted=rendered.provider != "local")
        if unfit:  # said at plan time, with the row, instead of after a minute of rendering
            out.append(_finding("error" if len(shot.source_images) == 1 else "warning", shot, "source_images", unfit))
    if shot.kind == "avatar":
        out.extend(_lint_script(shot, brand, facts))
    return out


def _lint_script(shot: ShotSpec, brand: BrandKit, facts: str) -> list[LintFinding]:
    out: list[LintFinding] = []
    script = shot.audio.voice_over or ""
    if not script.strip():
        out.append(_finding("error", shot, "script", "avatar shot without a script"))
        return out
    words = len(script.split())
    budget = (shot.duration_s - brand.end_card.duration_s) * WORDS_PER_SECOND
    if words > budget + 1:
        out.append(_finding("error", shot, "script", f"{words} words do not fit {shot.duration_s:g}s "
                            f"(about {WORDS_PER_SECOND} words per second, {budget:.0f} words)"))
    facts_folded = facts.casefold()
    for claim in _MONEY.findall(script):
        digits = re.sub(r"[^\d]", "", claim)
        if digits and digits.lstrip("0") not in re.sub(r"[^\d ]", "", facts_folded).replace(" ", ""):
            out.append(_finding("error", shot, "script", f"claim {claim!r} is not in the catalog row"))
    return out
