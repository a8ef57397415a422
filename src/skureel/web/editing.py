"""Screens that change a batch before it runs: the column remap, edited prompts, and the diff against the last batch.

Each is a form POST answered 303 → GET (or a GET page), with the CSRF token, the editor role and the batch's
workspace checked the way pages.py does; the logic lives in mappings.py, diff.py and service.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from skureel.web import diff, mappings, service
from skureel.web.api import CallerDep
from skureel.web.batches import validation_report
from skureel.web.config import CAN_EDIT
from skureel.web.pages import _batch, _batch_page, _posted, _refused_page, _user
from skureel.web.service import Refused, require
from skureel.web.store import now

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/v1", tags=["batches"])
MAX_PROMPT_CHARS = 4000  # far above any provider's limit: lint says when an edit is too long for the model


async def _form(request: Request) -> dict[str, str]:
    return {k: str(v) for k, v in (await request.form()).items()}


@router.post("/batches/{batch_id}/mapping")
async def remap_batch(request: Request, batch_id: str) -> Response:
    """Re-validate the batch with the chosen columns (and save the mapping for the workspace when asked)."""
    form = await _form(request)
    user, batch, role = _posted(request, batch_id, form.get("csrf", ""))
    store = request.app.state.store
    back = f"/batches/{batch_id}"
    report = batch["report"]
    detected = mappings.detected(batch)
    try:
        require(role, CAN_EDIT, "change the column mapping")
        if batch["state"] == "running":
            raise Refused(409, "the batch is running; change the mapping after it finishes")
        if not report.get("format"):
            raise Refused(409, "the sheet could not be read at all, so there are no columns to map")
        if form.get("reset") == "1":
            remap: dict[str, str] = {}
        else:
            base = {**{m["field"]: m["column"] for m in detected}, **(report.get("remap") or {})}
            chosen = mappings.remap_from_form(form, report.get("fields", []), report.get("header", []))
            remap = mappings.changed_only({**base, **chosen}, detected)
        fresh = validation_report(Path(batch["sheet_file"]), remap)
        if not fresh.get("format"):
            raise Refused(422, fresh.get("error") or "the mapping does not fit the sheet")
    except Refused as exc:
        return _refused_page(request, user, exc, back)
    if form.get("save") == "1" or form.get("reset") == "1":
        mappings.save(store, batch["workspace_id"], mappings.header_key(fresh["header"]), str(fresh["format"]), remap,
                      user.email)
        if remap:
            fresh["saved_mapping"] = {"saved_by": user.email, "saved_at": now()}
    # a new mapping is a new plan: the old estimate no longer describes what would run
    store.update_batch(batch_id, state="validated" if fresh["usable"] else "invalid",
                       report={**fresh, "detected": detected}, estimate={}, error=fresh["error"])
    return RedirectResponse(back + "#mapping", status_code=303)


@router.post("/batches/{batch_id}/prompts")
async def edit_prompt(request: Request, batch_id: str) -> Response:
    """Save one shot's edited prompt (empty or `reset` = the planned one again) and re-plan with it."""
    form = await _form(request)
    user, batch, role = _posted(request, batch_id, form.get("csrf", ""))
    state = request.app.state
    sku, shot, text = form.get("sku", ""), form.get("shot", ""), form.get("prompt", "").strip()
    back = f"/batches/{batch_id}/prompts?{urlencode({'sku': sku})}"
    try:
        require(role, CAN_EDIT, "edit prompts")
        rows = {r["sku"]: r for r in batch["estimate"].get("rows", [])}
        if not rows:
            raise Refused(409, "estimate the batch first: prompts are made by the plan")
        if shot not in {s["shot"] for s in rows.get(sku, {}).get("shots", [])}:
            raise Refused(404, "no such shot in this plan")
        if len(text) > MAX_PROMPT_CHARS:
            raise Refused(422, f"the prompt is {len(text)} characters; keep it under {MAX_PROMPT_CHARS}")
        prompts: dict[str, dict[str, str]] = {k: dict(v) for k, v in (batch["options"].get("prompts") or {}).items()}
        if text and form.get("reset") != "1":
            prompts.setdefault(sku, {})[shot] = text
        else:
            prompts.get(sku, {}).pop(shot, None)
        options = service.parse_options({**batch["options"], "prompts": {k: v for k, v in prompts.items() if v}})
        service.estimate(state.config, state.store, batch, role, options)
    except Refused as exc:
        return _refused_page(request, user, exc, back)
    return RedirectResponse(back, status_code=303)


@router.get("/batches/{batch_id}/prompts")
def prompt_page(request: Request, batch_id: str, sku: str = "") -> HTMLResponse:
    """One row's shots: each prompt the plan made (or the edited one), its lint findings, and the edit form."""
    user = _user(request)
    batch, role = _batch(request, user, batch_id)
    row = next((r for r in batch["estimate"].get("rows", []) if r["sku"] == sku), None)
    if batch["estimate"].get("rows") and row is None:
        raise HTTPException(404, "no such SKU in this plan")
    return _batch_page(request, user, batch, role, "prompts.html", row=row)


@router.get("/batches/{batch_id}/diff")
def diff_page(request: Request, batch_id: str) -> HTMLResponse:
    user = _user(request)
    batch, role = _batch(request, user, batch_id)
    return _batch_page(request, user, batch, role, "diff.html", diff=diff.batch_diff(request.app.state.store, batch))


@api_router.get("/batches/{batch_id}/diff", summary="New, changed, unchanged and removed SKUs against the last batch")
def diff_api(request: Request, batch_id: str, who: CallerDep) -> dict[str, Any]:
    store = request.app.state.store
    batch = store.batch(batch_id, who.workspace_id)
    if batch is None:  # another workspace's batch answers exactly like a missing one
        raise HTTPException(404, "no such batch")
    return diff.batch_diff(store, batch)
