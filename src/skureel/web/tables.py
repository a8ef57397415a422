"""Tables that studio modules add to the batch store's metadata, created on first use.

`Store()` creates every table registered when it starts; a table of a module imported later (or a Store made in a
process that never imported that module) is created here, once per engine.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Engine

from skureel.web.store import metadata

_ready: set[tuple[int, str]] = set()


def engine_for(store: Any, table: Table) -> Engine:
    engine: Engine = store.engine
    if (id(engine), table.name) not in _ready:
        metadata.create_all(engine, tables=[table])
        _ready.add((id(engine), table.name))
    return engine
