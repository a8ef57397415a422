"""Where editable data (templates, vocabularies) and the flow entrypoints live."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any


@lru_cache(maxsize=4)
def _templates_dir(override: str | None) -> Path:
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "templates"


def templates_dir() -> Path:
    return _templates_dir(os.environ.get("SKUREEL_TEMPLATES_DIR"))


def load_flow(name: str = "catalog_refresh") -> Any:
    """A flow from flows/<name>.py, loaded by path: deployments point at those files, so the CLI and the studio
    run exactly what a worker runs."""
    import importlib.util

    from skureel.domain import UnusableInput

    path = templates_dir().parent / "flows" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"skureel_flows_{name}", path)
    if spec is None or spec.loader is None or not path.is_file():
        raise UnusableInput(f"{path}: flow entrypoint missing (is the checkout complete?)")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)
