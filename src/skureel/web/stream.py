"""Live progress over Server-Sent Events: one stream per batch page, fed by one store read per second per batch.

Every tab watching a batch shares the same snapshot, so ten viewers cost one read a second, not ten. On each
(re)connect the stream sends the current state in full, never a delta, so a missed event cannot leave a page
wrong; it ends with a `done` event once the batch stops running.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent

from skureel.web.auth import current_user
from skureel.web.store import Store

router = APIRouter(include_in_schema=False)
ACTIVE = ("running",)


@dataclass
class Snapshot:
    at: float
    batch: dict[str, Any]
    cells: list[dict[str, Any]]
    events: list[dict[str, Any]]


@dataclass
class Feed:
    store: Store
    period_s: float = 1.0
    reads: int = 0  # store reads, for bench/studio.py
    reads_by: dict[str, int] = field(default_factory=dict)  # ... and per batch
    _snapshots: dict[str, Snapshot] = field(default_factory=dict)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    async def snapshot(self, batch_id: str) -> Snapshot | None:
        lock = self._locks.setdefault(batch_id, asyncio.Lock())
        async with lock:
            cached = self._snapshots.get(batch_id)
            if cached and time.monotonic() - cached.at < self.period_s:
                return cached
            batch, cells, events = await asyncio.to_thread(self._read, batch_id)
            if batch is None:
                return None
            snap = Snapshot(time.monotonic(), batch, cells, events)
            self._snapshots[batch_id] = snap
            return snap

    def _read(self, batch_id: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]], list[dict[str, Any]]]:
        self.reads += 1
        self.reads_by[batch_id] = self.reads_by.get(batch_id, 0) + 1
        batch = self.store.batch(batch_id)
        if batch is None:
            return None, [], []
        return batch, self.store.cells_of(batch_id), self.store.events_of(batch_id, 8)


def watched(request: Request, batch_id: str) -> str:
    """Checked before the stream starts: once events flow, an error can no longer become a status code."""
    store: Store = request.app.state.store
    user = current_user(store, request)
    batch = store.batch(batch_id)
    if batch is None or user.role_in(batch["workspace_id"]) is None:
        raise HTTPException(404, "no such batch")
    return batch_id


@router.get("/batches/{batch_id}/events", response_class=EventSourceResponse)
async def events(request: Request, batch_id: Annotated[str, Depends(watched)]) -> AsyncIterator[ServerSentEvent]:
    feed: Feed = request.app.state.feed
    templates = request.app.state.templates
    last = -1
    while not await request.is_disconnected():
        snap = await feed.snapshot(batch_id)
        if snap is None:
            return
        if snap.batch["version"] != last:
            last = snap.batch["version"]
            html = templates.get_template("_progress.html").render(batch=snap.batch, cells=snap.cells,
                                                                   events=snap.events)
            yield ServerSentEvent(raw_data=html.replace("\n", " "), event="progress", id=str(last))
        if snap.batch["state"] not in ACTIVE:
            yield ServerSentEvent(raw_data=snap.batch["state"], event="done")
            return
        await asyncio.sleep(feed.period_s)
