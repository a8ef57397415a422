"""The value types behind the capability map: one Capabilities per provider, one ModelSpec per model it serves.

A model overrides only what differs from its provider (durations, audio, prices, field names); `Capabilities.for_model`
folds the two into the view planning, prompts, lint and cost read.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ModelSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    label: str = ""
    durations_s: tuple[float, ...] | None = None
    resolutions: tuple[str, ...] | None = None
    hd_max_s: float | None = None  # the top resolution only up to this length (Hailuo: 1080P at 6 s only)
    audio: bool = False  # the model can generate its own sound
    audio_field: str | None = None  # the request field that switches it (Kling `sound`, hubs `generate_audio`)
    audio_default: bool = False  # what the vendor does when the field is left out: we always send it explicitly
    camera_control: bool | None = None
    text_to_video: bool | None = None
    image_to_video: bool | None = None
    image_field: str = ""  # hub field for the start image (fal v3 `start_image_url`, O3 `image_url`)
    references_field: str = ""  # hub field for the reference gallery (fal O3 R2V `image_urls`)
    max_references: int = 0  # images besides the start frame (Kling Omni: image_list <= 7 in all)
    multi_shot: bool = False  # multi_prompt storyboards (<= 6 shots, each >= 1 s, summing to the duration)
    endpoint: str = ""  # vendor path when it differs from the provider's usual one (Kling Omni)
    default_mode: str = "std"
    mode_values: dict[str, str] = Field(default_factory=dict)  # our mode -> the vendor's spelling
    price_per_second_usd: dict[str, float] | None = None  # "std", "pro", "std+audio", ...
    price_confirmed: bool = False
    note: str = ""


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
    image_aspect_range: tuple[float, float] = (0.4, 2.5)  # width/height the API accepts (Kling: 1:2.5 to 2.5:1)
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
    specs: tuple[ModelSpec, ...] = ()
    draft_model: str = ""  # --quality draft; empty = default_model
    retired: str = ""  # ISO date the vendor switched the API off; planning refuses the provider
    retired_reason: str = ""
    model: ModelSpec | None = None  # set on the view for_model returns

    def snap_duration(self, seconds: float) -> float:
        return min(self.durations_s, key=lambda d: (abs(d - seconds), -d))

    def price(self, mode: str | None = None, audio: bool = False) -> float:
        if mode and audio and f"{mode}+audio" in self.price_per_second_usd:
            return self.price_per_second_usd[f"{mode}+audio"]
        if mode and mode in self.price_per_second_usd:
            return self.price_per_second_usd[mode]
        return next(iter(self.price_per_second_usd.values()), 0.0)

    def spec(self, model: str) -> ModelSpec | None:
        return next((s for s in self.specs if s.id == model), None)

    def for_model(self, model: str | None) -> Capabilities:
        """This provider as one model sees it; an unknown or absent model gives the provider's defaults."""
        spec = self.spec(model or self.default_model)
        if spec is None:
            return self
        update: dict[str, object] = {"default_model": spec.id, "model": spec, "audio": spec.audio}
        for field in ("durations_s", "resolutions", "camera_control", "text_to_video", "image_to_video",
                      "price_per_second_usd"):
            value = getattr(spec, field)
            if value is not None:
                update[field] = value
        if spec.price_per_second_usd is not None:
            update["price_confirmed"] = spec.price_confirmed
        return self.model_copy(update=update)
