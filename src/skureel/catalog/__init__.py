"""Catalog ingest: detect the feed format, read it, group variants, normalise into Products (catalog/ingestion.py).

Its names load on first use: a render worker imports skureel.catalog.brandkit and needs none of the feed readers,
which cost it about 60 ms of a clip's CPU (bench/render.py counts the whole process)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from skureel.catalog.ingestion import FORMATS, detect_format, ingest, load_table

__all__ = ["FORMATS", "detect_format", "ingest", "load_table"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from skureel.catalog import ingestion

        return getattr(ingestion, name)
    raise AttributeError(f"module 'skureel.catalog' has no attribute {name!r}")
