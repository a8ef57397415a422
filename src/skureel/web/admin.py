"""The workspace settings screen (admins only): the signed webhook with its delivery log, and provider keys.

A webhook secret is shown once, in the answer to the form that made it (no redirect can carry it without storing
it in the clear); provider keys are never shown again, only their last four characters.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from skureel.web import hooks, vault
from skureel.web.auth import User, check_csrf, current_user

router = APIRouter(include_in_schema=False)


def _admin(request: Request, workspace_id: int, csrf: str | None = None) -> User:
    user = current_user(request.app.state.store, request)
    if csrf is not None:
        check_csrf(request, user.csrf, csrf)
    role = user.role_in(workspace_id)
    if role is None:
        raise HTTPException(404, "no such workspace")  # another workspace answers like a missing one
    if role != "admin":
        raise HTTPException(403, f"your role ({role}) may not change workspace settings")
    return user


def _screen(request: Request, user: User, workspace_id: int, status: int = 200, **extra: Any) -> HTMLResponse:
    store = request.app.state.store
    context = {"user": user, "role": "admin", "workspace": store.workspace_by_id(workspace_id),
               "hook": hooks.settings_of(store, workspace_id), "keys": vault.listed(store, workspace_id),
               "providers": {p: vault.key_names(p) for p in vault.providers_with_keys()},
               "secret": None, "error": "", **extra}
    response: HTMLResponse = request.app.state.templates.TemplateResponse(request, "settings.html", context,
                                                                          status_code=status)
    return response


@router.get("/w/{workspace_id}/settings")
def settings(request: Request, workspace_id: int) -> HTMLResponse:
    return _screen(request, _admin(request, workspace_id), workspace_id)


@router.post("/w/{workspace_id}/settings/webhook")
def set_webhook(request: Request, workspace_id: int, url: Annotated[str, Form()],
                csrf: Annotated[str, Form()] = "") -> HTMLResponse:
    user = _admin(request, workspace_id, csrf)
    state = request.app.state
    try:
        secret = hooks.configure(state.store, state.vault, workspace_id, url, user.email)
    except hooks.HookRefused as exc:
        return _screen(request, user, workspace_id, status=422, error=str(exc))
    return _screen(request, user, workspace_id, secret=secret)


@router.post("/w/{workspace_id}/settings/keys")
async def set_keys(request: Request, workspace_id: int) -> Response:
    form = await request.form()
    user = _admin(request, workspace_id, str(form.get("csrf", "")))
    provider = str(form.get("provider", ""))
    if not vault.key_names(provider):
        return _screen(request, user, workspace_id, status=422, error=f"no keys are kept for {provider!r}")
    values = {name: str(form.get(name, "")) for name in vault.key_names(provider)}
    state = request.app.state
    if not vault.set_keys(state.store, state.vault, workspace_id, provider, values, user.email):
        return _screen(request, user, workspace_id, status=422, error="enter at least one key")
    return RedirectResponse(f"/w/{workspace_id}/settings", status_code=303)


@router.post("/w/{workspace_id}/settings/keys/delete")
def delete_key(request: Request, workspace_id: int, name: Annotated[str, Form()],
               csrf: Annotated[str, Form()] = "") -> Response:
    _admin(request, workspace_id, csrf)
    if not vault.remove_key(request.app.state.store, workspace_id, name):
        raise HTTPException(404, "no such key")
    return RedirectResponse(f"/w/{workspace_id}/settings", status_code=303)
