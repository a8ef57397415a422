"""State changes of a batch, shared by the pages and the JSON API; each raises `Refused` with its HTTP status."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import ValidationError

from skureel.domain import UnusableInput
from skureel.web import batches as logic
from skureel.web import diff, mappings
from skureel.web.config import CAN_EDIT, CAN_PUBLISH, CAN_REVIEW, StudioConfig
from skureel.web.runs import Runner
from skureel.web.store import Store
from skureel.web.uploads import UploadRefused, new_upload_dir, save_stream, store_sheet, unpack_images


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def require(role: str, allowed: set[str], what: str) -> None:
    if role not in allowed:
        raise Refused(403, f"your role ({role}) may not {what}")


def create_batch(config: StudioConfig, store: Store, workspace_id: int, who: str, role: str,
                 sheet: BinaryIO, sheet_name: str, images: BinaryIO | None) -> str:
    require(role, CAN_EDIT, "upload catalogs")
    folder = new_upload_dir(config.uploads_dir)
    try:
        raw = folder / "incoming.bin"
        save_stream(sheet, raw, config.max_upload_bytes)
        stored = store_sheet(raw, folder)
        if images is not None:
            archive = folder / "images.zip"
            save_stream(images, archive, config.max_upload_bytes)
            unpack_images(archive, folder, max_members=config.max_zip_members, max_bytes=config.max_zip_bytes)
            archive.unlink()
    except UploadRefused as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise Refused(exc.status, str(exc)) from exc
    report = mappings.apply_saved(store, workspace_id, stored, logic.validation_report(stored))
    state = "validated" if report["usable"] else "invalid"
    display = Path(sheet_name.replace("\\", "/")).name[:200] or "sheet"
    return store.create_batch(workspace_id=workspace_id, created_by=who, state=state, sheet_name=display,
                              upload_dir=str(folder), sheet_file=str(stored), report=report, error=report["error"])


def load(store: Store, batch_id: str, workspace_id: int) -> dict[str, Any]:
    batch = store.batch(batch_id, workspace_id)
    if batch is None:  # another workspace's batch answers exactly like a missing one
        raise Refused(404, "no such batch")
    return batch


def parse_options(values: dict[str, Any]) -> logic.RunOptions:
    try:
        return logic.RunOptions.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise Refused(422, f"{'.'.join(str(p) for p in first['loc']) or 'options'}: "
                           f"{first['msg'].removeprefix('Value error, ')}") from exc


def estimate(config: StudioConfig, store: Store, batch: dict[str, Any], role: str,
             options: logic.RunOptions) -> dict[str, Any]:
    require(role, CAN_EDIT, "estimate runs")
    if batch["state"] == "invalid":
        raise Refused(409, "the sheet has no usable rows; upload a corrected sheet")
    if batch["state"] == "running":
        raise Refused(409, "the batch is running; wait for it to finish")
    try:
        result = logic.estimate(config, Path(batch["sheet_file"]), options, workspace_id=batch["workspace_id"],
                                remap=batch["report"].get("remap"))
    except UnusableInput as exc:
        raise Refused(422, str(exc).replace(batch["sheet_file"], "the sheet")) from exc
    diff.save_fingerprints(store, batch["id"], result.pop("fingerprints", {}))
    store.update_batch(batch["id"], state="estimated", options=options.model_dump(), estimate=result)
    return result


def run(config: StudioConfig, store: Store, runner: Runner, batch: dict[str, Any], role: str) -> str:
    require(role, CAN_EDIT, "start runs")
    if batch["state"] == "running":
        raise Refused(409, "the batch is already running")
    if batch["state"] not in ("estimated", "failed", "review", "done") or not batch["estimate"]:
        raise Refused(409, "estimate the batch before running it")
    if batch["estimate"].get("over_budget"):
        raise Refused(409, f"the estimate ${batch['estimate']['total_usd']:.2f} is above the budget cap "
                           f"${batch['estimate']['max_spend']:.2f}; raise the cap or pick fewer rows")
    options = logic.RunOptions.model_validate(batch["options"])
    key = logic.run_key(batch, options, config)
    if not runner.submit(batch["id"], key):
        raise Refused(409, "the batch is already running")
    return key


def cancel(store: Store, runner: Runner, batch: dict[str, Any], role: str, who: str) -> None:
    require(role, CAN_EDIT, "cancel runs")
    if not runner.cancel(batch["id"], who):
        raise Refused(409, "the batch is not running")


def _cell_for(cells: list[dict[str, Any]], ref: Any) -> list[dict[str, Any]]:
    if isinstance(ref, int):
        return [c for c in cells if c["id"] == ref]
    if isinstance(ref, dict) and "sku" in ref:
        return [c for c in cells if c["sku"] == ref["sku"] and c["format"] == ref.get("format", c["format"])
                and c["shot"] == ref.get("shot", c["shot"])]
    raise Refused(422, "each review entry is a cell id or {\"sku\", \"format\"}")


def review(store: Store, batch: dict[str, Any], role: str, who: str, approve: list[Any],
           reject: list[dict[str, Any]]) -> int:
    require(role, CAN_REVIEW, "approve or reject clips")
    if batch["state"] not in ("review", "done"):
        raise Refused(409, "nothing to review yet: run the batch first")
    cells = store.cells_of(batch["id"])
    decisions: list[tuple[int, str, str | None]] = []
    for ref in approve:
        found = _cell_for(cells, ref)
        if not found:
            raise Refused(404, f"no such cell {ref!r}")
        decisions += [(c["id"], "approved", None) for c in found]
    for ref in reject:
        reason = str(ref.get("reason", "")).strip() if isinstance(ref, dict) else ""
        if not reason:
            raise Refused(422, "a rejection needs a reason")
        found = _cell_for(cells, ref.get("id", ref) if isinstance(ref, dict) else ref)
        if not found:
            raise Refused(404, f"no such cell {ref!r}")
        decisions += [(c["id"], "rejected", reason[:500]) for c in found]
    for cell_id, status, why in decisions:
        if not store.decide(batch["id"], cell_id, status, why, who):
            raise Refused(409, "that cell has no clip to review")
    return len(decisions)


def publish(config: StudioConfig, store: Store, batch: dict[str, Any], role: str) -> list[dict[str, Any]]:
    require(role, CAN_PUBLISH, "publish")
    if batch["state"] not in ("review", "done"):
        raise Refused(409, "nothing to publish yet: run and review the batch first")
    if not any(c["status"] in ("approved", "published") for c in store.cells_of(batch["id"])):
        raise Refused(409, "approve at least one clip first: only approved clips are published")
    published = logic.publish(config, store, batch)
    store.update_batch(batch["id"], state="done")
    store.add_event(batch["id"], "published", {"clips": len(published)})  # also the webhook's batch.published
    return published


def summary(store: Store, batch: dict[str, Any], url_prefix: str,
            cells: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The batch as the API and the pages see it (pass `cells` when the caller has read them already)."""
    report, estimate_ = batch["report"], batch["estimate"]
    cells = store.cells_of(batch["id"]) if cells is None else cells
    counts: dict[str, int] = {}
    for cell in cells:
        counts[cell["status"]] = counts.get(cell["status"], 0) + 1
    return {"id": batch["id"], "state": batch["state"], "sheet": batch["sheet_name"], "format": report.get("format"),
            "created_at": batch["created_at"], "updated_at": batch["updated_at"], "error": batch["error"],
            "counts": {"rows": report.get("rows_read", 0), "products": report.get("products", 0),
                       "invalid_rows": report.get("errors", 0), "warnings": report.get("warnings", 0),
                       "cells": counts},
            "estimate_usd": estimate_.get("total_usd"), "options": batch["options"],
            "phase": batch["run"].get("phase"),
            "problems": [{k: p.get(k) for k in ("row", "column", "sku", "reason", "severity")}
                         for p in report.get("problems", [])],
            "links": {"self": url_prefix, "deliverables": f"{url_prefix}/deliverables"}}
