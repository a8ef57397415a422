"""Shot blueprints: a director's brief for one clip, decided before anything is generated."""

from __future__ import annotations

import hashlib
import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ShotKind = Literal["hero", "detail", "in_use", "unboxing", "reveal", "avatar"]


class LightingSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    setup: str
    direction: str  # e.g. "upper left"
    quality: Literal["soft", "hard", "mixed"]
    colour_temperature_k: int
    description: str = ""
    # normalised key-light position for the renderer: x,y in -1..1 (left/top negative)
    key_x: float = -0.6
    key_y: float = -0.6


class CameraSpec(BaseModel):
    """A camera move in a normalised numeric form that Kling's six axes and the renderer both execute."""

    model_config = ConfigDict(frozen=True)

    move: str
    description: str = ""
    speed: Literal["slow", "medium", "fast"] = "slow"
    angle: str = "eye level"
    start_framing: str = "medium"
    end_framing: str = "medium"
    zoom_start: float = 1.0
    zoom_end: float = 1.0
    pan: float = 0.0  # fraction of frame width moved over the shot, + = right
    tilt: float = 0.0  # fraction of frame height, + = down
    roll_deg: float = 0.0
    arc_deg: float = 0.0  # orbit, approximated by parallax locally
    crane: float = 0.0
    focus_pull: float = 0.0  # 0..1 depth-of-field change on the set
    handheld: float = 0.0  # amplitude of smooth drift, fraction of frame


class LensSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    focal_length_mm: int
    aperture: str
    macro: bool = False
    description: str = ""


class AudioSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    ambience: str = ""
    foley: str = ""
    music: str = ""
    voice_over: str | None = None
    language: str | None = None


class ShotSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    sku: str
    shot_id: str
    kind: ShotKind
    subject: str
    action: str
    material: str  # vocabulary key
    material_physics: str
    environment: str
    lighting: LightingSpec
    camera: CameraSpec
    lens: LensSpec
    duration_s: float
    mood: str
    audio: AudioSpec
    negative_prompt: str
    seed: int
    aspect_ratio: str = "9:16"
    source_images: list[str] = Field(default_factory=list)
    motion_effect: Literal["light_sweep", "cloth_ripple", "shimmer", "reveal", "none"] = "none"
    provider: str = "local"
    title: str = ""
    language: str | None = None
    material_source: Literal["row", "text", "recipe", "unknown"] = "row"
    presenter_image: str | None = None

    def canonical_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    def blueprint_hash(self) -> str:
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()


class LintFinding(BaseModel):
    severity: Literal["error", "warning"]
    sku: str
    shot_id: str
    field: str
    message: str
    provider: str | None = None

    def line(self) -> str:
        return f"{self.severity}: {self.sku}/{self.shot_id} {self.field}: {self.message}"
