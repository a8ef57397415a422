"""Per-model input rules of the fake hubs (fal, Replicate) and MiniMax, after ../shared/reference/kling-v3.md
sections 4, 5 and 8. Each returns the first broken rule as the vendor would word it, or None."""

from __future__ import annotations

import json
from typing import Any


def _whole(value: object, low: int, high: int) -> bool:
    text = str(value)
    return text.isdigit() and low <= int(text) <= high


def fal_problem(model: str, body: dict[str, Any]) -> str | None:
    """v3 and O3 differ in the image field and the audio default; Kling 4.0 runs 3-30 s."""
    v3, o3, v4 = "/kling-video/v3/" in f"/{model}", "/kling-video/o3/" in f"/{model}", model.startswith("kling/v4/")
    has_prompt, has_multi = bool(body.get("prompt")), bool(body.get("multi_prompt"))
    if has_prompt == has_multi and (v3 or o3 or v4):
        return "give prompt or multi_prompt, exactly one"
    if not (v3 or o3 or v4):
        if not has_prompt:
            return "prompt: field required"
        if str(body.get("duration", "5")) not in ("5", "10"):
            return "duration: must be '5' or '10'"
        return None
    if not isinstance(body.get("duration", "5"), str) or not _whole(body.get("duration", "5"), 3, 30 if v4 else 15):
        return f"duration: a string from '3' to '{30 if v4 else 15}'"
    if "generate_audio" in body and not isinstance(body["generate_audio"], bool):
        return "generate_audio: must be a boolean"
    if model.endswith("/image-to-video"):
        wanted, wrong = ("image_url", "start_image_url") if o3 else ("start_image_url", "image_url")
        if not body.get(wanted):
            return f"{wanted}: field required" + (f" ({wrong} is not a field of this endpoint)" if body.get(wrong) else "")
    if model.endswith("/reference-to-video") and len(body.get("image_urls") or []) > 7:
        return "image_urls: at most 7 images"
    if has_multi:
        shots = body["multi_prompt"]
        if not isinstance(shots, list) or not 1 <= len(shots) <= 6:
            return "multi_prompt: 1 to 6 shots"
        if sum(int(str(s.get("duration", 0))) for s in shots) != int(body.get("duration", 0)):
            return "multi_prompt: durations must sum to duration"
    return None


def replicate_problem(model: str, data: dict[str, Any]) -> str | None:
    if model in ("kwaivgi/kling-v3-video", "kwaivgi/kling-v3-omni-video"):
        if not isinstance(data.get("duration", 5), int) or not 3 <= data.get("duration", 5) <= 15:
            return "duration: an integer from 3 to 15"
        if data.get("mode", "pro") not in ("standard", "pro"):
            return "mode: standard or pro"
        if "generate_audio" in data and not isinstance(data["generate_audio"], bool):
            return "generate_audio: must be a boolean"
        if data.get("end_image") and not data.get("start_image"):
            return "end_image needs start_image"
        if "multi_prompt" in data:
            if not isinstance(data["multi_prompt"], str):
                return "multi_prompt: a JSON string"
            shots = json.loads(data["multi_prompt"])
            if not 1 <= len(shots) <= 6 or sum(int(s["duration"]) for s in shots) != data.get("duration"):
                return "multi_prompt: 1 to 6 shots whose durations sum to duration"
        if len(data.get("reference_images") or []) > 7:
            return "reference_images: at most 7"
        return None
    if data.get("duration", 5) not in (5, 10):
        return "duration: 5 or 10"
    return None


MINIMAX_MODELS = {"MiniMax-Hailuo-02", "MiniMax-Hailuo-2.3", "MiniMax-Hailuo-2.3-Fast"}


def minimax_problem(body: dict[str, Any]) -> str | None:
    model, duration, resolution = body.get("model"), body.get("duration", 6), body.get("resolution", "768P")
    if model not in MINIMAX_MODELS:
        return f"invalid params: unknown model {model}"
    if len(body.get("prompt", "")) > 2000 or duration not in (6, 10):
        return "invalid params"
    allowed = {"768P", "1080P"} | ({"512P"} if model == "MiniMax-Hailuo-02" and body.get("first_frame_image") else set())
    if resolution not in allowed:
        return f"invalid params: resolution {resolution} is not offered by {model}"
    if resolution == "1080P" and duration != 6:
        return "invalid params: 1080P is only offered for 6 s"
    if model == "MiniMax-Hailuo-2.3-Fast" and not body.get("first_frame_image"):
        return "invalid params: MiniMax-Hailuo-2.3-Fast needs first_frame_image"
    if body.get("last_frame_image") and model != "MiniMax-Hailuo-02":
        return "invalid params: last_frame_image needs MiniMax-Hailuo-02"
    return None
