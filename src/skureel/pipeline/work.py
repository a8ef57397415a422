"""The values that travel between the pipeline's steps, and the small helpers the producers share."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import av
from pydantic import BaseModel, Field

from skureel.domain import BrandKit, Product, ShotSpec
from skureel.prompts import RenderedPrompt
from skureel.render.compose import overlay_text_for
from skureel.render.overlays import OverlayText
from skureel.settings import Settings

VOICES = {"en": "en-us", "de": "de", "fr": "fr-fr", "es": "es", "it": "it", "sv": "sv", "nl": "nl", "pt": "pt",
          "pl": "pl", "ru": "ru", "vi": "vi", "ja": "ja"}


def voice_for(language: str | None, brand_voice: str) -> str:
    if language and language.split("-")[0] in VOICES and not brand_voice.startswith(language.split("-")[0]):
        return VOICES[language.split("-")[0]]
    return brand_voice


class ShotWork(BaseModel):
    shot: ShotSpec
    rendered: RenderedPrompt
    cost_usd: float = 0.0
    family: str | None = None  # --bases per-family: this shot's vertical or horizontal base (planning/bases.py)

    @property
    def slot(self) -> str:
        """Where its hosted base clip is kept in SkuWork.hosted_clips: one per shot, or one per shot and family."""
        return f"{self.shot.shot_id}@{self.family}" if self.family else self.shot.shot_id


class SkuWork(BaseModel):
    product: Product
    shots: list[ShotWork]
    formats: list[str]
    brand: BrandKit
    settings: Settings
    ledger_url: str
    staging: str
    quality: str = "final"
    force: bool = False
    hosted_clips: dict[str, dict[str, Any]] = Field(default_factory=dict)  # shot_id -> base clip info from a provider
    held_clips: dict[str, dict[str, Any]] = Field(default_factory=dict)  # base clips the QA gate held (pipeline/gate.py)
    qa: str = "off"  # QA of local renders against the photo: off, or recorded (warn/gate); see pipeline/gate.py


class Composed(BaseModel):
    sku: str
    shot_id: str
    format: str
    path: str
    poster: str
    row: dict[str, Any]


class SkuOutcome(BaseModel):
    sku: str
    composed: list[Composed] = Field(default_factory=list)
    reused: list[tuple[str, str]] = Field(default_factory=list)  # (shot, format) already published and unchanged
    held: list[Composed] = Field(default_factory=list)  # held clips composed for review: written to review/, not published
    failures: list[dict[str, str]] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    details: list[str] = Field(default_factory=list)  # tracebacks of unexpected failures, for the run's own log


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_poster(clip: Path, seconds: float, dest: Path) -> None:
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            if frame.time is not None and frame.time >= seconds:
                tmp = dest.with_name(f".{dest.name}.tmp.jpg")
                frame.to_image().save(tmp, quality=88)  # type: ignore[no-untyped-call]
                tmp.replace(dest)
                return


def overlay_for(product: Product, brand: BrandKit) -> OverlayText:
    if product.sale_price and product.price and product.sale_price.amount < product.price.amount:
        return overlay_text_for(product.title, product.sale_price.display(), product.price.display(), brand)
    money = product.sale_price or product.price
    return overlay_text_for(product.title, money.display() if money else None, None, brand)


def tags_for(product: Product, brand: BrandKit, shot: ShotSpec) -> dict[str, str]:
    return {"brand": brand.name, "campaign": product.video.campaign or brand.campaign or "",
            "category": product.category or product.product_type or "", "material": shot.material,
            "colour": product.color or "", "locale": shot.language or product.language or brand.locale, "kind": shot.kind}
