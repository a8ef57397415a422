"""Cloudinary: a signed video upload under a deterministic public_id (a true upsert), destroy on retire.

Credentials: `CLOUDINARY_URL=cloudinary://API_KEY:API_SECRET@CLOUD_NAME` (the SDKs' convention).
Idempotency: `public_id` = `<folder>/<sku>/<sku>__<shot>__<format>`, `overwrite` + `invalidate`; before an
upload the Admin API is asked for that public_id and nothing is sent when its etag already equals our MD5.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from pydantic import BaseModel, ConfigDict

from skureel import naming
from skureel.catalog.values import slug
from skureel.publish.targets.base import (
    ClipRef,
    Deliverable,
    Remote,
    SecretLookup,
    TargetConfigError,
    TargetError,
    TargetTransient,
    base_url,
    http_problem,
    need,
    send_multipart,
)

_UNSIGNED = {"file", "cloud_name", "resource_type", "api_key", "signature"}
CHUNK_THRESHOLD = 100 * 1024 * 1024  # Cloudinary requires chunked uploads above 100 MB


def api_sign(params: dict[str, Any], secret: str, algorithm: str = "sha1") -> str:
    """pycloudinary's api_sign_request: sorted key=value of the non-empty signed params, secret appended, hex."""
    parts: list[str] = []
    for key in sorted(params):
        value = params[key]
        if key in _UNSIGNED or value is None or value == "" or value == []:
            continue
        if isinstance(value, bool):
            value = "1" if value else "0"
        elif isinstance(value, list | tuple):
            value = ",".join(str(v) for v in value)
        parts.append(f"{key}={value}")
    digest = hashlib.sha256 if algorithm == "sha256" else hashlib.sha1
    return digest(("&".join(parts) + secret).encode()).hexdigest()


def escape_context(value: str) -> str:
    """Inside context values a backslash goes before `=` and before the pipe."""
    return value.replace("\\", "\\\\").replace("=", "\\=").replace("|", "\\|")


def encode_params(params: dict[str, Any]) -> dict[str, str]:
    """What is posted (booleans as 1/0 on the Upload API, lists comma-joined): the same values that were signed."""
    out: dict[str, str] = {}
    for key, value in params.items():
        if value is None or value == "":
            continue
        if isinstance(value, bool):
            value = "1" if value else "0"
        elif isinstance(value, list | tuple):
            value = ",".join(str(v) for v in value)
        out[key] = str(value)
    return out


class CloudinaryOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    folder: str = "skureel"
    signature_algorithm: str = "sha1"
    chunk_size: int = 20_000_000
    chunk_threshold: int = CHUNK_THRESHOLD
    concurrency: int = 4
    timeout_s: float = 120.0


