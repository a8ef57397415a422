"""The ledger: jobs by content key and deliverables by (sku, shot, format), SQLite by default.

Intent is written before every side effect (before submitting a paid job, before publishing a file), so a
run killed at any point resumes: submitted jobs are polled, not resubmitted; finished clips are reused.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine

from skureel.db import engine_for

metadata = MetaData()

jobs = Table(
    "jobs", metadata,
    Column("content_key", String(64), primary_key=True),
    Column("sku", Text, nullable=False),
    Column("shot_id", String(100), nullable=False),
    Column("provider", String(40), nullable=False),
    Column("model", String(200), nullable=False),
    Column("seed", Integer, nullable=False),
    Column("blueprint_hash", String(64), nullable=False),
    Column("input_fingerprint", String(64), nullable=False),
    Column("state", String(20), nullable=False),  # intent | submitted | done | failed | rejected
    Column("provider_job_id", String(200)),
    Column("cost_usd", Float, default=0.0),
    Column("clip_path", Text),
    Column("clip_sha256", String(64)),
    Column("info", Text),  # JSON: product box, cut-out decision, audio flag
    Column("error", Text),
    Column("attempts", Integer, default=0),
    Column("updated_at", String(40)),
)

deliverables = Table(
    "deliverables", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sku", Text, nullable=False),
    Column("shot_id", String(100), nullable=False),
    Column("format", String(10), nullable=False),
    Column("content_key", String(64), nullable=False),
    Column("overlay_hash", String(64), nullable=False),
    Column("state", String(20), nullable=False),  # intent | published | retired
    Column("uri", Text),
    Column("sha256", String(64)),
    Column("bytes", Integer),
    Column("version", Integer, default=1),
    Column("row", Text),  # the manifest row as JSON
    Column("updated_at", String(40)),
    UniqueConstraint("sku", "shot_id", "format"),
)

products = Table(
    "products", metadata,
    Column("sku", Text, primary_key=True),
    Column("product_hash", String(64), nullable=False),
    Column("state", String(20), nullable=False),  # delivered | failed | retired
    Column("updated_at", String(40)),
)


claims = Table(
    "claims", metadata,
    # who may pay for (or publish) a content key right now; a lease, so a dead holder's claim can be taken over
    Column("content_key", String(200), primary_key=True),
    Column("owner", String(200), nullable=False),
    Column("expires_at", Float, nullable=False),  # epoch seconds
    Column("claimed_at", String(40)),
)

budgets = Table(
    "budgets", metadata,
    # one fanned-out batch's --max-spend, debited by every chunk before each paid submit: shared live, not split
    Column("budget_id", String(200), primary_key=True),
    Column("cap_usd", Float, nullable=False),
    Column("spent_usd", Float, nullable=False),
    Column("updated_at", String(40)),
)


reviews = Table(
    "reviews", metadata,
    # a cell (sku, shot) the QA gate held: its clips failed twice, so nothing is published and nothing more is paid
    # until a person looks or asks for a retry (pipeline/gate.py); `content_key` is the first attempt's clip
    Column("sku", Text, nullable=False),
    Column("shot_id", String(100), nullable=False),
    Column("content_key", String(64), nullable=False),
    Column("state", String(20), nullable=False),  # needs_review | released (a later clip passed)
    Column("rounds", Integer, default=0),  # explicit retries (`--qa retry`) bought so far
    Column("row", Text),  # JSON: reasons, scores, flags, attempts' keys and costs
    Column("updated_at", String(40)),
    UniqueConstraint("sku", "shot_id"),
)


def owner_id() -> str:
    """A claim owner: host:pid:random, unique per holder; host and pid let a holder here be seen dead."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def holder_is_dead(owner: str) -> bool:
    """True only for a holder that was a process of this machine and is gone (elsewhere: wait for its lease)."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Ledger:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = engine_for(url)
        metadata.create_all(self.engine)
        self._lock = threading.Lock()

    @classmethod
    def for_output(cls, out: str, cache_dir: Path, url: str | None = None) -> Ledger:
        if url:
            return cls(url)
        if "://" not in out or out.startswith("file://"):
            folder = Path(out.removeprefix("file://")) / ".skureel"
        else:
            import hashlib

            folder = cache_dir / "ledgers" / hashlib.sha256(out.encode()).hexdigest()[:16]
        folder.mkdir(parents=True, exist_ok=True)
        return cls(f"sqlite:///{folder / 'ledger.sqlite'}")

    # jobs -------------------------------------------------------------------------------------------
    def job(self, key: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(jobs).where(jobs.c.content_key == key)).mappings().first()
            return dict(row) if row else None

    def record_intent(self, key: str, **fields: Any) -> dict[str, Any]:
        """Insert the job as 'intent' unless it exists; returns the current row. Call before paying."""
        with self._lock, self.engine.begin() as conn:
            row = conn.execute(select(jobs).where(jobs.c.content_key == key)).mappings().first()
            if row is None:
                conn.execute(insert(jobs).values(content_key=key, state="intent", attempts=0, updated_at=now(), **fields))
                row = conn.execute(select(jobs).where(jobs.c.content_key == key)).mappings().first()
            return dict(row) if row else {}

    def update_job(self, key: str, **fields: Any) -> None:
        if "info" in fields and not isinstance(fields["info"], str):
            fields["info"] = json.dumps(fields["info"])
        with self._lock, self.engine.begin() as conn:
            conn.execute(update(jobs).where(jobs.c.content_key == key).values(updated_at=now(), **fields))

    # claims ---------------------------------------------------------------------------------------------
    def claim(self, key: str, owner: str, lease_s: float = 300.0) -> bool:
        """Atomically take `key` for `owner` unless another owner holds a live lease. One statement on
        PostgreSQL and SQLite alike (insert, or take over an expired or own claim), so two workers, or one
        flow run that Prefect executes twice, can never both win. A holder that was a process of this machine
        and no longer exists (killed mid-job) is taken over at once instead of after its lease."""
        if self._claim_once(key, owner, lease_s):
            return True
        holder = self.claim_holder(key)
        return bool(holder and holder_is_dead(str(holder["owner"]))
                    and self.take_over(key, str(holder["owner"]), owner, lease_s))

    def _claim_once(self, key: str, owner: str, lease_s: float) -> bool:
        moment = time.time()
        dialect = self.engine.dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as upsert
        elif dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
        else:  # pragma: no cover - other databases: row lock then update
            return self._claim_locking(key, owner, lease_s)
        values = upsert(claims).values(content_key=key, owner=owner, expires_at=moment + lease_s, claimed_at=now())
        statement = values.on_conflict_do_update(
            index_elements=[claims.c.content_key],
            set_={"owner": owner, "expires_at": moment + lease_s, "claimed_at": now()},
            where=(claims.c.expires_at < moment) | (claims.c.owner == owner),
        ).returning(claims.c.owner)
        with self._lock, self.engine.begin() as conn:
            won = conn.execute(statement).first()
        return won is not None and won[0] == owner

    def _claim_locking(self, key: str, owner: str, lease_s: float) -> bool:
        moment = time.time()
        with self._lock, self.engine.begin() as conn:
            row = conn.execute(select(claims).where(claims.c.content_key == key).with_for_update()).mappings().first()
            if row is None:
                conn.execute(insert(claims).values(content_key=key, owner=owner, expires_at=moment + lease_s,
                                                   claimed_at=now()))
                return True
            if row["owner"] != owner and row["expires_at"] >= moment:
                return False
            conn.execute(update(claims).where(claims.c.content_key == key)
                         .values(owner=owner, expires_at=moment + lease_s, claimed_at=now()))
            return True

    def take_over(self, key: str, dead_owner: str, owner: str, lease_s: float = 300.0) -> bool:
        """Take a claim whose holder is known to be dead (a process of this machine that no longer exists)."""
        with self._lock, self.engine.begin() as conn:
            result = conn.execute(update(claims).where((claims.c.content_key == key) & (claims.c.owner == dead_owner))
                                  .values(owner=owner, expires_at=time.time() + lease_s, claimed_at=now()))
            return bool(result.rowcount)

    def renew(self, key: str, owner: str, lease_s: float = 300.0) -> bool:
        """Extend our own live claim; False when it was lost (expired and taken over)."""
        with self._lock, self.engine.begin() as conn:
            result = conn.execute(update(claims).where((claims.c.content_key == key) & (claims.c.owner == owner))
                                  .values(expires_at=time.time() + lease_s))
            return bool(result.rowcount)

    def release(self, key: str, owner: str) -> None:
        with self._lock, self.engine.begin() as conn:
            conn.execute(delete(claims).where((claims.c.content_key == key) & (claims.c.owner == owner)))

    def claim_holder(self, key: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(claims).where(claims.c.content_key == key)).mappings().first()
            return dict(row) if row else None

    # budgets shared by the chunks of a batch ------------------------------------------------------------
    def debit(self, budget_id: str, usd: float, cap_usd: float) -> bool:
        """Add `usd` to a shared budget unless that crosses its cap (negative `usd` gives money back). One
        conditional UPDATE decides: PostgreSQL re-checks its WHERE on the row a concurrent chunk just committed
        and SQLite serialises writers, so chunks on any number of machines together never pass the cap."""
        from sqlalchemy import literal

        if self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as upsert
        else:
            from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
        fits = literal(usd <= 0) | (budgets.c.spent_usd + usd <= budgets.c.cap_usd + 1e-9)
        with self._lock, self.engine.begin() as conn:
            conn.execute(upsert(budgets).values(budget_id=budget_id, cap_usd=cap_usd, spent_usd=0.0, updated_at=now())
                         .on_conflict_do_nothing(index_elements=[budgets.c.budget_id]))
            result = conn.execute(update(budgets).where((budgets.c.budget_id == budget_id) & fits)
                                  .values(spent_usd=budgets.c.spent_usd + usd, updated_at=now()))
            return bool(result.rowcount)

    def budget(self, budget_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(budgets).where(budgets.c.budget_id == budget_id)).mappings().first()
            return dict(row) if row else None

    # deliverables -----------------------------------------------------------------------------------
    def deliverable(self, sku: str, shot_id: str, fmt: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(deliverables).where(
                (deliverables.c.sku == sku) & (deliverables.c.shot_id == shot_id) & (deliverables.c.format == fmt)
            )).mappings().first()
            return dict(row) if row else None

    def deliverables_for(self, sku: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(deliverables).where(deliverables.c.sku == sku)).mappings()]

    def all_deliverables(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(deliverables).order_by(deliverables.c.sku, deliverables.c.shot_id,
                                                                                 deliverables.c.format)).mappings()]

    def intend_publish(self, sku: str, shot_id: str, fmt: str, content_key: str, overlay: str) -> int:
        """Record the intent to publish; returns the version the new file will carry."""
        with self._lock, self.engine.begin() as conn:
            where = (deliverables.c.sku == sku) & (deliverables.c.shot_id == shot_id) & (deliverables.c.format == fmt)
            row = conn.execute(select(deliverables).where(where)).mappings().first()
            if row is None:
                conn.execute(insert(deliverables).values(sku=sku, shot_id=shot_id, format=fmt, content_key=content_key,
                                                         overlay_hash=overlay, state="intent", version=1, updated_at=now()))
                return 1
            version = int(row["version"] or 1) + (1 if row["state"] == "published" else 0)
            conn.execute(update(deliverables).where(where).values(content_key=content_key, overlay_hash=overlay,
                                                                  state="intent", version=version, updated_at=now()))
            return version

    def mark_published(self, sku: str, shot_id: str, fmt: str, uri: str, sha256: str, size: int, row: dict[str, Any]) -> None:
        with self._lock, self.engine.begin() as conn:
            conn.execute(update(deliverables).where(
                (deliverables.c.sku == sku) & (deliverables.c.shot_id == shot_id) & (deliverables.c.format == fmt)
            ).values(state="published", uri=uri, sha256=sha256, bytes=size, row=json.dumps(row, default=str), updated_at=now()))

    def forget_deliverable(self, sku: str, shot_id: str, fmt: str) -> None:
        """Back to intent: the next run makes and publishes it again (its old file could not be trusted)."""
        with self._lock, self.engine.begin() as conn:
            conn.execute(update(deliverables).where(
                (deliverables.c.sku == sku) & (deliverables.c.shot_id == shot_id) & (deliverables.c.format == fmt)
            ).values(state="intent", updated_at=now()))
            conn.execute(update(products).where(products.c.sku == sku).values(state="failed", updated_at=now()))

    def retire(self, sku: str) -> int:
        with self._lock, self.engine.begin() as conn:
            result = conn.execute(update(deliverables).where((deliverables.c.sku == sku) & (deliverables.c.state == "published"))
                                  .values(state="retired", updated_at=now()))
            conn.execute(update(products).where(products.c.sku == sku).values(state="retired", updated_at=now()))
            return int(result.rowcount or 0)

    # products ---------------------------------------------------------------------------------------
    def product_state(self, sku: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(products).where(products.c.sku == sku)).mappings().first()
            return dict(row) if row else None

    def set_product(self, sku: str, product_hash: str, state: str) -> None:
        with self._lock, self.engine.begin() as conn:
            exists = conn.execute(select(products.c.sku).where(products.c.sku == sku)).first()
            if exists:
                conn.execute(update(products).where(products.c.sku == sku).values(product_hash=product_hash, state=state,
                                                                                  updated_at=now()))
            else:
                conn.execute(insert(products).values(sku=sku, product_hash=product_hash, state=state, updated_at=now()))

    def known_skus(self) -> list[str]:
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(select(products.c.sku).where(products.c.state != "retired"))]

    # reviews (cells the QA gate held) ------------------------------------------------------------------
    def hold(self, sku: str, shot_id: str, content_key: str, rounds: int, row: dict[str, Any]) -> None:
        values = {"content_key": content_key, "state": "needs_review", "rounds": rounds,
                  "row": json.dumps(row, default=str), "updated_at": now()}
        with self._lock, self.engine.begin() as conn:
            where = (reviews.c.sku == sku) & (reviews.c.shot_id == shot_id)
            if conn.execute(select(reviews.c.sku).where(where)).first():
                conn.execute(update(reviews).where(where).values(**values))
            else:
                conn.execute(insert(reviews).values(sku=sku, shot_id=shot_id, **values))

    def held(self, sku: str, shot_id: str) -> dict[str, Any] | None:
        """The cell's hold, if it is held now (row decoded)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(reviews).where((reviews.c.sku == sku) & (reviews.c.shot_id == shot_id)
                                                     & (reviews.c.state == "needs_review"))).mappings().first()
        return {**row, "row": json.loads(row["row"] or "{}")} if row else None

    def release_hold(self, sku: str, shot_id: str) -> None:
        """A clip of the cell passed (after a retry or retuned thresholds): it is no longer waiting for review."""
        with self._lock, self.engine.begin() as conn:
            conn.execute(update(reviews).where((reviews.c.sku == sku) & (reviews.c.shot_id == shot_id))
                         .values(state="released", updated_at=now()))

    def all_reviews(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(reviews).order_by(reviews.c.sku, reviews.c.shot_id)).mappings()
            return [{**r, "row": json.loads(r["row"] or "{}")} for r in rows]
