"""The batch store: workspaces, users, sessions, tokens, batches, their progress events and review cells.

SQLAlchemy Core over a SQLite file under the data folder by default (WAL, so the run worker writes while the app
reads); any SQLAlchemy URL (Postgres) works. Every screen and the JSON API read batches from here, so a reload, a
second tab or a colleague all see the same state.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine

metadata = MetaData()

workspaces = Table(
    "workspaces", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(120), nullable=False, unique=True),
    Column("created_at", String(40), nullable=False),
)
users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
)
memberships = Table(
    "memberships", metadata,
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
    Column("workspace_id", Integer, ForeignKey("workspaces.id"), primary_key=True),
    Column("role", String(20), nullable=False),
)
tokens = Table(
    "tokens", metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 of the token: the token itself is shown once
    Column("workspace_id", Integer, ForeignKey("workspaces.id"), nullable=False),
    Column("created_at", String(40), nullable=False),
)
sessions = Table(
    "sessions", metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id")),  # None: an anonymous session that only carries CSRF
    Column("csrf", String(64), nullable=False),
    Column("expires_at", String(40), nullable=False),
)
batches = Table(
    "batches", metadata,
    Column("id", String(32), primary_key=True),
    Column("workspace_id", Integer, ForeignKey("workspaces.id"), nullable=False, index=True),
    Column("created_by", String(320), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
    Column("state", String(20), nullable=False),
    Column("sheet_name", Text, nullable=False),  # the original file name: display text only, never a path
    Column("upload_dir", Text, nullable=False),  # generated folder holding catalog.<ext> and images/
    Column("sheet_file", Text, nullable=False),
    Column("report", Text, nullable=False, default="{}"),  # JSON: format, mapping, problems, counts
    Column("options", Text, nullable=False, default="{}"),  # JSON: brand_kit, providers, formats, max_spend, only
    Column("estimate", Text, nullable=False, default="{}"),
    Column("run_key", String(64)),
    Column("run", Text, nullable=False, default="{}"),  # JSON: phase, pid, attempts, summary
    Column("error", Text),
    Column("version", Integer, nullable=False, default=0),  # bumped on every change: the SSE stream's cursor
)
events = Table(
    "events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("batch_id", String(32), ForeignKey("batches.id"), nullable=False, index=True),
    Column("at", String(40), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("data", Text, nullable=False),
)
cells = Table(
    "cells", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("batch_id", String(32), ForeignKey("batches.id"), nullable=False, index=True),
    Column("sku", String(200), nullable=False),
    Column("shot", String(100), nullable=False),
    Column("format", String(10), nullable=False),
    Column("status", String(20), nullable=False),  # queued | rendering | ready | failed | approved | rejected | published
    Column("reason", Text),
    Column("decided_by", String(320)),
    Column("clip_path", Text),
    Column("poster_path", Text),
    Column("row", Text),  # manifest row JSON
    Column("published_uri", Text),
    UniqueConstraint("batch_id", "sku", "shot", "format"),
)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        args = {"timeout": 30, "check_same_thread": False} if url.startswith("sqlite") else {}
        self.engine: Engine = create_engine(url, connect_args=args)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        metadata.create_all(self.engine)

    # ---- workspaces, users, tokens
    def workspace(self, name: str, create: bool = False) -> dict[str, Any] | None:
        with self.engine.begin() as c:
            row = c.execute(select(workspaces).where(workspaces.c.name == name)).mappings().first()
            if row is None and create:
                c.execute(insert(workspaces).values(name=name, created_at=now()))
                row = c.execute(select(workspaces).where(workspaces.c.name == name)).mappings().first()
            return dict(row) if row else None

    def workspace_by_id(self, workspace_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as c:
            row = c.execute(select(workspaces).where(workspaces.c.id == workspace_id)).mappings().first()
            return dict(row) if row else None

    def upsert_user(self, email: str, password_hash: str, workspace_id: int, role: str) -> int:
        email = email.strip().casefold()
        with self.engine.begin() as c:
            user = c.execute(select(users.c.id).where(users.c.email == email)).scalar()
            if user is None:
                user = c.execute(insert(users).values(email=email, password_hash=password_hash, created_at=now())
                                 ).inserted_primary_key[0]  # type: ignore[index]
            else:
                c.execute(update(users).where(users.c.id == user).values(password_hash=password_hash))
            c.execute(delete(memberships).where(memberships.c.user_id == user,
                                                memberships.c.workspace_id == workspace_id))
            c.execute(insert(memberships).values(user_id=user, workspace_id=workspace_id, role=role))
            return int(user)

    def user_by_email(self, email: str) -> dict[str, Any] | None:
        with self.engine.connect() as c:
            row = c.execute(select(users).where(users.c.email == email.strip().casefold())).mappings().first()
            return dict(row) if row else None

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        with self.engine.begin() as c:
            c.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))

    def memberships_of(self, user_id: int) -> list[dict[str, Any]]:
        query = (select(workspaces.c.id, workspaces.c.name, memberships.c.role)
                 .join(memberships, memberships.c.workspace_id == workspaces.c.id)
                 .where(memberships.c.user_id == user_id).order_by(workspaces.c.name))
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(query).mappings()]

    def new_token(self, workspace_id: int) -> str:
        token = "skr_" + secrets.token_urlsafe(32)
        with self.engine.begin() as c:
            c.execute(insert(tokens).values(token_hash=digest(token), workspace_id=workspace_id, created_at=now()))
        return token

    def token_workspace(self, token: str) -> int | None:
        with self.engine.connect() as c:
            value = c.execute(select(tokens.c.workspace_id).where(tokens.c.token_hash == digest(token))).scalar()
            return int(value) if value is not None else None

    # ---- sessions (the cookie holds a random id; the table holds its hash)
    def new_session(self, user_id: int | None, hours: float) -> tuple[str, str]:
        sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        expires = (datetime.now(UTC) + timedelta(hours=hours)).isoformat(timespec="seconds")
        with self.engine.begin() as c:
            c.execute(insert(sessions).values(id_hash=digest(sid), user_id=user_id, csrf=csrf, expires_at=expires))
        return sid, csrf

    def session(self, sid: str) -> dict[str, Any] | None:
        with self.engine.connect() as c:
            row = c.execute(select(sessions).where(sessions.c.id_hash == digest(sid))).mappings().first()
        if row is None or row["expires_at"] < now():
            return None
        return dict(row)

    def end_session(self, sid: str) -> None:
        with self.engine.begin() as c:
            c.execute(delete(sessions).where(sessions.c.id_hash == digest(sid)))

    # ---- batches
    def create_batch(self, **values: Any) -> str:
        batch_id = secrets.token_hex(8)
        stamp = now()
        for name in ("report", "options", "estimate", "run"):
            values[name] = json.dumps(values.get(name) or {})
        with self.engine.begin() as c:
            c.execute(insert(batches).values(id=batch_id, created_at=stamp, updated_at=stamp, version=1, **values))
        return batch_id

    def batch(self, batch_id: str, workspace_id: int | None = None) -> dict[str, Any] | None:
        """A batch, or None when it does not exist or belongs to another workspace (the caller answers 404)."""
        query = select(batches).where(batches.c.id == batch_id)
        if workspace_id is not None:
            query = query.where(batches.c.workspace_id == workspace_id)
        with self.engine.connect() as c:
            row = c.execute(query).mappings().first()
        return _decode(dict(row)) if row else None

    def batches_of(self, workspace_id: int, limit: int = 100) -> list[dict[str, Any]]:
        query = (select(batches).where(batches.c.workspace_id == workspace_id)
                 .order_by(batches.c.created_at.desc()).limit(limit))
        with self.engine.connect() as c:
            return [_decode(dict(r)) for r in c.execute(query).mappings()]

    def batches_in(self, states: tuple[str, ...]) -> list[dict[str, Any]]:
        with self.engine.connect() as c:
            rows = c.execute(select(batches).where(batches.c.state.in_(states)).order_by(batches.c.updated_at))
            return [_decode(dict(r)) for r in rows.mappings()]

    def update_batch(self, batch_id: str, **values: Any) -> None:
        for name in ("report", "options", "estimate", "run"):
            if name in values:
                values[name] = json.dumps(values[name])
        with self.engine.begin() as c:
            c.execute(update(batches).where(batches.c.id == batch_id)
                      .values(updated_at=now(), version=batches.c.version + 1, **values))

    def claim_state(self, batch_id: str, allowed: tuple[str, ...], state: str, **values: Any) -> bool:
        """Move a batch to `state` only from one of `allowed`, atomically: a double submit starts one run."""
        for name in ("report", "options", "estimate", "run"):
            if name in values:
                values[name] = json.dumps(values[name])
        with self.engine.begin() as c:
            result = c.execute(update(batches).where(batches.c.id == batch_id, batches.c.state.in_(allowed))
                               .values(state=state, updated_at=now(), version=batches.c.version + 1, **values))
            return bool(result.rowcount)

    def version(self, batch_id: str) -> int:
        with self.engine.connect() as c:
            return int(c.execute(select(batches.c.version).where(batches.c.id == batch_id)).scalar() or 0)

    # ---- progress events and cells
    def add_event(self, batch_id: str, kind: str, data: dict[str, Any]) -> None:
        with self.engine.begin() as c:
            c.execute(insert(events).values(batch_id=batch_id, at=now(), kind=kind, data=json.dumps(data, default=str)))
            c.execute(update(batches).where(batches.c.id == batch_id)
                      .values(updated_at=now(), version=batches.c.version + 1))

    def events_of(self, batch_id: str, limit: int = 50) -> list[dict[str, Any]]:
        query = select(events).where(events.c.batch_id == batch_id).order_by(events.c.id.desc()).limit(limit)
        with self.engine.connect() as c:
            return [{**dict(r), "data": json.loads(r["data"])} for r in c.execute(query).mappings()][::-1]

    def set_cells(self, batch_id: str, rows: list[dict[str, Any]]) -> None:
        """Insert or refresh cells by (sku, shot, format); a review decision already taken is kept."""
        with self.engine.begin() as c:
            for row in rows:
                key = (cells.c.batch_id == batch_id, cells.c.sku == row["sku"], cells.c.shot == row["shot"],
                       cells.c.format == row["format"])
                old = c.execute(select(cells.c.status).where(*key)).scalar()
                if old is None:
                    c.execute(insert(cells).values(batch_id=batch_id, **row))
                elif old not in ("approved", "published") or row.get("status") in ("ready", "failed", "held"):
                    c.execute(update(cells).where(*key).values(**row))
            c.execute(update(batches).where(batches.c.id == batch_id)
                      .values(updated_at=now(), version=batches.c.version + 1))

    def cells_of(self, batch_id: str) -> list[dict[str, Any]]:
        query = select(cells).where(cells.c.batch_id == batch_id).order_by(cells.c.sku, cells.c.shot, cells.c.format)
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(query).mappings()]

    def cell(self, batch_id: str, cell_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as c:
            row = c.execute(select(cells).where(cells.c.batch_id == batch_id, cells.c.id == cell_id)).mappings().first()
            return dict(row) if row else None

    def decide(self, batch_id: str, cell_id: int, status: str, reason: str | None, who: str) -> bool:
        """Approve or reject one cell that has a clip; False when there is no such reviewable cell."""
        with self.engine.begin() as c:
            # held: the QA gate kept the clip back for a person (web/scopes.py); only a cell with a clip is decided
            result = c.execute(update(cells).where(cells.c.batch_id == batch_id, cells.c.id == cell_id,
                                                   cells.c.status.in_(("ready", "approved", "rejected", "held")),
                                                   cells.c.clip_path.is_not(None))
                               .values(status=status, reason=reason, decided_by=who))
            c.execute(update(batches).where(batches.c.id == batch_id)
                      .values(updated_at=now(), version=batches.c.version + 1))
            return bool(result.rowcount)

    def mark_published(self, cell_id: int, uri: str) -> None:
        with self.engine.begin() as c:
            c.execute(update(cells).where(cells.c.id == cell_id).values(status="published", published_uri=uri))

    def count_batches(self) -> int:
        with self.engine.connect() as c:
            return int(c.execute(select(func.count()).select_from(batches)).scalar() or 0)


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    for name in ("report", "options", "estimate", "run"):
        row[name] = json.loads(row[name] or "{}")
    return row


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


__all__ = ["Store", "digest", "now"]
