"""The studio's app factory: routes, templates (autoescaped), vendored static files, the store and the runner."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import jinja2
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from skureel.web import admin, api, cells, editing, hooks, kit, pages, stream
from skureel.web.auth import SignInRequired
from skureel.web.config import StudioConfig
from skureel.web.runs import Runner
from skureel.web.security import CSP, BodyLimit, LoginLimiter, SecurityHeaders
from skureel.web.store import Store
from skureel.web.vault import Vault

HERE = Path(__file__).resolve().parent
HTMX_VERSION = "2.0.11"
SSE_VERSION = "2.2.4"


def _templates() -> Jinja2Templates:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(htmx_version=HTMX_VERSION, sse_version=SSE_VERSION)
    env.filters["money"] = lambda v: "—" if v is None else f"${float(v):,.2f}"
    return Jinja2Templates(env=env)


def create_app(config: StudioConfig, *, run_worker: bool = True) -> Any:
    """The ASGI app: FastAPI inside the request-size guard and the security headers."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(config.db_url)
    runner = Runner(config, store)
    vault = Vault(config.data_dir)
    dispatcher = hooks.Dispatcher(store, vault, config.webhook_backoff_s, period_s=config.worker_poll_s)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if run_worker:
            runner.start()  # also picks up runs a previous process left mid-way
            dispatcher.start()  # the webhook outbox (web/hooks.py)
        yield
        await runner.stop()
        await dispatcher.stop()

    app = FastAPI(title="skureel studio", version="1", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Catalog sheets in, reviewed product videos out. Authenticate with "
                              "`Authorization: Bearer <workspace token>` (`skureel studio token WORKSPACE`).")
    app.state.config, app.state.store, app.state.runner = config, store, runner
    app.state.vault, app.state.dispatcher = vault, dispatcher
    app.state.templates = _templates()
    app.state.limiter = LoginLimiter(config.login_attempts, config.login_window_s)
    app.state.feed = stream.Feed(store, period_s=1.0)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(api.router)
    app.include_router(stream.router)
    app.include_router(pages.router)
    app.include_router(admin.router)
    app.include_router(cells.router)
    app.include_router(kit.router)  # brand kit screens (web/kit.py)
    app.include_router(editing.router)  # column remap, edited prompts, the diff page (web/editing.py)
    app.include_router(editing.api_router)

    @app.get("/healthz", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        # Swagger UI's page carries inline script: a nonce allows exactly that script and nothing else
        nonce = secrets.token_urlsafe(16)
        html = bytes(get_swagger_ui_html(openapi_url="/openapi.json", title="skureel studio API").body).decode()
        html = html.replace("<script>", f'<script nonce="{nonce}">')
        policy = CSP.replace("script-src 'self'", f"script-src 'self' 'nonce-{nonce}' https://cdn.jsdelivr.net")
        policy = policy.replace("style-src 'self'", "style-src 'self' https://cdn.jsdelivr.net")
        return HTMLResponse(html, headers={"content-security-policy": policy})

    @app.exception_handler(SignInRequired)
    async def sign_in(_request: Request, _exc: SignInRequired) -> Response:
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith("/api/") or request.url.path.endswith(".json"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        html = app.state.templates.get_template("error.html").render(user=None, message=str(exc.detail), back="/")
        return HTMLResponse(html, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = [{"field": ".".join(str(p) for p in e["loc"][1:]) or "body", "message": e["msg"]}
                    for e in exc.errors()]
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": problems}, status_code=422)
        text = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        html = app.state.templates.get_template("error.html").render(user=None, message=text, back="/")
        return HTMLResponse(html, status_code=422)

    guarded = BodyLimit(app, config.max_upload_bytes + 1024 * 1024)  # the form fields around the files
    wrapped = SecurityHeaders(guarded)
    wrapped.state = app.state  # type: ignore[attr-defined]  # tests and the bench reach the store through it
    wrapped.fastapi = app  # type: ignore[attr-defined]
    return wrapped
