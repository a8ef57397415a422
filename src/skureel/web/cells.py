"""Runs of part of a batch, app side: re-run one cell with a new seed, retry only the failed rows, a paid canary
of a few SKUs, and the free local preview; as form posts (303 → GET) and as JSON API calls.

Each is a scoped submit (web/scopes.py) through the same atomic state claim as a full run, so a double submit
starts one run; cancelling any of them is the batch's cancel. A new seed is remembered in the batch's options,
so a later full run keeps the re-run clip instead of going back to the old seed.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from skureel.web import batches as logic
from skureel.web import pages, service
from skureel.web.auth import Caller, api_caller
from skureel.web.config import CAN_EDIT, StudioConfig
from skureel.web.scopes import Scope
from skureel.web.service import Refused
from skureel.web.store import Store

router = APIRouter()
AFTER_RUN = ("review", "done", "failed")
CANARY_DEFAULT = 3
MAX_SEED = 2_147_483_647


def _submit(config: StudioConfig, store: Store, batch: dict[str, Any], role: str, scope: Scope,
            allowed: tuple[str, ...], who: str) -> str:
    service.require(role, CAN_EDIT, "start runs")
    if batch["state"] == "running":
        raise Refused(409, "the batch is already running")
    if batch["state"] not in allowed or not batch["estimate"]:
        raise Refused(409, "estimate the batch first" if batch["state"] in ("validated", "invalid", "uploaded")
                      else f"that is not possible while the batch is {batch['state']}")
    options = logic.RunOptions.model_validate(batch["options"])
    key = logic.run_key(batch, options, config)
    if scope.seeds:
        store.update_batch(batch["id"], options={**batch["options"],
                                                 "seeds": {**batch["options"].get("seeds", {}), **scope.seeds}})
    if not store.claim_state(batch["id"], allowed, "running", run_key=key, error=None,
                             run={"phase": "queued", "attempts": 0, "run_key": key, "scope": scope.model_dump()}):
        raise Refused(409, "the batch is already running")
    store.add_event(batch["id"], "rerun" if scope.kind in ("cell", "failed") else scope.kind,
                    {"by": who, "scope": scope.kind, "skus": scope.skus, "formats": scope.formats})
    return key


def rerun_cell(config: StudioConfig, store: Store, batch: dict[str, Any], role: str, who: str, cell_id: int) -> Scope:
    cell = store.cell(batch["id"], cell_id)
    if cell is None:
        raise Refused(404, "no such cell")
    old = json.loads(cell["row"] or "{}").get("seed")
    seed = secrets.randbelow(MAX_SEED)
    while seed == old:
        seed = secrets.randbelow(MAX_SEED)
    scope = Scope(kind="cell", skus=[cell["sku"]], formats=[cell["format"]], seeds={cell["sku"]: seed},
                  cells=[cell_id])
    _submit(config, store, batch, role, scope, AFTER_RUN, who)
    return scope


def retry_failed(config: StudioConfig, store: Store, batch: dict[str, Any], role: str, who: str) -> Scope:
    failed = sorted({c["sku"] for c in store.cells_of(batch["id"]) if c["status"] == "failed"})
    if not failed:
        raise Refused(409, "no row failed: nothing to retry")
    scope = Scope(kind="failed", skus=failed)
    _submit(config, store, batch, role, scope, AFTER_RUN, who)
    return scope


def canary(config: StudioConfig, store: Store, batch: dict[str, Any], role: str, who: str,
           skus: list[str], count: int) -> Scope:
    rows = [r["sku"] for r in batch["estimate"].get("rows", [])]
    unknown = [s for s in skus if s not in rows]
    if unknown:
        raise Refused(422, f"not in this batch's estimate: {', '.join(unknown)}")
    chosen = skus or rows[:max(1, count)]
    scope = Scope(kind="canary", skus=chosen)
    _submit(config, store, batch, role, scope, ("estimated", *AFTER_RUN), who)
    return scope


def preview(config: StudioConfig, store: Store, batch: dict[str, Any], role: str, who: str) -> Scope:
    scope = Scope(kind="preview")
    _submit(config, store, batch, role, scope, ("estimated", *AFTER_RUN), who)
    return scope


# ------------------------------------------------------------------ form posts (the review grid, plan, preview)


def _form_post(request: Request, batch_id: str, csrf: str, back: str, act: Any) -> Response:
    user, batch, role = pages._posted(request, batch_id, csrf)
    state = request.app.state
    try:
        act(state.config, state.store, batch, role, user.email)
    except Refused as exc:
        return pages._refused_page(request, user, exc, f"/batches/{batch_id}{back}")
    return RedirectResponse(f"/batches/{batch_id}/progress", status_code=303)


@router.post("/batches/{batch_id}/cells/{cell_id}/rerun", include_in_schema=False)
def rerun_form(request: Request, batch_id: str, cell_id: int, csrf: Annotated[str, Form()] = "") -> Response:
    return _form_post(request, batch_id, csrf, "/review",
                      lambda c, s, b, r, w: rerun_cell(c, s, b, r, w, cell_id))


@router.post("/batches/{batch_id}/retry-failed", include_in_schema=False)
def retry_form(request: Request, batch_id: str, csrf: Annotated[str, Form()] = "") -> Response:
    return _form_post(request, batch_id, csrf, "/progress", retry_failed)


@router.post("/batches/{batch_id}/canary", include_in_schema=False)
def canary_form(request: Request, batch_id: str, csrf: Annotated[str, Form()] = "",
                skus: Annotated[str, Form()] = "", count: Annotated[int, Form()] = CANARY_DEFAULT) -> Response:
    chosen = [s.strip() for s in skus.replace("\n", ",").split(",") if s.strip()]
    return _form_post(request, batch_id, csrf, "/plan", lambda c, s, b, r, w: canary(c, s, b, r, w, chosen, count))


@router.post("/batches/{batch_id}/preview", include_in_schema=False)
def preview_form(request: Request, batch_id: str, csrf: Annotated[str, Form()] = "") -> Response:
    return _form_post(request, batch_id, csrf, "/plan", preview)


@router.get("/batches/{batch_id}/preview", include_in_schema=False)
def preview_page(request: Request, batch_id: str) -> HTMLResponse:
    user = pages._user(request)
    batch, role = pages._batch(request, user, batch_id)
    found = batch["run"].get("preview") or {}
    return pages._batch_page(request, user, batch, role, "preview.html", clips=found.get("clips", []),
                             failures=found.get("failures", []), previewing=batch["run"].get("phase") == "previewing")


@router.get("/batches/{batch_id}/preview/{index}.{kind}", include_in_schema=False)
def preview_file(request: Request, batch_id: str, index: int, kind: str) -> FileResponse:
    user = pages._user(request)
    batch, _ = pages._batch(request, user, batch_id)
    clips = (batch["run"].get("preview") or {}).get("clips", [])
    column, media = {"mp4": ("uri", "video/mp4"), "jpg": ("poster_uri", "image/jpeg")}.get(kind, ("", ""))
    path = clips[index].get(column) if column and 0 <= index < len(clips) else None
    if not path or not Path(path).exists():  # only paths the worker listed: never one from the request
        raise HTTPException(404, "no such file")
    return FileResponse(path, media_type=media)


# ------------------------------------------------------------------ the JSON API


def _caller(request: Request) -> Caller:
    return api_caller(request.app.state.store, request)


CallerDep = Annotated[Caller, Depends(_caller)]


class CanaryBody(BaseModel):
    skus: list[str] = Field(default_factory=list)
    count: int = CANARY_DEFAULT


def _api(request: Request, batch_id: str, who: Caller, act: Any) -> dict[str, Any]:
    state = request.app.state
    try:
        batch = service.load(state.store, batch_id, who.workspace_id)
        scope: Scope = act(state.config, state.store, batch, who.role, who.who)
    except Refused as exc:
        raise HTTPException(exc.status, exc.message) from exc
    return {"id": batch_id, "state": "running", "scope": scope.model_dump()}


@router.post("/api/v1/batches/{batch_id}/cells/{cell_id}/rerun", status_code=202, tags=["batches"],
             summary="Re-run one cell (row × format) with a new seed; only that pays again")
def rerun_api(request: Request, batch_id: str, cell_id: int, who: CallerDep) -> dict[str, Any]:
    return _api(request, batch_id, who, lambda c, s, b, r, w: rerun_cell(c, s, b, r, w, cell_id))


@router.post("/api/v1/batches/{batch_id}/retry-failed", status_code=202, tags=["batches"],
             summary="Run again only the rows that failed")
def retry_api(request: Request, batch_id: str, who: CallerDep) -> dict[str, Any]:
    return _api(request, batch_id, who, retry_failed)


@router.post("/api/v1/batches/{batch_id}/canary", status_code=202, tags=["batches"],
             summary="Run the paid tier on a few SKUs (the chosen ones, or the first `count`) before the rest")
def canary_api(request: Request, batch_id: str, who: CallerDep, body: CanaryBody | None = None) -> dict[str, Any]:
    body = body or CanaryBody()
    return _api(request, batch_id, who, lambda c, s, b, r, w: canary(c, s, b, r, w, body.skus, body.count))


@router.post("/api/v1/batches/{batch_id}/preview", status_code=202, tags=["batches"],
             summary="A free draft preview of every SKU × format on the local renderer")
def preview_api(request: Request, batch_id: str, who: CallerDep) -> dict[str, Any]:
    return _api(request, batch_id, who, preview)
