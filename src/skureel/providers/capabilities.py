"""What each provider can do, declared as data so planning and lint can check it without importing adapters.

Prices marked `price_confirmed: False` are configurable defaults (SKUREEL_PRICES_OVERRIDE), not vendor quotes.
A model is chosen as `provider:model` (`kling:kling-v3-omni`); the models and their own limits are in catalogue.py.
"""

from __future__ import annotations

from pydantic import BaseModel

from skureel.domain import UnusableInput
from skureel.providers import catalogue
from skureel.providers.modelspec import Capabilities, ModelSpec

__all__ = ["CAPABILITIES", "Capabilities", "Choice", "ModelSpec", "capabilities", "model_caps", "parse_chain",
           "model_rows", "parse_choice", "tier_model"]


CAPABILITIES: dict[str, Capabilities] = {
    c.name: c
    for c in (
        Capabilities(name="local", label="embedded local renderer", models=("studio-v1",), default_model="studio-v1",
                     durations_s=tuple(float(s) for s in range(3, 61)), aspect_ratios=("9:16", "4:5", "1:1", "16:9", "2:3"),
                     max_prompt_chars=100_000, image_input="local", text_to_video=False, avatar=True,
                     price_per_second_usd={"std": 0.0}, price_confirmed=True, max_concurrency=0),
        Capabilities(name="kling", label="Kling (official API)",
                     models=tuple(m.id for m in catalogue.KLING), specs=catalogue.KLING,
                     default_model="kling-v2-5-turbo", draft_model="kling-v2-5-turbo", durations_s=(5.0, 10.0),
                     aspect_ratios=("16:9", "9:16", "1:1"), max_prompt_chars=2500, image_input="url_or_base64",
                     camera_control=True, avatar=True, price_per_second_usd={"std": 0.07, "pro": 0.14},
                     env_keys=("KLING_ACCESS_KEY", "KLING_SECRET_KEY"),  # or KLING_API_KEY alone (credentials.py)
                     max_concurrency=5, url_lifetime="30 days"),
        Capabilities(name="fal", label="fal.ai queue (Kling, Hailuo, ...)",
                     models=tuple(m.id for m in catalogue.FAL), specs=catalogue.FAL,
                     default_model="fal-ai/kling-video/v2.1/standard/image-to-video", durations_s=(5.0, 10.0),
                     aspect_ratios=("16:9", "9:16", "1:1"), max_prompt_chars=2500, avatar=True,
                     price_per_second_usd={"std": 0.05, "avatar": 0.115}, env_keys=("FAL_KEY",), max_concurrency=2),
        Capabilities(name="replicate", label="Replicate (official models)",
                     models=tuple(m.id for m in catalogue.REPLICATE), specs=catalogue.REPLICATE,
                     default_model="kwaivgi/kling-v2.1", durations_s=(5.0, 10.0), aspect_ratios=("16:9", "9:16", "1:1"),
                     max_prompt_chars=2500, price_per_second_usd={"standard": 0.05, "pro": 0.09},
                     env_keys=("REPLICATE_API_TOKEN",), max_concurrency=5, url_lifetime="1 hour"),
        Capabilities(name="runway", label="Runway", models=("gen4_turbo", "gen4.5", "veo3.1_fast"), default_model="gen4_turbo",
                     durations_s=(2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0), aspect_ratios=("16:9", "9:16", "1:1", "4:5"),
                     max_prompt_chars=1000, negative_prompt=False, image_max_bytes=5 * 1024 * 1024,
                     price_per_second_usd={"std": 0.05}, env_keys=("RUNWAYML_API_SECRET",), max_concurrency=2,
                     url_lifetime="24-48 hours"),
        Capabilities(name="veo", label="Google Veo (Gemini API)",
                     models=tuple(m.id for m in catalogue.VEO), specs=catalogue.VEO,
                     default_model="veo-3.1-fast-generate-preview", durations_s=(4.0, 6.0, 8.0),
                     aspect_ratios=("16:9", "9:16"), resolutions=("720p", "1080p"), max_prompt_chars=1024,
                     image_input="inline_base64", audio=True, price_per_second_usd={"fast": 0.15, "std": 0.40},
                     env_keys=("GEMINI_API_KEY", "GOOGLE_API_KEY"), max_concurrency=2),
        Capabilities(name="minimax", label="MiniMax Hailuo",
                     models=tuple(m.id for m in catalogue.MINIMAX), specs=catalogue.MINIMAX,
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
        Capabilities(name="sora", label="OpenAI Sora 2", models=("sora-2", "sora-2-pro"), default_model="sora-2",
                     durations_s=(4.0, 8.0, 12.0), aspect_ratios=("16:9", "9:16"), max_prompt_chars=2000,
                     negative_prompt=False, audio=True, price_per_second_usd={"std": 0.10}, env_keys=("OPENAI_API_KEY",),
                     retired="2026-09-24", retired_reason="OpenAI switched the Sora 2 models and the Videos API off on "
                     "2026-09-24, with no replacement API"),
    )
}


def capabilities(name: str) -> Capabilities:
    try:
        return CAPABILITIES[name]
    except KeyError:
        raise UnusableInput(f"unknown provider {name!r}; choose one of {', '.join(CAPABILITIES)}") from None


def model_caps(name: str, model: str | None = None) -> Capabilities:
    """The provider as one of its models sees it (durations, audio, prices); the default model when none is given."""
    return capabilities(name).for_model(model)


class Choice(BaseModel):
    """One entry of a provider chain: `kling`, or `kling:kling-v3-omni` to pin the model."""

    provider: str
    model: str | None = None

    def __str__(self) -> str:
        return f"{self.provider}:{self.model}" if self.model else self.provider


def parse_choice(text: str, *, allow_retired: bool = False) -> Choice:
    """`provider[:model]`, checked against the capability map; every refusal is one clear line."""
    name, colon, model = text.strip().partition(":")
    name, model = name.strip(), model.strip()
    caps = capabilities(name)
    if caps.retired and not allow_retired:
        raise UnusableInput(f"{name} is retired since {caps.retired}: {caps.retired_reason}; choose another provider")
    if model and model not in caps.models:
        raise UnusableInput(f"unknown model {model!r} for {name}; choose one of {', '.join(caps.models)}")
    if not model and colon:
        raise UnusableInput(f"{text.strip()!r} names no model; write {name} or {name}:MODEL")
    return Choice(provider=name, model=model or None)


def parse_chain(entries: str | list[str]) -> list[Choice]:
    items = entries.split(",") if isinstance(entries, str) else entries
    chain = [parse_choice(e) for e in items if e.strip()]
    if not chain:
        raise UnusableInput(f"no provider given; choose from {', '.join(CAPABILITIES)}")
    return chain


def tier_model(name: str, quality: str = "final", photos: int = 1) -> str:
    """The model a quality tier picks when none is pinned: Kling final is 3.0 Omni with a gallery of two or more
    usable photos (references keep the product true from every side), 3.0 otherwise; draft is 2.5 Turbo std."""
    caps = capabilities(name)
    if quality == "draft":
        return caps.draft_model or caps.default_model
    if name == "kling":
        return "kling-v3-omni" if photos >= 2 else "kling-v3"
    return caps.default_model


def _span(durations: tuple[float, ...]) -> str:
    if len(durations) > 3 and durations == tuple(float(d) for d in range(int(durations[0]), int(durations[-1]) + 1)):
        return f"{durations[0]:g}-{durations[-1]:g}s"
    return ",".join(f"{d:g}" for d in durations) + "s"


def model_rows() -> list[dict[str, object]]:
    """One row per provider:model for `skureel providers`: durations, audio, prices (estimates marked), notes."""
    rows: list[dict[str, object]] = []
    for caps in CAPABILITIES.values():
        for model in caps.models:
            view = caps.for_model(model)
            spec = view.model
            notes = [n for n in (spec.note if spec else "",
                                 f"references <= {spec.max_references + 1}" if spec and spec.max_references else "",
                                 "storyboards" if spec and spec.multi_shot else "",
                                 f"retired {caps.retired}" if caps.retired else "") if n]
            rows.append({"model": f"{caps.name}:{model}", "label": spec.label if spec and spec.label else model,
                         "durations": _span(view.durations_s), "audio": view.audio,
                         "audio_default": spec.audio_default if spec else False,
                         "price_per_second_usd": view.price_per_second_usd, "price_confirmed": view.price_confirmed,
                         "retired": caps.retired, "notes": notes})
    return rows
