"""The publish-target protocol, the values it passes and the one error tree targets raise.

A target is small (like an httpx transport): `find` what already carries our key, `publish` a deliverable,
`settle` it (wait until the remote says READY, then drop what it replaced) and `retire` it. Vendor JSON stays in
each target's own file; the runner (runner.py) owns ordering, state and retries.

Errors, translated at each target's edge::

    TargetError                      one clear line, never a secret
     ├── TargetConfigError           missing or bad credentials / configuration: nothing is retried
     ├── TargetRejected              the vendor refused this item (userErrors, 4xx): the item fails, others go on
     │    └── TargetProcessingFailed the vendor stored the file but could not process it (media errors in words)
     └── TargetTransient             5xx, network, a dropped answer: retried with backoff
          └── TargetThrottled        429 / THROTTLED / 420: retried after `retry_after` seconds
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

import httpx
from pydantic import BaseModel, ConfigDict, Field

from skureel import naming
from skureel.domain import SkureelError

SecretLookup = Callable[[str], str | None]
T = TypeVar("T")


class TargetError(SkureelError):
    pass


class TargetConfigError(TargetError):
    pass


class TargetRejected(TargetError):
    pass


class TargetProcessingFailed(TargetRejected):
    pass


class TargetTransient(TargetError):
    pass


class TargetThrottled(TargetTransient):
    def __init__(self, message: str, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ClipRef(BaseModel):
    """What names one published clip everywhere: (sku, shot, format)."""

    model_config = ConfigDict(frozen=True)
    sku: str
    shot: str
    format: str

    @property
    def key(self) -> str:
        """Stable naming key used for remote ids (public_id, filenames, tags)."""
        return clip_stem(self.sku, self.shot, self.format)


class Deliverable(ClipRef):
    """One manifest row as a target sees it: the local file plus the metadata a DAM can hold."""

    path: Path
    sha256: str
    bytes: int
    content_key: str = ""
    title: str = ""
    description: str = ""
    uri: str = ""
    tags: dict[str, str] = Field(default_factory=dict)
    ai_generated: bool = False
    provider: str = ""
    model: str = ""
    duration_s: float = 0.0
    width: int = 0
    height: int = 0
    seed: int | None = None
    source_image: str = ""  # the SKU photo, when the manifest names it (a C2PA ingredient)

    def md5(self) -> str:
        """Cloudinary's etag is the MD5 of the bytes it stores."""
        digest = hashlib.md5(usedforsecurity=False)
        with self.path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()

    @property
    def alt(self) -> str:
        ratio = self.format.replace("x", ":")
        text = f"{self.title or self.sku}: {ratio} product video" + (" (AI-generated)" if self.ai_generated else "")
        return text[:512]


class Remote(BaseModel):
    """What a target holds for one clip."""

    remote_id: str
    url: str = ""
    status: str = "ready"  # uploaded | processing | ready
    same_bytes: bool = False  # find(): the remote already holds exactly our file
    info: dict[str, str] = Field(default_factory=dict)


@runtime_checkable
class PublishTarget(Protocol):
    name: str

    async def find(self, item: Deliverable) -> Remote | None:
        """The remote media carrying our key, if any (before every upload: a killed publish may have made it)."""

    async def publish(self, item: Deliverable, previous: Remote | None) -> Remote:
        """Upload and attach the file; `previous` is what it replaces (kept until `settle`)."""

    async def settle(self, item: Deliverable, remote: Remote, previous: Remote | None) -> Remote:
        """Wait until the remote says READY, then remove `previous` if the vendor cannot replace in place."""

    async def retire(self, ref: ClipRef, remote: Remote) -> None:
        """Remove (or unpublish) the clip remotely; a missing remote is not an error."""

    async def aclose(self) -> None: ...


@runtime_checkable
class BatchAware(Protocol):
    async def batch_finished(self, summary: dict[str, Any]) -> None: ...


def clip_stem(sku: str, shot: str, fmt: str) -> str:
    return naming.clip_stem(sku, shot, fmt)  # catalog values become remote names only through skureel.naming


def credential(key: str, lookup: SecretLookup | None) -> str | None:
    """Vendor convention first (the environment), then a Prefect Secret block of the same name in lower case."""
    value = os.environ.get(key)
    if not value and lookup is not None:
        value = lookup(key.lower().replace("_", "-"))
    return value or None


def need(target: str, keys: list[str], lookup: SecretLookup | None) -> dict[str, str]:
    found = {k: credential(k, lookup) for k in keys}
    missing = [k for k, v in found.items() if not v]
    if missing:
        raise TargetConfigError(f"{target}: set {' and '.join(missing)} (or a Prefect Secret block named "
                                f"{', '.join(k.lower().replace('_', '-') for k in missing)})")
    return {k: str(v) for k, v in found.items()}


def base_url(target: str, default: str) -> str:
    """`SKUREEL_<TARGET>_BASE_URL` points a target at another host (a fake), as for providers."""
    return (os.environ.get(f"SKUREEL_{target.upper()}_BASE_URL") or default).rstrip("/")


async def with_retries(call: Callable[[], Awaitable[T]], *, attempts: int = 5, base_s: float = 0.2,
                       cap_s: float = 8.0, throttle_s: float = 1800.0,
                       sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> T:
    """Retry transient failures with exponential backoff and jitter. A throttle is flow control, not a failure:
    it waits what the vendor asked (Bynder's block lasts 5 minutes) and uses no attempt, up to `throttle_s` in all."""
    attempt, throttled = 0, 0.0
    while True:
        try:
            return await call()
        except TargetThrottled as exc:
            wait = min(900.0, max(exc.retry_after, 0.05)) * (1 + random.random() * 0.25)
            throttled += wait
            if throttled > throttle_s:
                raise
            await sleep(wait)
        except TargetTransient:
            attempt += 1
            if attempt >= attempts:
                raise
            await sleep(min(cap_s, base_s * 2 ** (attempt - 1)) * (0.5 + random.random()))


BUFFER_LIMIT = 16 * 1024 * 1024


async def send_multipart(client: httpx.AsyncClient, url: str, size: int, **kwargs: Any) -> httpx.Response:
    """POST a multipart form; a small one goes out as one buffer (httpx streams every form part as its own
    socket write, dozens per upload, which on 2 cores costs more than the bytes)."""
    request = client.build_request("POST", url, **kwargs)
    if size <= BUFFER_LIMIT:
        request.read()
    return await client.send(request)


def http_problem(target: str, status: int, message: str, retry_after: float | None = None) -> TargetError:
    """Map an HTTP status onto the tree (vendor-specific bodies are read by each target first)."""
    text = f"{target}: {message}" if message else f"{target}: HTTP {status}"
    if status in (401, 403):
        return TargetConfigError(f"{text} (check the credentials)" if status == 401 else text)
    if status in (420, 429):
        return TargetThrottled(text, retry_after if retry_after is not None else 1.0)
    if status >= 500 or status == 408:
        return TargetTransient(text)
    return TargetRejected(text)
