"""The fake Kling's field rules per endpoint and model, after ../shared/reference/kling-v3.md section 1 and
providers.md section 1. Each returns the vendor-style message of the first broken rule (answered as code 1201)."""

from __future__ import annotations

import functools
from typing import Any

CLASSIC = {"kling-v1", "kling-v1-5", "kling-v1-6", "kling-v2-master", "kling-v2-1", "kling-v2-1-master",
           "kling-v2-5-turbo", "kling-v2-6", "kling-v3"}
OMNI = {"kling-v3-omni", "kling-video-o1"}
ANY_LENGTH = {"kling-v3", "kling-v3-omni", "kling-video-o1"}  # any integer "3".."15"
SOUND = {"kling-v2-6", "kling-v3", "kling-v3-omni"}
MULTI_SHOT = {"kling-v3", "kling-v3-omni"}
ASPECTS = {"16:9", "9:16", "1:1"}
OUTPUT_ASPECTS = {"9:16": 9 / 16, "1:1": 1.0, "16:9": 16 / 9}


def _model(kind: str, body: dict[str, Any]) -> str:
    if kind == "omni-video":
        return str(body.get("model_name") or "kling-video-o1")  # left out, the endpoint serves O1
    return str(body.get("model_name") or "kling-v1")


def validate(kind: str, body: dict[str, Any]) -> str | None:
    model = _model(kind, body)
    allowed = OMNI if kind == "omni-video" else CLASSIC
    if model not in allowed:
        return f"model_name {body.get('model_name')!r} is invalid for this endpoint"
    for check in (_lengths, _text, _images, _sound, _multi_shot, _camera):
        problem = check(kind, model, body)
        if problem:
            return problem
    return None


def _lengths(kind: str, model: str, body: dict[str, Any]) -> str | None:
    duration = body.get("duration", "5")
    if not isinstance(duration, str):
        return "duration must be a string"
    if model in ANY_LENGTH:
        top = 10 if body.get("video_list") else 15
        if not duration.isdigit() or not 3 <= int(duration) <= top:
            return f"duration must be a whole number of seconds from '3' to '{top}' for {model}"
    elif duration not in ("5", "10"):
        return "duration must be the string '5' or '10'"
    if body.get("mode", "std") not in ("std", "pro"):
        return "mode must be std or pro"
    if "aspect_ratio" in body and body["aspect_ratio"] not in ASPECTS:
        return "aspect_ratio must be 16:9, 9:16 or 1:1"
    return None


def _text(kind: str, model: str, body: dict[str, Any]) -> str | None:
    if len(body.get("prompt", "")) > 2500 or len(body.get("negative_prompt", "")) > 2500:
        return "prompt is longer than 2500 characters"
    if kind == "text2video" and not body.get("prompt"):
        return "prompt is required"
    if "cfg_scale" in body and model.startswith("kling-v2"):
        return "cfg_scale is not supported by this model"
    return None


@functools.lru_cache(maxsize=8)
def _read_image(data: str) -> tuple[int, int, int, str] | str:
    """(width, height, bytes, format) of a raw-base64 image, or the vendor's complaint. Cached: one create asks
    up to three times (rules, output aspect) and a soak sends one photo hundreds of times."""
    import base64
    import binascii
    import io

    from PIL import Image, UnidentifiedImageError

    try:
        raw = base64.b64decode(data, validate=True)
        with Image.open(io.BytesIO(raw)) as image:
            width, height = image.size
            kind = image.format or ""
    except (binascii.Error, ValueError, UnidentifiedImageError, OSError):
        return "image is not a readable jpg or png"
    return width, height, len(raw), kind


def _image_size(data: str) -> str | None:
    """Kling's input rules: jpg/png, at least 300 px a side, aspect between 1:2.5 and 2.5:1, at most 10 MB."""
    if not data or data.startswith(("http://", "https://")):
        return None
    found = _read_image(data)
    if isinstance(found, str):
        return found
    width, height, size, kind = found
    if kind not in ("JPEG", "PNG"):
        return f"image format {kind.lower() or 'unknown'} is not supported: use jpg, jpeg or png"
    if size > 10 * 1024 * 1024:
        return "image must be at most 10MB"
    if min(width, height) < 300:
        return "image width and height must be at least 300px"
    if not 1 / 2.5 <= width / height <= 2.5:
        return "aspect ratio must be between 1:2.5 and 2.5:1"
    return None


