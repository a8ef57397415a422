"""(Re)publish a run's deliverables to targets: idempotent, resumable, following the catalog's lifecycle.

Per (target, sku, shot, format) the state row says what happened last (state.py). A row that is READY with our
sha256 is skipped without a request. Anything else: record intent, ask the target what already carries our key
(a killed publish may have uploaded it), upload only if the remote does not hold our bytes, record UPLOADED, wait
for READY (the target then drops the media it replaced), record READY. Clips that left the manifest, or that it
marks retired, are retired remotely (intent recorded first).
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, Field

from skureel.ledger import owner_id
from skureel.publish.targets.base import (
    BatchAware,
    ClipRef,
    Deliverable,
    PublishTarget,
    Remote,
    TargetConfigError,
    TargetError,
    with_retries,
)
from skureel.publish.targets.state import PublishState, remote_of

Prepare = Callable[[Deliverable], Deliverable]


class Claims(Protocol):
    """Leases that keep two publishers (two shells, a flow run Prefect executes twice) off the same clip."""

    def claim(self, key: str, owner: str, lease_s: float = 300.0) -> bool: ...

    def release(self, key: str, owner: str) -> None: ...



class ItemResult(BaseModel):
    target: str
    sku: str
    shot: str
    format: str
    action: str  # uploaded | unchanged | adopted | retired | failed
    remote_id: str = ""
    url: str = ""
    error: str = ""


class PublishReport(BaseModel):
    results: list[ItemResult]
    feeds: list[str] = Field(default_factory=list)  # supplemental feed files written beside the manifest

    def count(self, action: str, target: str | None = None) -> int:
        return sum(1 for r in self.results if r.action == action and (target is None or r.target == target))

    @property
    def failures(self) -> list[ItemResult]:
        return [r for r in self.results if r.action == "failed"]


def deliverables_from_manifest(data: dict[str, Any], root: Path) -> tuple[list[Deliverable], list[ClipRef]]:
    """Delivered rows become deliverables; rows the run marked retired become retire requests."""
    try:
        rows: list[dict[str, Any]] = list(data["deliverables"])
    except (KeyError, TypeError) as exc:
        raise TargetConfigError("not a skureel manifest.json (no deliverables)") from exc
    items: list[Deliverable] = []
    retired: list[ClipRef] = []
    for row in rows:
        ref = ClipRef(sku=str(row["sku"]), shot=str(row["shot"]), format=str(row["format"]))
        if row.get("status") == "retired":
            retired.append(ref)
            continue
        path = _local_copy(str(row["uri"]), root)
        if path.stat().st_size != int(row["bytes"]):
            raise TargetConfigError(f"{path}: {path.stat().st_size} bytes on disk but the manifest says {row['bytes']}; "
                                    "the folder holds another run's clip")
        tags = {str(k): str(v) for k, v in (row.get("tags") or {}).items() if v not in (None, "")}
        items.append(Deliverable(sku=ref.sku, shot=ref.shot, format=ref.format, path=path, sha256=row["sha256"],
                                 bytes=int(row["bytes"]), content_key=str(row.get("content_key", "")),
                                 title=str(row.get("title", "")), description=str(row.get("description", "")),
                                 uri=str(row["uri"]), tags=tags, ai_generated=bool(row.get("ai_generated")),
                                 provider=str(row.get("provider", "")), model=str(row.get("model", "")),
                                 duration_s=float(row.get("duration_s") or 0), width=int(row.get("width") or 0),
                                 height=int(row.get("height") or 0), seed=row.get("seed"),
                                 source_image=str(row.get("source_image") or row.get("image_path") or "")))
    return items, retired


def _local_copy(uri: str, root: Path) -> Path:
    """The clip on this machine: its recorded path, the same relative path under a moved folder, or a download."""
    if "://" not in uri:
        path = Path(uri)
        beside = root.joinpath(*path.parts[-3:])  # clips/<sku>/<name>.mp4 under this manifest's own folder first
        for candidate in (beside, path):
            if candidate.exists():
                return candidate
        raise TargetConfigError(f"{uri}: the clip is missing (was the output folder moved or pruned?)")
    import fsspec

    dest = Path(tempfile.gettempdir()) / "skureel-publish" / uri.split("://", 1)[1]
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        fsspec.open(uri).fs.get_file(uri, str(dest))
    return dest


async def publish_all(items: list[Deliverable], targets: list[PublishTarget], state: PublishState, *,
                      retire: Iterable[ClipRef] = (), retire_unlisted: bool = True, concurrency: int = 4,
                      summary: dict[str, Any] | None = None, prepare: Prepare | None = None,
                      claims: Claims | None = None) -> PublishReport:
    """Publish every item to every target; TargetConfigError (bad credentials) stops before any upload."""
    for target in targets:  # preflight: one authenticated read per target with work, before anything is written
        todo = next((i for i in items if not _unchanged(state.get(target.name, i), i)), None)
        if todo is None:
            continue
        try:
            await with_retries(lambda t=target, i=todo: t.find(i))  # type: ignore[misc]
        except TargetConfigError:
            raise
        except TargetError:
            pass  # about that one item (no such product, ...): it fails on its own below, the others go on
    retire_set = set(retire)
    copies = _Copies(prepare, claims)  # one per publish, shared by the targets
    results = await asyncio.gather(*[_one_target(t, items, retire_set, retire_unlisted, state, concurrency, copies)
                                     for t in targets])
    report = PublishReport(results=[r for group in results for r in group])
    for target in targets:
        if isinstance(target, BatchAware):
            await target.batch_finished({"clips": len(items), "uploaded": report.count("uploaded", target.name),
                                         "unchanged": report.count("unchanged", target.name),
                                         "retired": report.count("retired", target.name),
                                         "failed": report.count("failed", target.name), **(summary or {})})
    return report


class _Copies:
    """The published copy of each clip (provenance inside), made once per clip even when targets ask together."""

    def __init__(self, prepare: Prepare | None, claims: Claims | None = None) -> None:
        self.prepare, self.claims = prepare, claims
        self.owner = owner_id()  # a killed publisher here is taken over at once (Ledger.claim)
        self.done: dict[str, asyncio.Task[Deliverable]] = {}

    async def get(self, item: Deliverable) -> Deliverable:
        if self.prepare is None:
            return item
        if item.sha256 not in self.done:
            self.done[item.sha256] = asyncio.ensure_future(asyncio.to_thread(self.prepare, item))
        return await self.done[item.sha256]


async def _one_target(target: PublishTarget, items: list[Deliverable], retire: set[ClipRef], retire_unlisted: bool,
                      state: PublishState, concurrency: int, copies: _Copies) -> list[ItemResult]:
    gate = asyncio.Semaphore(int(getattr(target, "concurrency", concurrency)))
    stop = asyncio.Event()  # bad credentials: start nothing more on this target

    async def guarded(item: Deliverable) -> ItemResult:
        async with gate:
            if stop.is_set():
                return ItemResult(target=target.name, sku=item.sku, shot=item.shot, format=item.format,
                                  action="failed", error="not attempted: the target refused our credentials")
            try:
                key = "publish:" + hashlib.sha256(f"{target.name}|{item.key}".encode()).hexdigest()[:40]
                if copies.claims is not None and not copies.claims.claim(key, copies.owner, 600.0):
                    return ItemResult(target=target.name, sku=item.sku, shot=item.shot, format=item.format,
                                      action="failed", error="another publish of this clip is in progress")
                try:
                    return await _publish_one(target, item, state, copies)
                finally:
                    if copies.claims is not None:
                        copies.claims.release(key, copies.owner)
            except TargetError as exc:
                if isinstance(exc, TargetConfigError):
                    stop.set()
                state.fail(target.name, item, str(exc))
                return ItemResult(target=target.name, sku=item.sku, shot=item.shot, format=item.format,
                                  action="failed", error=str(exc))

    out = list(await asyncio.gather(*[guarded(i) for i in items]))
    listed = {ClipRef(sku=i.sku, shot=i.shot, format=i.format) for i in items}
    for row in state.all(target.name):
        ref = ClipRef(sku=row["sku"], shot=row["shot_id"], format=row["format"])
        if row["state"] == "retired" or (ref not in retire and (ref in listed or not retire_unlisted)):
            continue
        out.append(await _retire_one(target, ref, row, state))
    return out


def _unchanged(row: dict[str, Any] | None, item: Deliverable) -> bool:
    return bool(row and row["state"] == "ready" and row["sha256"] == item.sha256)


async def _publish_one(target: PublishTarget, item: Deliverable, state: PublishState, copies: _Copies) -> ItemResult:
    row = state.get(target.name, item)
    done = {"target": target.name, "sku": item.sku, "shot": item.shot, "format": item.format}
    if row and _unchanged(row, item):
        return ItemResult(**done, action="unchanged", remote_id=row["remote_id"] or "", url=row["url"] or "")
    if row and row["state"] == "ready":
        previous = remote_of(row)
    elif row and row["state"] in ("intended", "uploaded"):  # a killed publish: keep what it was replacing
        previous = remote_of(row, previous=True)
    else:
        previous = None
    state.intend(target.name, item, item.sha256, item.content_key, previous)
    action = "uploaded"
    item = await copies.get(item)  # what is sent carries the provenance; its identity stays the manifest's sha256

    async def upload() -> Remote:
        nonlocal action, previous
        found = await target.find(item)  # find by our key before every upload: never a second media item
        if found is not None and found.same_bytes:
            action = "adopted"
            return found
        if found is not None and previous is None:  # our key is there with other bytes: it is what we replace
            previous = found
            state.intend(target.name, item, item.sha256, item.content_key, previous)
        return await target.publish(item, previous)

    remote = await with_retries(upload)
    state.mark(target.name, item, "uploaded", remote)
    if previous is not None and previous.remote_id == remote.remote_id:
        previous = None  # replaced in place (Cloudinary overwrite, Bynder version)
    remote = await with_retries(lambda: target.settle(item, remote, previous))
    state.mark(target.name, item, "ready", remote, clear_previous=True)
    return ItemResult(**done, action=action, remote_id=remote.remote_id, url=remote.url)


async def _retire_one(target: PublishTarget, ref: ClipRef, row: dict[str, Any], state: PublishState) -> ItemResult:
    done = {"target": target.name, "sku": ref.sku, "shot": ref.shot, "format": ref.format}
    remote = remote_of(row)
    state.mark(target.name, ref, "retiring")
    try:
        if remote is not None:
            await with_retries(lambda: target.retire(ref, remote))
        old = remote_of(row, previous=True)
        if old is not None:
            await with_retries(lambda: target.retire(ref, old))
    except TargetError as exc:
        state.fail(target.name, ref, str(exc))
        return ItemResult(**done, action="failed", error=str(exc))
    state.mark(target.name, ref, "retired")
    return ItemResult(**done, action="retired", remote_id=remote.remote_id if remote else "")


def annotate_manifest(data: dict[str, Any], state: PublishState) -> dict[str, Any]:
    """The manifest gains each target's remote id, URL and state per row."""
    by_ref: dict[tuple[str, str, str], dict[str, Any]] = {}
    for row in state.all():
        by_ref.setdefault((row["sku"], row["shot_id"], row["format"]), {})[row["target"]] = {
            "remote_id": row["remote_id"] or "", "url": row["url"] or "", "state": row["state"]}
    for row in data.get("deliverables", []):
        row["targets"] = by_ref.get((str(row["sku"]), str(row["shot"]), str(row["format"])), {})
    return data


__all__ = ["ItemResult", "PublishReport", "annotate_manifest", "deliverables_from_manifest", "publish_all"]
