"""Where editable data (templates, vocabularies) lives."""

from __future__ import annotations

import os
from pathlib import Path


def templates_dir() -> Path:
    override = os.environ.get("SKUREEL_TEMPLATES_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "templates"
