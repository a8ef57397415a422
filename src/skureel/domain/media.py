"""Media values: social format presets, base clips and deliverables."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SafeZone(BaseModel):
    """Pixels to keep free of text at the edges of the frame."""

    model_config = ConfigDict(frozen=True)

    top: int
    bottom: int
    left: int
    right: int


class FormatPreset(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str  # "9x16"
    aspect: str  # "9:16"
    width: int
    height: int
    platforms: list[str]
    min_duration_s: float = 6.0
    max_duration_s: float = 60.0
    safe_zone: SafeZone


class Clip(BaseModel):
    """A generated base clip (from any provider), cached by content key."""

    content_key: str
    path: str
    sha256: str
    width: int
    height: int
    duration_s: float
    provider: str
    model: str
    seed: int
    cost_usd: float = 0.0
    has_audio: bool = False
    product_box: tuple[float, float, float, float] | None = None  # x0,y0,x1,y1 as fractions, union over frames
    cutout: str = "none"  # how the product was separated: alpha, studio-background, full-frame


class Deliverable(BaseModel):
    sku: str
    title: str
    shot: str
    kind: str
    format: str
    platforms: list[str]
    width: int
    height: int
    duration_s: float
    fps: float
    provider: str
    model: str
    seed: int
    prompt: str
    content_key: str
    input_fingerprint: str
    overlay_hash: str
    cost_usd: float
    uri: str
    poster_uri: str = ""
    sidecar_uri: str = ""
    sha256: str
    bytes: int
    created_at: str
    tags: dict[str, str] = Field(default_factory=dict)
    ai_generated: bool = True
    status: str = "delivered"  # delivered | retired
    lufs_i: float | None = None
    true_peak_db: float | None = None
    label: str = ""