class CloudinaryTarget:
    name = "cloudinary"
    reencodes = True  # renditions drop the embedded C2PA manifest; the sidecar keeps it

    def __init__(self, cloud: str, api_key: str, api_secret: str, options: CloudinaryOptions,
                 client: httpx.AsyncClient | None = None) -> None:
        self.cloud, self.api_key, self._secret, self.opts = cloud, api_key, api_secret, options
        self.concurrency = options.concurrency
        self.base = base_url("cloudinary", "https://api.cloudinary.com")
        self.http = client or httpx.AsyncClient(timeout=options.timeout_s)

    @classmethod
    def from_options(cls, options: dict[str, Any], lookup: SecretLookup | None = None) -> CloudinaryTarget:
        opts = CloudinaryOptions.model_validate(options)
        url = need("cloudinary", ["CLOUDINARY_URL"], lookup)["CLOUDINARY_URL"]
        parts = urlsplit(url)
        if parts.scheme != "cloudinary" or not parts.username or not parts.password or not parts.hostname:
            raise TargetConfigError("cloudinary: CLOUDINARY_URL must look like cloudinary://API_KEY:API_SECRET@CLOUD_NAME")
        return cls(parts.hostname, parts.username, parts.password, opts)

    # helpers ----------------------------------------------------------------------------------------
    def public_id(self, ref: ClipRef) -> str:
        return naming.public_id(self.opts.folder, ref.sku, ref.shot, ref.format)

    def _signed(self, params: dict[str, Any]) -> dict[str, str]:
        params = {**params, "timestamp": int(time.time())}
        signature = api_sign(params, self._secret, self.opts.signature_algorithm)
        return {**encode_params(params), "api_key": self.api_key, "signature": signature}

    def _url(self, path: str) -> str:
        return f"{self.base}/v1_1/{self.cloud}/{path}"

    def _raise(self, response: httpx.Response) -> None:
        try:
            message = str(response.json()["error"]["message"])
        except (ValueError, KeyError, TypeError):
            message = f"HTTP {response.status_code}" + (" (HTML instead of JSON: bad credentials?)"
                                                        if "html" in response.headers.get("content-type", "") else "")
        # the server echoes its string-to-sign on a bad signature; that text holds no secret, but keep it short
        retry = response.headers.get("retry-after", "")
        raise http_problem("cloudinary", response.status_code, message[:300], float(retry) if retry.isdigit() else None)

    async def _call(self, method: str, url: str, size: int = 0, **kwargs: Any) -> httpx.Response:
        try:
            if "files" in kwargs:
                response = await send_multipart(self.http, url, size, **kwargs)
            else:
                response = await self.http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise TargetTransient(f"cloudinary: {type(exc).__name__} talking to {self.base}") from exc
        return response

    def _params(self, item: Deliverable) -> dict[str, Any]:
        tags = [f"sku-{naming.sku_key(item.sku)}", f"fmt-{item.format}", "skureel"]
        tags += [slug(item.tags[k]) for k in ("brand", "campaign") if item.tags.get(k)]
        if item.ai_generated:
            tags.append("ai-generated")
        context = {"sku": item.sku, "title": item.title, "format": item.format, "shot": item.shot,
                   "campaign": item.tags.get("campaign", ""), "content_key": item.content_key,
                   "sha256": item.sha256, "ai_generated": "true" if item.ai_generated else "false"}
        return {"public_id": self.public_id(item), "overwrite": True, "invalidate": True, "tags": tags,
                "context": "|".join(f"{k}={escape_context(v)}" for k, v in context.items() if v),
                "display_name": f"{item.title or item.sku} {item.format}"}

    @staticmethod
    def _remote(data: dict[str, Any], same: bool = False) -> Remote:
        return Remote(remote_id=str(data["public_id"]), url=str(data.get("secure_url") or data.get("url") or ""),
                      same_bytes=same, info={"version": str(data.get("version", "")), "etag": str(data.get("etag", ""))})

    # protocol ---------------------------------------------------------------------------------------
    async def find(self, item: Deliverable) -> Remote | None:
        url = self._url(f"resources/video/upload/{quote(self.public_id(item), safe='/')}")
        response = await self._call("GET", url, auth=(self.api_key, self._secret))
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            self._raise(response)
        data = response.json()
        return self._remote(data, same=str(data.get("etag", "")) == item.md5())

    async def publish(self, item: Deliverable, previous: Remote | None) -> Remote:
        params = self._params(item)
        if item.bytes <= self.opts.chunk_threshold:
            with item.path.open("rb") as handle:
                response = await self._call("POST", self._url("video/upload"), item.bytes, data=self._signed(params),
                                            files={"file": (item.path.name, handle, "video/mp4")})
            if response.status_code != 200:
                self._raise(response)
            return self._remote(response.json())
        return await self._chunked(item, params)

    async def _chunked(self, item: Deliverable, params: dict[str, Any]) -> Remote:
        """Sequential parts, each re-signed with a fresh timestamp, under one X-Unique-Upload-Id."""
        upload_id = uuid.uuid4().hex
        total, start = item.bytes, 0
        with item.path.open("rb") as handle:
            while start < total:
                chunk = handle.read(self.opts.chunk_size)
                end = start + len(chunk) - 1
                headers = {"X-Unique-Upload-Id": upload_id, "Content-Range": f"bytes {start}-{end}/{total}"}
                response = await self._call("POST", self._url("video/upload"), len(chunk), data=self._signed(params),
                                            files={"file": (item.path.name, chunk, "video/mp4")}, headers=headers)
                if response.status_code != 200:
                    self._raise(response)
                start = end + 1
        data = response.json()
        if data.get("done") is False:
            raise TargetTransient("cloudinary: the last chunk was not acknowledged as the end of the upload")
        return self._remote(data)

    async def settle(self, item: Deliverable, remote: Remote, previous: Remote | None) -> Remote:
        if previous is not None and previous.remote_id != remote.remote_id:
            await self.retire(item, previous)  # a public_id scheme change: drop the old asset
        return remote

    async def retire(self, ref: ClipRef, remote: Remote) -> None:
        response = await self._call("POST", self._url("video/destroy"),
                                    data=self._signed({"public_id": remote.remote_id, "invalidate": True}))
        if response.status_code != 200:
            self._raise(response)
        result = response.json().get("result")
        if result not in ("ok", "not found"):
            raise TargetError(f"cloudinary: destroy of {remote.remote_id} answered {result!r}")

    async def aclose(self) -> None:
        await self.http.aclose()
