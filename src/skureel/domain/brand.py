"""Brand kit schema (brand_kits/<name>/brand.yaml)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


class BrandColours(BaseModel):
    model_config = ConfigDict(extra="forbid")

    primary: str
    secondary: str = "#333333"
    background: str = "#f4f1ec"
    text: str = "#111111"

    @field_validator("primary", "secondary", "background", "text")
    @classmethod
    def _hex(cls, value: str) -> str:
        if not _HEX.match(value):
            raise ValueError(f"colour {value!r} must be a hex colour like '#1a2b3c'")
        return value.lower()


class EndCard(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tagline: str = ""
    call_to_action: str = "Shop now"
    duration_s: float = Field(default=1.5, ge=0.5, le=5.0)


class BrandKit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    colours: BrandColours
    logo: str | None = None  # path relative to the kit folder
    font: str | None = None
    tone: list[str] = Field(default_factory=list)
    banned_words: list[str] = Field(default_factory=list)
    default_lighting: str | None = None
    default_lens: str | None = None
    camera_style: str | None = None
    end_card: EndCard = Field(default_factory=EndCard)
    music: str | None = None
    voice: str = "en-us"
    presenter_photo: str | None = None
    # a clip whose body motion Kling's Motion Control moves onto in-use shots: an http(s) URL the vendor fetches, or
    # a file in the kit (checked against the vendor's limits at load; Kling itself can only fetch a URL)
    motion_reference: str | None = None
    negative_prompt: str = ""
    campaign: str | None = None
    safe_zone_overrides: dict[str, dict[str, int]] = Field(default_factory=dict)
    locale: str = "en"
    kit_dir: str = ""

    def asset(self, relative: str | None) -> str | None:
        if not relative:
            return None
        from pathlib import Path

        path = Path(relative)
        return str(path if path.is_absolute() else Path(self.kit_dir) / path)

    def look_hash_fields(self) -> dict[str, object]:
        """What changes the generated look (not the overlays)."""
        return {
            "background": self.colours.background,
            "lighting": self.default_lighting,
            "lens": self.default_lens,
            "camera": self.camera_style,
            "negative": self.negative_prompt,
        }
