"""Pure pydantic models and errors shared by every stage. Imports nothing heavier than pydantic."""

from skureel.domain.brand import BrandColours, BrandKit, EndCard
from skureel.domain.errors import SkureelError, UnusableInput, plain_error
from skureel.domain.media import Clip, Deliverable, FormatPreset, SafeZone
from skureel.domain.product import (
    ImageAsset,
    IngestReport,
    Money,
    Product,
    RowIssue,
    Variant,
    VideoRequest,
)
from skureel.domain.shot import (
    AudioSpec,
    CameraSpec,
    LensSpec,
    LightingSpec,
    LintFinding,
    ShotSpec,
)

__all__ = [
    "plain_error",
    "AudioSpec",
    "BrandColours",
    "BrandKit",
    "CameraSpec",
    "Clip",
    "Deliverable",
    "EndCard",
    "FormatPreset",
    "ImageAsset",
    "IngestReport",
    "LensSpec",
    "LightingSpec",
    "LintFinding",
    "Money",
    "Product",
    "RowIssue",
    "SafeZone",
    "ShotSpec",
    "SkureelError",
    "UnusableInput",
    "Variant",
    "VideoRequest",
]
