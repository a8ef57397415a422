"""Publish state per (target, sku, shot, format), in the ledger's database: intended -> uploaded -> ready ->
(retiring ->) retired, each written BEFORE the side effect it announces, so a killed publish resumes.

The remote a new upload replaces stays in `previous_*` until the new one is READY (Shopify cannot swap video
bytes in place: upload new, wait READY, then delete old).
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, UniqueConstraint, select
from sqlalchemy import insert as sa_insert
from sqlalchemy import update as sa_update
from sqlalchemy.engine import Engine

from skureel.db import engine_for
from skureel.publish.targets.base import ClipRef, Remote

metadata = MetaData()

publish_state = Table(
    "publish_state", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("target", String(40), nullable=False),
    Column("sku", Text, nullable=False),  # SKUs can be long (the ledger stores them as Text too)
    Column("shot_id", String(100), nullable=False),
    Column("format", String(10), nullable=False),
    Column("state", String(20), nullable=False),  # intended | uploaded | ready | retiring | retired | failed
    Column("sha256", String(64)),
    Column("content_key", String(64)),
    Column("remote_id", Text),
    Column("url", Text),
    Column("previous_remote_id", Text),
    Column("previous_url", Text),
    Column("info", Text),
    Column("error", Text),
    Column("attempts", Integer, default=0),
    Column("updated_at", String(40)),
    UniqueConstraint("target", "sku", "shot_id", "format"),
)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class PublishState:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = engine_for(url)  # the ledger's database, opened the same way
        metadata.create_all(self.engine)
        self._lock = threading.Lock()

    @staticmethod
    def _where(target: str, ref: ClipRef) -> Any:
        c = publish_state.c
        return (c.target == target) & (c.sku == ref.sku) & (c.shot_id == ref.shot) & (c.format == ref.format)

    def get(self, target: str, ref: ClipRef) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(publish_state).where(self._where(target, ref))).mappings().first()
            return dict(row) if row else None

    def all(self, target: str | None = None) -> list[dict[str, Any]]:
        query = select(publish_state).order_by(publish_state.c.target, publish_state.c.sku, publish_state.c.shot_id,
                                               publish_state.c.format)
        if target is not None:
            query = query.where(publish_state.c.target == target)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def intend(self, target: str, ref: ClipRef, sha256: str, content_key: str, previous: Remote | None) -> None:
        """Before the upload: what we are about to send, and what it will replace."""
        fields: dict[str, Any] = {"state": "intended", "sha256": sha256, "content_key": content_key, "error": None,
                                  "previous_remote_id": previous.remote_id if previous else None,
                                  "previous_url": previous.url if previous else None, "updated_at": _now()}
        with self._lock, self.engine.begin() as conn:
            row = conn.execute(select(publish_state.c.id, publish_state.c.attempts)
                               .where(self._where(target, ref))).first()
            if row is None:
                conn.execute(sa_insert(publish_state).values(target=target, sku=ref.sku, shot_id=ref.shot,
                                                             format=ref.format, attempts=1, **fields))
            else:
                conn.execute(sa_update(publish_state).where(self._where(target, ref))
                             .values(attempts=int(row[1] or 0) + 1, **fields))

    def mark(self, target: str, ref: ClipRef, state: str, remote: Remote | None = None, *,
             clear_previous: bool = False, error: str | None = None) -> None:
        fields: dict[str, Any] = {"state": state, "updated_at": _now(), "error": error}
        if remote is not None:
            fields |= {"remote_id": remote.remote_id, "url": remote.url, "info": json.dumps(remote.info)}
        if clear_previous:
            fields |= {"previous_remote_id": None, "previous_url": None}
        with self._lock, self.engine.begin() as conn:
            conn.execute(sa_update(publish_state).where(self._where(target, ref)).values(**fields))

    def fail(self, target: str, ref: ClipRef, error: str) -> None:
        """Keep the row's state (so the next run resumes from it) and remember why it stopped."""
        with self._lock, self.engine.begin() as conn:
            conn.execute(sa_update(publish_state).where(self._where(target, ref)).values(error=error, updated_at=_now()))


def remote_of(row: dict[str, Any] | None, previous: bool = False) -> Remote | None:
    if not row:
        return None
    rid = row["previous_remote_id"] if previous else row["remote_id"]
    if not rid:
        return None
    info = json.loads(row["info"]) if row.get("info") and not previous else {}
    return Remote(remote_id=rid, url=(row["previous_url"] if previous else row["url"]) or "", info=info)
