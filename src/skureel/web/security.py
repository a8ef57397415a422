"""Passwords, sign-in rate limit, the request-size guard and the security headers of every answer."""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# a hash of a throwaway password: signing in with an unknown email costs as much as with a known one
_DUMMY = _hasher.hash("no such user")

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> tuple[bool, str | None]:
    """(ok, new hash when the stored one used older parameters)."""
    try:
        _hasher.verify(stored or _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return False, None
    if stored is None:
        return False, None
    return True, (_hasher.hash(password) if _hasher.check_needs_rehash(stored) else None)


class LoginLimiter:
    """Failed sign-ins per (email, client address) in a sliding window; a success clears the count."""

    def __init__(self, attempts: int, window_s: float) -> None:
        self.attempts, self.window_s = attempts, window_s
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        queue = self._failures.setdefault(key, deque())
        cutoff = time.monotonic() - self.window_s
        while queue and queue[0] < cutoff:
            queue.popleft()
        return queue

    def retry_after(self, email: str, client: str) -> int:
        """Seconds until another attempt is allowed; 0 when allowed now."""
        with self._lock:
            queue = self._recent((email.casefold(), client))
            if len(queue) < self.attempts:
                return 0
            return max(1, int(queue[0] + self.window_s - time.monotonic()) + 1)

    def failed(self, email: str, client: str) -> None:
        with self._lock:
            self._recent((email.casefold(), client)).append(time.monotonic())

    def succeeded(self, email: str, client: str) -> None:
        with self._lock:
            self._failures.pop((email.casefold(), client), None)


def is_loopback(host: str) -> bool:
    name = host.rsplit(":", 1)[0].strip("[]") if host.count(":") <= 1 or host.startswith("[") else host
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class BodyLimit:
    """Answers 413 before any parser runs: on Content-Length at once, otherwise by counting the streamed body.

    FastAPI has no request-size limit of its own (fastapi #362); the multipart parser spools file parts to disk
    without bound, so this is the guard. A body without Content-Length is read up to the limit and replayed.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None:
            if not length.isdigit() or int(length) > self.max_bytes:
                await self._too_large(scope, send)
                return
            await self.app(scope, receive, send)
            return
        chunks: list[Message] = []
        size = 0
        while True:
            message = await receive()
            chunks.append(message)
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._too_large(scope, send)
                return
            if message["type"] != "http.request" or not message.get("more_body"):
                break

        async def replay() -> Message:
            return chunks.pop(0) if chunks else {"type": "http.disconnect"}

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, send: Send) -> None:
        limit_mb = self.max_bytes / 1e6
        if str(scope.get("path", "")).startswith("/api/"):
            body = ('{"detail": "upload is larger than the %g MB limit"}' % limit_mb).encode()
            kind = b"application/json"
        else:
            body = (f"<!doctype html><title>Too large</title><p>The upload is larger than the {limit_mb:g} MB "
                    f"limit. Split the catalog or leave out the images zip.</p>").encode()
            kind = b"text/html; charset=utf-8"
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close"), *_security_headers()]})
        await send({"type": "http.response.body", "body": body})


def _security_headers() -> list[tuple[bytes, bytes]]:
    return [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"), (b"x-frame-options", b"DENY")]


class SecurityHeaders:
    """The CSP (no inline script anywhere) and friends on every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def add_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [h for h in _security_headers() if h[0] not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, add_headers)
