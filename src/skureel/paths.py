"""Where editable data (templates, vocabularies) lives."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=4)
def _templates_dir(override: str | None) -> Path:
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "templates"


def templates_dir() -> Path:
    return _templates_dir(os.environ.get("SKUREEL_TEMPLATES_DIR"))
