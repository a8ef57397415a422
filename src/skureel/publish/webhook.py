"""Outgoing webhooks after the Standard Webhooks 1.0 spec (reference/dam.md §4).

Each event is a JSON POST with three headers: `webhook-id` (the idempotency key, the SAME on every retry),
`webhook-timestamp` (Unix seconds of this attempt) and `webhook-signature` (`v1,` + base64 HMAC-SHA256 of
`{id}.{timestamp}.{body}` under the key that `whsec_<base64>` encodes). A receiver verifies with any Standard
Webhooks library. Retries: exponential backoff with jitter on 429, 5xx and network errors, honouring
`retry-after`; 2xx is success, 3xx and other 4xx are failures (never followed), 410 means "stop sending".

A secret without the `whsec_` prefix is a legacy secret of the earlier skureel webhook: it is used as raw key
bytes for `webhook-signature`, and the legacy `X-Skureel-Signature` header is sent too, so receivers built
against the old header keep working while they move to the standard one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

TOLERANCE_S = 5 * 60


class WebhookVerificationError(Exception):
    pass


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_key(secret: str) -> bytes:
    if secret.startswith("whsec_"):
        return base64.b64decode(secret.removeprefix("whsec_"))
    return secret.encode()


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64>` over `{msg_id}.{timestamp}.{body}`: the spec's signed content, bytes as sent."""
    mac = hmac.new(secret_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def verify(secret: str, headers: dict[str, str], body: bytes, now: float | None = None) -> dict[str, Any]:
    """Receiver side, for tests and for users: raises WebhookVerificationError, returns the parsed payload."""
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        msg_id, stamp, signatures = lower["webhook-id"], lower["webhook-timestamp"], lower["webhook-signature"]
        timestamp = int(stamp)
    except (KeyError, ValueError) as exc:
        raise WebhookVerificationError("missing or malformed webhook headers") from exc
    current = time.time() if now is None else now
    if timestamp < current - TOLERANCE_S:
        raise WebhookVerificationError("message timestamp too old")
    if timestamp > current + TOLERANCE_S:
        raise WebhookVerificationError("message timestamp too new")
    expected = signature(secret, msg_id, timestamp, body).partition(",")[2]
    for entry in signatures.split(" "):
        version, _, value = entry.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return dict(json.loads(body))
    raise WebhookVerificationError("no matching signature")


def legacy_sign(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


# kept under its old name for existing callers
sign = legacy_sign


def event(kind: str, data: dict[str, Any], at: datetime | None = None) -> dict[str, Any]:
    """The spec's payload convention: type, ISO 8601 event time (not the attempt time), data."""
    when = (at or datetime.now(UTC)).isoformat().replace("+00:00", "Z")
    return {"type": kind, "timestamp": when, "data": data}


def deliver(url: str, secret: str | None, msg_id: str, payload: dict[str, Any], *, attempts: int = 4,
            timeout_s: float = 15.0, client: httpx.Client | None = None,
            sleep: Callable[[float], None] = time.sleep) -> str | None:
    """POST one event, retried with the same webhook-id; None on success, else a one-line reason."""
    if "." in msg_id:
        raise ValueError("a webhook-id may not contain '.'")
    body = json.dumps(payload, default=str, separators=(",", ":"), ensure_ascii=False).encode()
    reason = "not sent"
    own = client is None
    http = client or httpx.Client(timeout=timeout_s, follow_redirects=False)
    try:
        for attempt in range(attempts):
            stamp = int(time.time())
            headers = {"content-type": "application/json", "user-agent": "skureel-webhook/2",
                       "webhook-id": msg_id, "webhook-timestamp": str(stamp)}
            if secret:
                headers["webhook-signature"] = signature(secret, msg_id, stamp, body)
                if not secret.startswith("whsec_"):
                    headers["X-Skureel-Timestamp"] = str(stamp)
                    headers["X-Skureel-Signature"] = "sha256=" + legacy_sign(secret, str(stamp), body)
            wait = min(30.0, 0.5 * 2**attempt) * (0.5 + random.random())
            try:
                response = http.post(url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                reason = type(exc).__name__
            else:
                if 200 <= response.status_code < 300:
                    return None
                reason = f"HTTP {response.status_code}"
                if response.status_code == 410:
                    return f"webhook to {url} failed: HTTP 410 (the receiver asked us to stop sending)"
                if response.status_code < 500 and response.status_code not in (408, 429):
                    break
                retry_after = response.headers.get("retry-after", "")
                if retry_after.isdigit():
                    wait = min(60.0, float(retry_after))
            if attempt < attempts - 1:
                sleep(wait)
    finally:
        if own:
            http.close()
    return f"webhook to {url} failed: {reason}"


def notify(url: str, secret: str | None, payload: dict[str, Any], attempts: int = 3, timeout_s: float = 10.0) -> str | None:
    """The run's end-of-run notification (pipeline/refresh.py): the caller's payload as one Standard Webhooks
    delivery with a fresh id (the publish targets send typed `clip.*` / `batch.finished` events)."""
    return deliver(url, secret, "msg_" + secrets.token_hex(12), payload, attempts=attempts, timeout_s=timeout_s)
