"""Notify a DAM/CMS that a run published: a JSON POST signed with HMAC-SHA256 (header X-Skureel-Signature).

The receiver recomputes hex(HMAC-SHA256(secret, timestamp + "." + body)) and compares in constant time; the
timestamp header lets it refuse replays. Failures are retried a few times and then reported, never fatal.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import httpx


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def notify(url: str, secret: str | None, payload: dict[str, Any], attempts: int = 3, timeout_s: float = 10.0) -> str | None:
    """Returns None on success, else a one-line reason."""
    body = json.dumps(payload, default=str, separators=(",", ":")).encode()
    reason = "not sent"
    for attempt in range(attempts):
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "X-Skureel-Timestamp": timestamp,
                   "User-Agent": "skureel-webhook/1"}
        if secret:
            headers["X-Skureel-Signature"] = "sha256=" + sign(secret, timestamp, body)
        try:
            response = httpx.post(url, content=body, headers=headers, timeout=timeout_s)
            if response.status_code < 300:
                return None
            reason = f"HTTP {response.status_code}"
            if response.status_code < 500 and response.status_code != 429:
                break
        except httpx.HTTPError as exc:
            reason = type(exc).__name__
        time.sleep(min(4.0, 0.5 * 2**attempt))
    return f"webhook to {url} failed: {reason}"
