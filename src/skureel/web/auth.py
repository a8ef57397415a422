"""Who is asking: a signed-in user (session cookie + CSRF token) or a workspace API token (Bearer)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from fastapi import HTTPException, Request, Response

from skureel.web.config import StudioConfig
from skureel.web.security import is_loopback
from skureel.web.store import Store

COOKIE = "skureel_session"


@dataclass
class User:
    id: int
    email: str
    sid: str
    csrf: str
    workspaces: list[dict[str, Any]] = field(default_factory=list)  # id, name, role

    def role_in(self, workspace_id: int) -> str | None:
        return next((w["role"] for w in self.workspaces if w["id"] == workspace_id), None)


@dataclass
class Caller:
    """The party an API call acts for: one workspace, with a role."""

    workspace_id: int
    role: str
    who: str


class SignInRequired(Exception):
    """Raised by page handlers; the app answers with a redirect to /login."""


def set_session_cookie(config: StudioConfig, request: Request, response: Response, sid: str) -> None:
    secure = config.cookie_secure
    if secure is None:  # browsers and HTTP clients drop Secure cookies over plain http: allow that on loopback only
        secure = request.url.scheme == "https" or not is_loopback(request.url.netloc)
    response.set_cookie(COOKIE, sid, httponly=True, secure=secure, samesite="lax", path="/",
                        max_age=int(config.session_hours * 3600))


def anonymous_session(config: StudioConfig, store: Store, request: Request) -> tuple[str, str | None]:
    """(the CSRF token of the visitor's session, a new session id to set when there was none)."""
    sid = request.cookies.get(COOKIE)
    row = store.session(sid) if sid else None
    if row is None:
        new_sid, csrf = store.new_session(None, config.session_hours)
        return csrf, new_sid
    return str(row["csrf"]), None


def current_user(store: Store, request: Request) -> User:
    sid = request.cookies.get(COOKIE)
    row = store.session(sid) if sid else None
    if row is None or row["user_id"] is None or sid is None:
        raise SignInRequired()
    with store.engine.connect() as c:
        from sqlalchemy import select

        from skureel.web.store import users

        email = c.execute(select(users.c.email).where(users.c.id == row["user_id"])).scalar()
    if email is None:
        raise SignInRequired()
    return User(id=int(row["user_id"]), email=str(email), sid=sid, csrf=str(row["csrf"]),
                workspaces=store.memberships_of(int(row["user_id"])))


def check_csrf(request: Request, expected: str, sent: str | None) -> None:
    """Double check on every state change: same-origin request and the session's token in the form or header."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.url.netloc:
        raise HTTPException(403, "cross-site request refused")
    token = sent or request.headers.get("x-csrf-token") or ""
    if not token or not secrets.compare_digest(token, expected):
        raise HTTPException(403, "the form expired or did not come from this site; reload the page and try again")


def api_caller(store: Store, request: Request) -> Caller:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "send a workspace token: Authorization: Bearer <token>",
                            headers={"WWW-Authenticate": "Bearer"})
    workspace_id = store.token_workspace(token.strip())
    if workspace_id is None:
        raise HTTPException(401, "unknown or revoked token", headers={"WWW-Authenticate": "Bearer"})
    return Caller(workspace_id=workspace_id, role="token", who="api token")
