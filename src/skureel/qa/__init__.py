"""The QA gate: a generated clip held against the SKU's own photo (identity, colour, label text, lighting drift,
flicker, black and frozen frames, and a face for avatar clips). Thresholds are data: templates/qa.yaml."""

from skureel.qa.frames import UnusableClip
from skureel.qa.reference import Reference, from_cutout, from_image
from skureel.qa.report import Measure, QaReport
from skureel.qa.score import score_clip
from skureel.qa.thresholds import Thresholds, load_thresholds

__all__ = ["Measure", "QaReport", "Reference", "Thresholds", "UnusableClip", "from_cutout", "from_image",
           "load_thresholds", "score_clip"]
