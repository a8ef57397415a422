"""The brand kit screens: the workspace's kits, one kit's settings and assets, its preview still per format.

Everyone in the workspace sees its kits; only an admin edits them (CSRF-checked multipart form, 303 → GET).
An edit becomes the workspace's own copy of the kit (web/kits.py); the next estimate and run use it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from skureel.domain import UnusableInput
from skureel.formats import DEFAULT_FORMATS, PRESETS
from skureel.web import kitpreview, kits
from skureel.web.auth import User, check_csrf
from skureel.web.pages import _page, _user
from skureel.web.service import Refused, require

router = APIRouter(include_in_schema=False)
CAN_EDIT_KITS = {"admin"}
SHOWN_HEIGHT = 320  # CSS pixels of a still on the page (the file is twice that, for sharp screens)


def _member(request: Request, workspace_id: int) -> tuple[User, str, dict[str, Any]]:
    user = _user(request)
    role = user.role_in(workspace_id)
    if role is None:  # another workspace answers exactly like one that does not exist
        raise HTTPException(404, "no such workspace")
    return user, role, request.app.state.store.workspace_by_id(workspace_id)


def _known(request: Request, workspace_id: int, name: str) -> None:
    if name not in kits.kit_names(request.app.state.config, workspace_id):
        raise HTTPException(404, "no such brand kit")


@router.get("/w/{workspace_id}/kits")
def kit_list(request: Request, workspace_id: int) -> HTMLResponse:
    user, role, workspace = _member(request, workspace_id)
    config = request.app.state.config
    listing = [{"name": n, "edited": kits.is_edited(config, n, workspace_id)} for n in kits.kit_names(config, workspace_id)]
    return _page(request, "kits.html", user=user, role=role, workspace=workspace, kits=listing)


@router.get("/w/{workspace_id}/kits/{name}")
def kit_page(request: Request, workspace_id: int, name: str) -> HTMLResponse:
    user, role, workspace = _member(request, workspace_id)
    _known(request, workspace_id, name)
    config = request.app.state.config
    kit, problem = None, None
    try:
        kit = kits.load_kit(config, name, workspace_id)
    except kits.KitRefused as exc:  # a kit that no longer loads: say why, still offer the form to fix it
        problem = exc.message
    digest = kits.folder_digest(kits.kit_folder(config, name, workspace_id))[:12]
    return _page(request, "kit.html", user=user, role=role, workspace=workspace, kit_name=name, kit=kit, problem=problem,
                 edited=kits.is_edited(config, name, workspace_id), version=digest,
                 formats={f: round(SHOWN_HEIGHT * PRESETS[f].width / PRESETS[f].height) for f in DEFAULT_FORMATS},
                 can_edit=role in CAN_EDIT_KITS, max_mb=kits.MAX_ASSET_BYTES / 1e6)


async def _uploads(form: Any) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for key in kits.ASSET_KEYS:
        part = form.get(key)
        if isinstance(part, UploadFile) and part.filename:
            data = await part.read(kits.MAX_ASSET_BYTES + 1)
            if data:
                out[key] = data
    return out


@router.post("/w/{workspace_id}/kits/{name}")
async def kit_save(request: Request, workspace_id: int, name: str) -> Response:
    form = await request.form(max_files=len(kits.ASSET_KEYS), max_fields=60)
    user, role, _ = _member(request, workspace_id)
    check_csrf(request, user.csrf, str(form.get("csrf") or ""))
    _known(request, workspace_id, name)
    back = f"/w/{workspace_id}/kits/{name}"
    texts = {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        require(role, CAN_EDIT_KITS, "edit brand kits")
        remove = {k for k in kits.ASSET_KEYS if texts.get(f"remove_{k}") == "1"}
        kits.save_kit(request.app.state.config, workspace_id, name, kits.form_values(texts), await _uploads(form), remove)
    except (Refused, kits.KitRefused) as exc:
        return _page(request, "error.html", status=exc.status, user=user, message=exc.message, back=back)
    finally:
        await form.close()
    return RedirectResponse(back + "?saved=1", status_code=303)


@router.post("/w/{workspace_id}/kits/{name}/reset")
async def kit_reset(request: Request, workspace_id: int, name: str) -> Response:
    form = await request.form()
    user, role, _ = _member(request, workspace_id)
    check_csrf(request, user.csrf, str(form.get("csrf") or ""))
    _known(request, workspace_id, name)
    back = f"/w/{workspace_id}/kits/{name}"
    try:
        require(role, CAN_EDIT_KITS, "edit brand kits")
        if not kits.reset_kit(request.app.state.config, workspace_id, name):
            raise Refused(409, "this kit has no bundled original to go back to")
    except Refused as exc:
        return _page(request, "error.html", status=exc.status, user=user, message=exc.message, back=back)
    return RedirectResponse(back, status_code=303)


@router.get("/w/{workspace_id}/kits/{name}/preview/{fmt}.jpg")
def kit_still(request: Request, workspace_id: int, name: str, fmt: str) -> FileResponse:
    _member(request, workspace_id)
    _known(request, workspace_id, name)
    if fmt not in PRESETS:
        raise HTTPException(404, "no such format")
    config = request.app.state.config
    try:
        kit = kits.load_kit(config, name, workspace_id)
        digest = kits.folder_digest(kits.kit_folder(config, name, workspace_id))
        path = kitpreview.preview_still(config, kit, digest, fmt)
    except (kits.KitRefused, UnusableInput) as exc:
        raise HTTPException(422, str(exc)) from exc
    # the URL carries the kit's digest (?v=), so the browser may keep the still: a changed kit is a new URL
    return FileResponse(path, media_type="image/jpeg", headers={"cache-control": "private, max-age=86400"})
