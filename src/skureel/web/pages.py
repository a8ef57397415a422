"""The server-rendered screens: sign in, workspace (upload), validation, plan, progress, review, deliver.

Every state change is a form POST answered 303 → GET, so a reload never re-posts and all state lives in the store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from skureel.formats import PRESETS
from skureel.providers.capabilities import CAPABILITIES
from skureel.web import batches as logic
from skureel.web import service
from skureel.web.auth import User, anonymous_session, check_csrf, current_user, set_session_cookie
from skureel.web.security import verify_password
from skureel.web.service import Refused

router = APIRouter(include_in_schema=False)
REVIEW_PAGE = 50  # SKUs per review page
SCREENS = (("", "Validate"), ("/plan", "Plan & estimate"), ("/diff", "Changes"), ("/preview", "Preview"), ("/progress", "Run"), ("/review", "Review"),
           ("/deliver", "Deliver"))


def _page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    response: HTMLResponse = request.app.state.templates.TemplateResponse(request, name, context, status_code=status)
    return response


def _see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _user(request: Request) -> User:
    return current_user(request.app.state.store, request)


def _batch(request: Request, user: User, batch_id: str) -> tuple[dict[str, Any], str]:
    batch = request.app.state.store.batch(batch_id)
    role = user.role_in(batch["workspace_id"]) if batch else None
    if batch is None or role is None:
        raise HTTPException(404, "no such batch")
    return batch, role


def _batch_page(request: Request, user: User, batch: dict[str, Any], role: str, name: str, **extra: Any) -> HTMLResponse:
    workspace = request.app.state.store.workspace_by_id(batch["workspace_id"])
    return _page(request, name, user=user, batch=batch, role=role, workspace=workspace, screens=SCREENS, **extra)


def _refused_page(request: Request, user: User, exc: Refused, back: str) -> HTMLResponse:
    return _page(request, "error.html", status=exc.status, user=user, message=exc.message, back=back)


# ------------------------------------------------------------------ sign in


@router.get("/login")
def login_form(request: Request, error: str = "") -> HTMLResponse:
    csrf, new_sid = anonymous_session(request.app.state.config, request.app.state.store, request)
    response = _page(request, "login.html", user=None, csrf=csrf, error=error)
    if new_sid:
        set_session_cookie(request.app.state.config, request, response, new_sid)
    return response


def _posted(request: Request, batch_id: str, csrf: str) -> tuple[User, dict[str, Any], str]:
    """A form post on a batch: the signed-in user, a valid CSRF token, and a batch of their workspace."""
    user = _user(request)
    check_csrf(request, user.csrf, csrf)
    batch, role = _batch(request, user, batch_id)
    return user, batch, role


@router.post("/login")
def login(request: Request, email: Annotated[str, Form()], password: Annotated[str, Form()],
          csrf: Annotated[str, Form()] = "") -> Response:
    state = request.app.state
    sid = request.cookies.get("skureel_session")
    session = state.store.session(sid) if sid else None
    check_csrf(request, session["csrf"] if session else "missing-session", csrf)
    client = request.client.host if request.client else "?"
    wait = state.limiter.retry_after(email, client)
    if wait:
        return _page(request, "login.html", status=429, user=None, csrf=session["csrf"] if session else "",
                     error=f"Too many failed sign-ins; try again in {wait} seconds.")
    user = state.store.user_by_email(email)
    ok, rehash = verify_password(user["password_hash"] if user else None, password)
    if not ok or user is None:
        state.limiter.failed(email, client)
        return _page(request, "login.html", status=401, user=None, csrf=session["csrf"] if session else "",
                     error="Wrong email or password.")
    state.limiter.succeeded(email, client)
    if rehash:
        state.store.set_password_hash(user["id"], rehash)
    if sid:
        state.store.end_session(sid)  # a new session id after sign-in (no session fixation)
    new_sid, _ = state.store.new_session(user["id"], state.config.session_hours)
    response = _see("/")
    set_session_cookie(state.config, request, response, new_sid)
    return response


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    user = _user(request)
    check_csrf(request, user.csrf, csrf)
    request.app.state.store.end_session(user.sid)
    response = _see("/login")
    response.delete_cookie("skureel_session", path="/")
    return response


# ------------------------------------------------------------------ workspaces and upload


@router.get("/")
def home(request: Request) -> Response:
    user = _user(request)
    if len(user.workspaces) == 1:
        return _see(f"/w/{user.workspaces[0]['id']}")
    return _page(request, "home.html", user=user)


@router.get("/w/{workspace_id}")
def workspace(request: Request, workspace_id: int, error: str = "") -> HTMLResponse:
    user = _user(request)
    role = user.role_in(workspace_id)
    if role is None:
        raise HTTPException(404, "no such workspace")
    store = request.app.state.store
    return _page(request, "workspace.html", user=user, role=role, workspace=store.workspace_by_id(workspace_id),
                 batches=store.batches_of(workspace_id), error=error,
                 limit_mb=request.app.state.config.max_upload_bytes / 1e6)


@router.post("/w/{workspace_id}/batches")
def upload(request: Request, workspace_id: int, sheet: Annotated[UploadFile, File()],
           images: Annotated[UploadFile | None, File()] = None, csrf: Annotated[str, Form()] = "") -> Response:
    user = _user(request)
    check_csrf(request, user.csrf, csrf)
    role = user.role_in(workspace_id)
    if role is None:
        raise HTTPException(404, "no such workspace")
    state = request.app.state
    try:
        batch_id = service.create_batch(state.config, state.store, workspace_id, user.email, role, sheet.file,
                                        sheet.filename or "sheet", images.file if images and images.filename else None)
    except Refused as exc:
        return _refused_page(request, user, exc, f"/w/{workspace_id}")
    return _see(f"/batches/{batch_id}")


# ------------------------------------------------------------------ the batch screens


@router.get("/batches/{batch_id}")
def validation(request: Request, batch_id: str, severity: str = "", q: str = "") -> HTMLResponse:
    user = _user(request)
    batch, role = _batch(request, user, batch_id)
    problems = batch["report"].get("problems", [])
    if severity:
        problems = [p for p in problems if p["severity"] == severity]
    if q:
        needle = q.casefold()
        problems = [p for p in problems if needle in f"{p['column']} {p['sku']} {p['reason']}".casefold()]
    groups: dict[str, int] = {}
    for p in batch["report"].get("problems", []):
        groups[p.get("column") or "file"] = groups.get(p.get("column") or "file", 0) + 1
    return _batch_page(request, user, batch, role, "validate.html", problems=problems[:500], shown=len(problems),
                       groups=sorted(groups.items()), severity=severity, q=q)


@router.get("/batches/{batch_id}/plan")
def plan(request: Request, batch_id: str) -> HTMLResponse:
    user = _user(request)
    batch, role = _batch(request, user, batch_id)
    return _batch_page(request, user, batch, role, "plan.html",
                       kits=logic.brand_kits(request.app.state.config, batch["workspace_id"]),
                       providers=[n for n, c in CAPABILITIES.items() if not c.retired], formats=list(PRESETS))


@router.post("/batches/{batch_id}/estimate")
def estimate(request: Request, batch_id: str, brand_kit: Annotated[str, Form()],
             providers: Annotated[str, Form()] = "local", formats: Annotated[list[str] | None, Form()] = None,
             max_spend: Annotated[str, Form()] = "", only: Annotated[str, Form()] = "",
             quality: Annotated[str, Form()] = "draft", csrf: Annotated[str, Form()] = "") -> Response:
    user, batch, role = _posted(request, batch_id, csrf)
    values: dict[str, Any] = {"brand_kit": brand_kit, "providers": [p for p in providers.split(",") if p.strip()],
                              "formats": formats or ["9x16"], "quality": quality,
                              "only": [s.strip() for s in only.replace("\n", ",").split(",") if s.strip()],
                              "max_spend": float(max_spend) if max_spend.strip() else None,
                              "prompts": batch["options"].get("prompts") or {}}  # edited prompts stay (web/prompts.py)
    state = request.app.state
    try:
        service.estimate(state.config, state.store, batch, role, service.parse_options(values))
    except (Refused, ValueError) as exc:
        refusal = exc if isinstance(exc, Refused) else Refused(422, "max spend must be a number")
        return _refused_page(request, user, refusal, f"/batches/{batch_id}/plan")
    return _see(f"/batches/{batch_id}/plan")


@router.post("/batches/{batch_id}/run")
def run(request: Request, batch_id: str, csrf: Annotated[str, Form()] = "") -> Response:
    user, batch, role = _posted(request, batch_id, csrf)
    state = request.app.state
    try:
        service.run(state.config, state.store, state.runner, batch, role)
    except Refused as exc:
        if exc.status != 409 or batch["state"] != "running":
            return _refused_page(request, user, exc, f"/batches/{batch_id}/plan")
    return _see(f"/batches/{batch_id}/progress")


@router.post("/batches/{batch_id}/cancel")
def cancel(request: Request, batch_id: str, csrf: Annotated[str, Form()] = "") -> Response:
    user, batch, role = _posted(request, batch_id, csrf)
    try:
        service.cancel(request.app.state.store, request.app.state.runner, batch, role, user.email)
    except Refused as exc:
        return _refused_page(request, user, exc, f"/batches/{batch_id}/progress")
    return _see(f"/batches/{batch_id}/progress")


@router.get("/batches/{batch_id}/progress")
def progress_page(request: Request, batch_id: str) -> HTMLResponse:
    user = _user(request)
    batch, role = _batch(request, user, batch_id)
    return _batch_page(request, user, batch, role, "progress.html", cells=request.app.state.store.cells_of(batch_id),
                       events=request.app.state.store.events_of(batch_id, 8))


@router.get("/batches/{batch_id}/review")
def review_page(request: Request, batch_id: str, page: int = 1) -> HTMLResponse:
    user = _user(request)
    batch, role = _batch(request, user, batch_id)
    grid: dict[str, list[dict[str, Any]]] = {}
    for cell in request.app.state.store.cells_of(batch_id):
        grid.setdefault(cell["sku"], []).append(cell)
    pages = max(1, -(-len(grid) // REVIEW_PAGE))  # a grid of playable clips stays usable at 2,000 SKUs
    page = min(max(1, page), pages)
    skus = list(grid)[(page - 1) * REVIEW_PAGE : page * REVIEW_PAGE]
    return _batch_page(request, user, batch, role, "review.html", grid={k: grid[k] for k in skus}, page=page,
                       pages=pages)


@router.post("/batches/{batch_id}/cells/{cell_id}")
def decide(request: Request, batch_id: str, cell_id: int, decision: Annotated[str, Form()],
           reason: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = "") -> Response:
    user, batch, role = _posted(request, batch_id, csrf)
    store = request.app.state.store
    try:
        if decision == "approve":
            service.review(store, batch, role, user.email, [cell_id], [])
        elif decision == "reject":
            service.review(store, batch, role, user.email, [], [{"id": cell_id, "reason": reason}])
        else:
            raise Refused(422, "decision must be approve or reject")
    except Refused as exc:
        return _refused_page(request, user, exc, f"/batches/{batch_id}/review")
    return _see(f"/batches/{batch_id}/review#cell-{cell_id}")


@router.post("/batches/{batch_id}/approve-all")
def approve_all(request: Request, batch_id: str, csrf: Annotated[str, Form()] = "") -> Response:
    user, batch, role = _posted(request, batch_id, csrf)
    store = request.app.state.store
    ready = [c["id"] for c in store.cells_of(batch_id) if c["status"] == "ready"]
    try:
        service.review(store, batch, role, user.email, ready, [])
    except Refused as exc:
        return _refused_page(request, user, exc, f"/batches/{batch_id}/review")
    return _see(f"/batches/{batch_id}/review")


@router.post("/batches/{batch_id}/publish")
def publish(request: Request, batch_id: str, csrf: Annotated[str, Form()] = "") -> Response:
    user, batch, role = _posted(request, batch_id, csrf)
    state = request.app.state
    try:
        service.publish(state.config, state.store, batch, role)
    except Refused as exc:
        return _refused_page(request, user, exc, f"/batches/{batch_id}/review")
    return _see(f"/batches/{batch_id}/deliver")


@router.get("/batches/{batch_id}/deliver")
def deliver(request: Request, batch_id: str) -> HTMLResponse:
    user = _user(request)
    batch, role = _batch(request, user, batch_id)
    cells = request.app.state.store.cells_of(batch_id)
    formats = sorted({c["format"] for c in cells if c["status"] == "published"})
    return _batch_page(request, user, batch, role, "deliver.html", cells=cells, published_formats=formats)


# ------------------------------------------------------------------ files (never served from their storage path)


@router.get("/batches/{batch_id}/clips/{cell_id}")
def clip(request: Request, batch_id: str, cell_id: int) -> FileResponse:
    return _cell_file(request, batch_id, cell_id, "clip_path", "video/mp4")


@router.get("/batches/{batch_id}/posters/{cell_id}")
def poster(request: Request, batch_id: str, cell_id: int) -> FileResponse:
    return _cell_file(request, batch_id, cell_id, "poster_path", "image/jpeg")


def _cell_file(request: Request, batch_id: str, cell_id: int, column: str, kind: str) -> FileResponse:
    user = _user(request)
    _batch(request, user, batch_id)
    cell = request.app.state.store.cell(batch_id, cell_id)
    if cell is None or not cell[column] or not Path(cell[column]).exists():
        raise HTTPException(404, "no such file")
    return FileResponse(cell[column], media_type=kind)


@router.get("/batches/{batch_id}/download/{fmt}.zip")
def download_zip(request: Request, batch_id: str, fmt: str) -> Response:
    user = _user(request)
    _batch(request, user, batch_id)
    if fmt not in PRESETS:
        raise HTTPException(404, "no such format")
    data = logic.format_zip(request.app.state.store, batch_id, fmt)
    return Response(data, media_type="application/zip",
                    headers={"content-disposition": f'attachment; filename="{batch_id}-{fmt}.zip"'})


@router.get("/batches/{batch_id}/sheet.csv")
def annotated_sheet(request: Request, batch_id: str) -> Response:
    user = _user(request)
    batch, _ = _batch(request, user, batch_id)
    base = str(request.base_url).rstrip("/") + f"/batches/{batch_id}/clips"
    data = logic.annotated_sheet(request.app.state.store, batch, base)
    return Response(data, media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{batch_id}-annotated.csv"'})


@router.get("/batches/{batch_id}/manifest.json")
def manifest(request: Request, batch_id: str) -> Response:
    user = _user(request)
    batch, _ = _batch(request, user, batch_id)
    import json

    return Response(json.dumps(logic.manifest(request.app.state.store, batch), indent=2, default=str),
                    media_type="application/json",
                    headers={"content-disposition": f'attachment; filename="{batch_id}-manifest.json"'})

