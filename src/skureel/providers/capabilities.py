"""What each provider can do, declared as data so planning and lint can check it without importing adapters.

Prices marked `price_confirmed: False` are configurable defaults (SKUREEL_PRICES_OVERRIDE), not vendor quotes.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Capabilities(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    label: str
    models: tuple[str, ...]
    default_model: str
    durations_s: tuple[float, ...]  # the values the API accepts
    aspect_ratios: tuple[str, ...]
    resolutions: tuple[str, ...] = ()
    max_prompt_chars: int
    negative_prompt: bool = True
    image_max_bytes: int = 10 * 1024 * 1024
    image_min_side: int = 300
    image_input: Literal["url_or_base64", "data_uri", "inline_base64", "url_only", "local"] = "data_uri"
    needs_public_url: bool = False
    audio: bool = False
    camera_control: bool = False
    avatar: bool = False
    text_to_video: bool = True
    image_to_video: bool = True
    price_per_second_usd: dict[str, float] = Field(default_factory=dict)  # mode -> USD per second
    price_confirmed: bool = False
    env_keys: tuple[str, ...] = ()
    max_concurrency: int = 2
    url_lifetime: str = ""

    def snap_duration(self, seconds: float) -> float:
        return min(self.durations_s, key=lambda d: (abs(d - seconds), -d))

    def price(self, mode: str | None = None) -> float:
        if mode and mode in self.price_per_second_usd:
            return self.price_per_second_usd[mode]
        return next(iter(self.price_per_second_usd.values()), 0.0)


CAPABILITIES: dict[str, Capabilities] = {
    c.name: c
    for c in (
        Capabilities(name="local", label="embedded local renderer", models=("studio-v1",), default_model="studio-v1",
                     durations_s=tuple(float(s) for s in range(3, 61)), aspect_ratios=("9:16", "4:5", "1:1", "16:9", "2:3"),
                     max_prompt_chars=100_000, image_input="local", text_to_video=False, avatar=True,
                     price_per_second_usd={"std": 0.0}, price_confirmed=True, max_concurrency=0),
        Capabilities(name="kling", label="Kling (official API)",
                     models=("kling-v2-1", "kling-v2-5-turbo", "kling-v2-6", "kling-v2-1-master", "kling-v1-6"),
                     default_model="kling-v2-5-turbo", durations_s=(5.0, 10.0), aspect_ratios=("16:9", "9:16", "1:1"),
                     max_prompt_chars=2500, image_input="url_or_base64", camera_control=True, avatar=True,
                     price_per_second_usd={"std": 0.07, "pro": 0.14}, env_keys=("KLING_ACCESS_KEY", "KLING_SECRET_KEY"),
                     max_concurrency=5, url_lifetime="30 days"),
        Capabilities(name="fal", label="fal.ai queue (Kling, Hailuo, ...)",
                     models=("fal-ai/kling-video/v2.1/standard/image-to-video", "fal-ai/kling-video/v2.5-turbo/pro/image-to-video"),
                     default_model="fal-ai/kling-video/v2.1/standard/image-to-video", durations_s=(5.0, 10.0),
                     aspect_ratios=("16:9", "9:16", "1:1"), max_prompt_chars=2500, avatar=True,
                     price_per_second_usd={"std": 0.05, "avatar": 0.115}, env_keys=("FAL_KEY",), max_concurrency=2),
        Capabilities(name="replicate", label="Replicate (official models)", models=("kwaivgi/kling-v2.1",),
                     default_model="kwaivgi/kling-v2.1", durations_s=(5.0, 10.0), aspect_ratios=("16:9", "9:16", "1:1"),
                     max_prompt_chars=2500, price_per_second_usd={"standard": 0.05, "pro": 0.09},
                     env_keys=("REPLICATE_API_TOKEN",), max_concurrency=5, url_lifetime="1 hour"),
        Capabilities(name="runway", label="Runway", models=("gen4_turbo", "gen4.5", "veo3.1_fast"), default_model="gen4_turbo",
                     durations_s=(2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0), aspect_ratios=("16:9", "9:16", "1:1", "4:5"),
                     max_prompt_chars=1000, negative_prompt=False, image_max_bytes=5 * 1024 * 1024,
                     price_per_second_usd={"std": 0.05}, env_keys=("RUNWAYML_API_SECRET",), max_concurrency=2,
                     url_lifetime="24-48 hours"),
        Capabilities(name="veo", label="Google Veo (Gemini API)",
                     models=("veo-3.1-fast-generate-preview", "veo-3.1-generate-preview"),
                     default_model="veo-3.1-fast-generate-preview", durations_s=(4.0, 6.0, 8.0),
                     aspect_ratios=("16:9", "9:16"), resolutions=("720p", "1080p"), max_prompt_chars=1024,
                     image_input="inline_base64", audio=True, price_per_second_usd={"fast": 0.15, "std": 0.40},
                     env_keys=("GEMINI_API_KEY", "GOOGLE_API_KEY"), max_concurrency=2),
        Capabilities(name="minimax", label="MiniMax Hailuo", models=("MiniMax-Hailuo-2.3", "MiniMax-Hailuo-2.3-Fast"),
                     default_model="MiniMax-Hailuo-2.3-Fast", durations_s=(6.0, 10.0), aspect_ratios=("16:9", "9:16", "1:1"),
                     resolutions=("768P", "1080P"), max_prompt_chars=2000, negative_prompt=False,
                     price_per_second_usd={"std": 0.045}, env_keys=("MINIMAX_API_KEY",), max_concurrency=2),
        Capabilities(name="luma", label="Luma Agents API", models=("ray-3.2",), default_model="ray-3.2",
                     durations_s=(5.0, 10.0), aspect_ratios=("16:9", "9:16", "1:1", "4:3", "3:4", "21:9"),
                     resolutions=("540p", "720p", "1080p"), max_prompt_chars=2000, negative_prompt=False,
                     price_per_second_usd={"std": 0.10}, env_keys=("LUMA_AGENTS_API_KEY",), max_concurrency=2,
                     url_lifetime="1 hour"),
        Capabilities(name="heygen", label="HeyGen talking photo", models=("talking_photo",), default_model="talking_photo",
                     durations_s=tuple(float(s) for s in range(2, 61)), aspect_ratios=("9:16", "16:9", "1:1"),
                     max_prompt_chars=1500, negative_prompt=False, image_to_video=False, text_to_video=False,
                     avatar=True, price_per_second_usd={"std": 0.03}, env_keys=("HEYGEN_API_KEY",)),
        Capabilities(name="did", label="D-ID talks", models=("talks",), default_model="talks",
                     durations_s=tuple(float(s) for s in range(2, 61)), aspect_ratios=("1:1",), max_prompt_chars=1500,
                     negative_prompt=False, image_input="url_only", needs_public_url=True, image_to_video=False,
                     text_to_video=False, avatar=True, price_per_second_usd={"std": 0.05}, env_keys=("DID_API_KEY",)),
    )
}


def capabilities(name: str) -> Capabilities:
    try:
        return CAPABILITIES[name]
    except KeyError:
        from skureel.domain import UnusableInput

        raise UnusableInput(f"unknown provider {name!r}; choose one of {', '.join(CAPABILITIES)}") from None
