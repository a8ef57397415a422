"""`targets.yaml` beside `brand.yaml`: which targets a brand publishes to and their non-secret options.

Secrets never live in the file: a key that looks like one is refused, credentials come from each vendor's own
environment variables (or Prefect Secret blocks of the same names in lower case).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError

from skureel.publish.targets.base import TargetConfigError
from skureel.publish.targets.provenance import ProvenanceOptions

_SECRET_WORDS = ("secret", "token", "password", "api_key", "client_secret", "access_token")


class TargetsFile(BaseModel):
    default: list[str] = Field(default_factory=list)  # targets `--publish` uses when given none
    targets: dict[str, dict[str, Any]] = Field(default_factory=dict)
    provenance: ProvenanceOptions = Field(default_factory=ProvenanceOptions)


def load_targets(brand_kit: str | Path | None) -> TargetsFile:
    if brand_kit is None:
        return TargetsFile()
    path = Path(brand_kit) / "targets.yaml"
    if not path.exists():
        return TargetsFile()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        parsed = TargetsFile.model_validate(data)
    except (yaml.YAMLError, ValidationError) as exc:
        first = str(exc).splitlines()[0]
        raise TargetConfigError(f"{path}: not a valid targets file ({first})") from exc
    for name, options in parsed.targets.items():
        for key in options:
            if any(word in key.lower() for word in _SECRET_WORDS):
                raise TargetConfigError(f"{path}: {name}.{key} looks like a secret; secrets never go in files "
                                        "(use the vendor's environment variable or a Prefect Secret block)")
    return parsed


def options_for(name: str, file: TargetsFile) -> dict[str, Any]:
    return dict(file.targets.get(name, {}))