def image_problem(body: dict[str, Any], kind: str) -> str | None:
    """Every image a create carries, checked like the vendor checks it (code 1201), named by its field."""
    fields: list[tuple[str, str]] = []
    if kind.endswith("image2video"):
        fields += [(f, str(body[f])) for f in ("image", "image_tail") if body.get(f)]
    if kind == "omni-video":
        fields += [(f"image_list[{n}]", str(i.get("image_url", ""))) for n, i in enumerate(body.get("image_list") or [])
                   if isinstance(i, dict)]
    if kind == "motion-control":
        fields.append(("image_url", str(body.get("image_url", ""))))
    for name, data in fields:
        if data.startswith("data:"):
            return f"{name} must be a URL or raw base64 without a data: prefix"
        problem = _image_size(data)
        if problem:
            return problem if name == "image" else f"{name}: {problem}"
    return None


def output_aspect(data: str | None) -> str:
    """Image-to-video follows the image: the nearest of Kling's output aspects (9:16 when it cannot be read)."""
    import math

    found = _read_image(data) if data and not data.startswith(("http://", "https://")) else "unread"
    if isinstance(found, str):
        return "9:16"
    ratio = found[0] / found[1]
    return min(OUTPUT_ASPECTS, key=lambda name: abs(math.log(ratio / OUTPUT_ASPECTS[name])))


def _images(kind: str, model: str, body: dict[str, Any]) -> str | None:
    if kind.endswith("image2video"):
        if not (body.get("image") or body.get("image_tail")):
            return "image or image_tail is required"
    problem = image_problem(body, kind)
    if problem:
        return problem
    if kind != "omni-video":
        if "image_list" in body:
            return "image_list belongs to the omni-video endpoint"
        return None
    images = body.get("image_list") or []
    limit = 4 if body.get("video_list") else 7
    if not isinstance(images, list) or len(images) > limit:
        return f"image_list holds at most {limit} images"
    types = [i.get("type") for i in images if isinstance(i, dict)]
    if len(types) != len(images) or any(not i.get("image_url") for i in images):
        return "every image_list entry needs an image_url"
    if any(str(i["image_url"]).startswith("data:") for i in images):
        return "image_url must be a URL or raw base64 without a data: prefix"
    if any(t not in (None, "first_frame", "end_frame") for t in types) or types.count("first_frame") > 1:
        return "image_list type must be first_frame or end_frame, once each"
    if "end_frame" in types and "first_frame" not in types:
        return "an end_frame needs a first_frame"
    base_edit = any(v.get("refer_type") == "base" for v in body.get("video_list") or [])
    if "first_frame" not in types and not base_edit and "aspect_ratio" not in body:
        return "aspect_ratio is required without a first frame"
    if len(body.get("video_list") or []) > 1:
        return "video_list holds at most one video"
    return None


def _sound(kind: str, model: str, body: dict[str, Any]) -> str | None:
    if "sound" not in body:
        return None
    if model not in SOUND or body["sound"] not in ("on", "off"):
        return f"sound is not supported by {model}" if model not in SOUND else "sound must be on or off"
    if body["sound"] == "on" and model == "kling-v2-6" and body.get("mode") != "pro":
        return "sound needs mode pro on kling-v2-6"
    if body["sound"] == "on" and body.get("video_list"):
        return "sound must be off when a video is given"
    return None


