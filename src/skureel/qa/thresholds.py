"""The gate's thresholds, read from templates/qa.yaml (data that a team may tune; each value documented there)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from skureel.domain import UnusableInput
from skureel.paths import templates_dir


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Sampling(_Section):
    every_s: float = 0.5
    max_short_side: int = 540


class Identity(_Section):
    min_present: float = 0.85
    min_inliers: int = 8
    min_inlier_ratio: float = 0.25
    max_reprojection_px: float = 6.0
    min_warped_correlation: float = 0.5
    min_silhouette_score: float = 0.78


class Colour(_Section):
    clusters: int = 3
    centre_fallback: bool = False  # where the product is not located, read the frame's centre (close-ups)
    max_median_de: float = 10.0
    max_p95_de: float = 16.0


class Text(_Section):
    min_chars: int = 4
    min_letter_height: float = 0.04
    max_frames: int = 6
    max_cer: float = 0.4


class Drift(_Section):
    max_luminance_change: float = 12.0
    max_luminance_slope: float = 4.0
    max_mired_change: float = 35.0
    max_mired_slope: float = 12.0
    max_warmth_change: float = 8.0
    max_warmth_slope: float = 4.0


class Flicker(_Section):
    max_jump_p95: float = 2.5


class Seconds(_Section):
    max_seconds: float = 0.5


class Face(_Section):
    min_present: float = 0.8


class Thresholds(_Section):
    sampling: Sampling = Sampling()
    identity: Identity = Identity()
    colour: Colour = Colour()
    text: Text = Text()
    drift: Drift = Drift()
    flicker: Flicker = Flicker()
    black: Seconds = Seconds()
    frozen: Seconds = Seconds(max_seconds=1.0)
    face: Face = Face()
    kinds: dict[str, dict[str, dict[str, Any]]] = {}  # per shot kind: section -> values that replace the above

    def for_kind(self, kind: str) -> Thresholds:
        """These thresholds with the shot kind's overrides applied (a close-up crops the product, and so on)."""
        overrides = self.kinds.get(kind.replace("_", "-")) or self.kinds.get(kind) or {}
        if not overrides:
            return self
        merged = self.model_dump()
        for section, values in overrides.items():
            merged.setdefault(section, {}).update(values)
        return Thresholds.model_validate(merged)


def load_thresholds(path: Path | None = None) -> Thresholds:
    """templates/qa.yaml (or the given file); a bad file is one clear line, not a traceback."""
    source = path or templates_dir() / "qa.yaml"
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
        return Thresholds.model_validate(data)
    except OSError as exc:
        raise UnusableInput(f"{source}: cannot read the QA thresholds ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise UnusableInput(f"{source}: not valid YAML ({str(exc).splitlines()[0]})") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UnusableInput(f"{source}: {where}: {first['msg']}") from exc