def _multi_shot(kind: str, model: str, body: dict[str, Any]) -> str | None:
    if not body.get("multi_shot"):
        return "multi_prompt needs multi_shot" if body.get("multi_prompt") else None
    if model not in MULTI_SHOT:
        return f"multi_shot is not supported by {model}"
    if body.get("shot_type") not in ("customize", "intelligence"):
        return "shot_type must be customize or intelligence"
    if body.get("image_tail"):
        return "multi_shot cannot be combined with image_tail"
    if any(isinstance(i, dict) and i.get("type") for i in body.get("image_list") or []):
        return "multi_shot forbids first and end frames on omni-video"
    if body["shot_type"] == "intelligence":
        return None
    shots = body.get("multi_prompt") or []
    if not 1 <= len(shots) <= 6:
        return "multi_prompt holds 1 to 6 shots"
    total = 0
    for n, shot in enumerate(shots, start=1):
        seconds = str(shot.get("duration", ""))
        if shot.get("index") != n or not isinstance(shot.get("index"), int):
            return "multi_prompt index must count 1, 2, 3 ..."
        if not shot.get("prompt") or len(shot["prompt"]) > 512:
            return "each multi_prompt prompt is 1 to 512 characters"
        if not isinstance(shot.get("duration"), str) or not seconds.isdigit() or int(seconds) < 1:
            return "each multi_prompt duration is a string of at least '1'"
        total += int(seconds)
    if str(total) != body.get("duration"):
        return f"multi_prompt durations sum to {total}, not the duration {body.get('duration')}"
    return None


def _camera(kind: str, model: str, body: dict[str, Any]) -> str | None:
    control = body.get("camera_control")
    if control and kind == "omni-video":
        return "camera_control is not a field of omni-video"
    if control and control.get("type") == "simple":
        values = [v for v in (control.get("config") or {}).values() if v]
        if len(values) != 1 or any(abs(float(v)) > 10 for v in values):
            return "camera_control.config needs exactly one non-zero value in [-10, 10]"
    return None


def first_image(kind: str, body: dict[str, Any]) -> tuple[str | None, bool]:
    """The picture the fake animates, and whether it fixes the frame (then the output follows the image)."""
    if kind != "omni-video":
        return body.get("image"), kind.endswith("image2video")
    images = body.get("image_list") or []
    first = next((i for i in images if i.get("type") == "first_frame"), None)
    if first is not None:
        return first.get("image_url"), True
    return (images[0].get("image_url") if images else None), False


def motion_problem(body: dict[str, Any]) -> str | None:
    """Motion Control (reference section 2): image + reference video, no duration/aspect/sound of its own."""
    if body.get("model_name", "kling-v3") not in ("kling-v3", "kling-v2-6"):
        return f"model_name {body.get('model_name')!r} is invalid for motion-control"
    if not body.get("image_url") or str(body["image_url"]).startswith("data:"):
        return "image_url is required, as a URL or raw base64 without a data: prefix"
    problem = image_problem(body, "motion-control")
    if problem:
        return problem
    if not str(body.get("video_url", "")).startswith(("http://", "https://")):
        return "video_url must be a URL of an mp4 or mov"
    if body.get("character_orientation") not in ("image", "video"):
        return "character_orientation must be image or video"
    if body.get("mode") not in ("std", "pro"):
        return "mode is required: std or pro"
    if body.get("keep_original_sound", "yes") not in ("yes", "no"):
        return "keep_original_sound must be yes or no"
    if len(body.get("prompt", "")) > 2500:
        return "prompt is longer than 2500 characters"
    for field in ("duration", "aspect_ratio", "sound", "seed"):
        if field in body:
            return f"{field} is not a field of motion-control: the output follows the reference video"
    if len(body.get("element_list") or []) > 1:
        return "element_list holds at most one element"
    return None


async def reference_seconds(url: str, orientation: str) -> tuple[float, str | None]:
    """Length of the reference clip (fetched like the vendor would; only loopback URLs are reachable here)."""
    import io

    import av
    import httpx

    try:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(url)
        if response.status_code != 200:
            return 0.0, f"video_url could not be fetched (HTTP {response.status_code})"
        with av.open(io.BytesIO(response.content), mode="r") as container:
            stream = container.streams.video[0]
            seconds = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else \
                float(container.duration or 0) / 1_000_000
            short = min(stream.codec_context.width, stream.codec_context.height)
    except (httpx.HTTPError, av.FFmpegError, IndexError):
        return 0.0, "video_url is not a readable video"
    top = 30.0 if orientation == "video" else 10.0
    if not 3.0 <= round(seconds, 1) <= top:
        return seconds, f"the reference video must last 3 to {top:g} s with orientation {orientation} (it has {seconds:.1f} s)"
    if short < 340:
        return seconds, "the reference video needs at least 340 px a side"
    return seconds, None
