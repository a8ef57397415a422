"""Bynder: OAuth2 client credentials, the FS upload (prepare -> chunks -> finalise) and save as a new asset or
as a new version of the asset that already carries our key (tag `ck-<hash of key>`), per reference/dam.md §3.

Credentials: `BYNDER_DOMAIN` + `BYNDER_CLIENT_ID` + `BYNDER_CLIENT_SECRET`. Saves are not idempotent, so the
runner searches by our tag before every upload (a save whose answer was lost is found, not repeated). A 429
blocks the source IP until 5 minutes pass with NO requests: every request of this target waits out the block.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from skureel import naming
from skureel.catalog.values import slug
from skureel.publish.targets.base import (
    ClipRef,
    Deliverable,
    Remote,
    SecretLookup,
    TargetConfigError,
    TargetThrottled,
    TargetTransient,
    base_url,
    http_problem,
    need,
)


class BynderOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    brand_id: str = ""
    metaproperties: dict[str, str] = Field(default_factory=dict)  # sku|format|shot|campaign|ai_generated -> id
    chunk_size: int = 5 * 1024 * 1024
    block_s: float = 300.0  # how long a 429 block lasts once requests stop
    concurrency: int = 4
    timeout_s: float = 120.0


class BynderTarget:
    name = "bynder"

    def __init__(self, domain: str, client_id: str, client_secret: str, options: BynderOptions,
                 client: httpx.AsyncClient | None = None) -> None:
        self.opts, self.concurrency = options, options.concurrency
        self._id, self._secret = client_id, client_secret
        self.base = base_url("bynder", f"https://{domain.removeprefix('https://').rstrip('/')}")
        self.http = client or httpx.AsyncClient(timeout=options.timeout_s)
        self._token = ""
        self._expires = 0.0
        self._token_lock = asyncio.Lock()
        self._blocked_until = 0.0

    @classmethod
    def from_options(cls, options: dict[str, Any], lookup: SecretLookup | None = None) -> BynderTarget:
        opts = BynderOptions.model_validate(options)
        creds = need("bynder", ["BYNDER_DOMAIN", "BYNDER_CLIENT_ID", "BYNDER_CLIENT_SECRET"], lookup)
        if not opts.brand_id:
            raise TargetConfigError("bynder: set `brand_id` under bynder in targets.yaml (new assets need a brand)")
        return cls(creds["BYNDER_DOMAIN"], creds["BYNDER_CLIENT_ID"], creds["BYNDER_CLIENT_SECRET"], opts)

    # plumbing ---------------------------------------------------------------------------------------
    async def _token_value(self) -> str:
        async with self._token_lock:
            if self._token and time.monotonic() < self._expires - 60:
                return self._token
            response = await self._send("POST", "/v6/authentication/oauth2/token", auth=False, data={
                "grant_type": "client_credentials", "client_id": self._id, "client_secret": self._secret,
                "scope": "asset:read asset:write"})
            if response.status_code in (400, 401):
                raise TargetConfigError("bynder: the portal refused BYNDER_CLIENT_ID / BYNDER_CLIENT_SECRET "
                                        f"({_message(response)})")
            self._check(response)
            body = response.json()
            self._token, self._expires = str(body["access_token"]), time.monotonic() + float(body.get("expires_in", 3600))
            return self._token

    async def _send(self, method: str, path: str, *, auth: bool = True, **kwargs: Any) -> httpx.Response:
        wait = self._blocked_until - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)  # knocking during a block extends it
        headers = dict(kwargs.pop("headers", {}))
        if auth:
            headers["Authorization"] = f"Bearer {await self._token_value()}"
        try:
            response = await self.http.request(method, f"{self.base}{path}", headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise TargetTransient(f"bynder: {type(exc).__name__} talking to {self.base}") from exc
        if response.status_code == 429:
            self._blocked_until = time.monotonic() + self.opts.block_s
            raise TargetThrottled("bynder: rate limited (429); waiting for the block to lift", self.opts.block_s)
        return response

    def _check(self, response: httpx.Response, *ok: int) -> None:
        if response.status_code in (ok or (200, 201, 202, 204)):
            return
        if response.status_code == 403:
            raise TargetConfigError("bynder: access denied (403): the user needs the MEDIAUPLOAD role as well as "
                                    "the asset:write scope")
        raise http_problem("bynder", response.status_code, _message(response))

    def _tags(self, item: Deliverable) -> list[str]:
        tags = [_key_tag(item), f"sha-{item.sha256[:16]}", f"sku-{naming.sku_key(item.sku).lower()}",
                f"fmt-{item.format}", "skureel"]
        tags += [slug(item.tags[k]).lower() for k in ("brand", "campaign") if item.tags.get(k)]
        return tags + (["ai-generated"] if item.ai_generated else [])

    def _meta(self, item: Deliverable) -> dict[str, str]:
        values = {"sku": item.sku, "format": item.format, "shot": item.shot, "campaign": item.tags.get("campaign", ""),
                  "ai_generated": "true" if item.ai_generated else "false"}
        return {f"metaproperty.{pid}": values[name] for name, pid in self.opts.metaproperties.items()
                if values.get(name)}

    # protocol ---------------------------------------------------------------------------------------
    async def find(self, item: Deliverable) -> Remote | None:
        response = await self._send("GET", "/api/v4/media/", params={"tags": _key_tag(item),
                                                                     "type": "video", "limit": 10})
        self._check(response)
        media = response.json()
        if not media:
            return None
        same = [m for m in media if f"sha-{item.sha256[:16]}" in (m.get("tags") or [])]
        best = (same or media)[0]
        return Remote(remote_id=str(best["id"]), url=str(best.get("original") or ""), same_bytes=bool(same))

    async def publish(self, item: Deliverable, previous: Remote | None) -> Remote:
        file_id = await self._upload(item)
        if previous is not None:
            saved = await self._save(f"/api/v4/media/{previous.remote_id}/save/{file_id}", {})
            media_id = str(saved.get("mediaid") or previous.remote_id)
            response = await self._send("POST", f"/api/v4/media/{media_id}/", data={
                "name": f"{item.title or item.sku} {item.format}", "description": item.description,
                "tags": ",".join(self._tags(item)), **self._meta(item)})
            self._check(response)
        else:
            saved = await self._save(f"/api/v4/media/save/{file_id}", {
                "brandId": self.opts.brand_id, "name": f"{item.title or item.sku} {item.format}",
                "description": item.description, "tags": ",".join(self._tags(item)), **self._meta(item)})
            media_id = str(saved["mediaid"])
        return Remote(remote_id=media_id, status="uploaded")

    async def _upload(self, item: Deliverable) -> str:
        response = await self._send("POST", "/v7/file_cmds/upload/prepare")
        self._check(response)
        file_id = str(response.json()["file_id"])
        whole = hashlib.sha256()
        count = 0
        with item.path.open("rb") as handle:
            for number, chunk in enumerate(iter(lambda: handle.read(self.opts.chunk_size), b"")):
                whole.update(chunk)
                response = await self._send("POST", f"/v7/file_cmds/upload/{file_id}/chunk/{number}", content=chunk,
                                            headers={"Content-Type": "application/octet-stream",
                                                     "Content-SHA256": hashlib.sha256(chunk).hexdigest()})
                self._check(response)
                count = number + 1
        response = await self._send("POST", f"/v7/file_cmds/upload/{file_id}/finalise_api", data={
            "fileName": f"{item.key}.mp4", "fileSize": str(item.bytes), "chunksCount": str(count),
            "sha256": whole.hexdigest()})
        self._check(response)
        return file_id

    async def _save(self, path: str, form: dict[str, str]) -> dict[str, Any]:
        for attempt in range(8):
            response = await self._send("POST", path, data=form)
            if response.status_code != 303:  # "Import not converted yet, please poll"
                self._check(response)
                body: dict[str, Any] = response.json()
                return body
            await asyncio.sleep(min(5.0, 0.2 * 2**attempt))
        raise TargetTransient("bynder: the upload was not converted in time")

    async def settle(self, item: Deliverable, remote: Remote, previous: Remote | None) -> Remote:
        response = await self._send("GET", f"/api/v4/media/{remote.remote_id}/")
        self._check(response)
        return Remote(remote_id=remote.remote_id, url=str(response.json().get("original") or ""), status="ready")

    async def retire(self, ref: ClipRef, remote: Remote) -> None:
        response = await self._send("DELETE", f"/api/v4/media/{remote.remote_id}/")
        if response.status_code != 404:
            self._check(response)

    async def aclose(self) -> None:
        await self.http.aclose()


def _key_tag(ref: ClipRef) -> str:
    # a hash of our key: Bynder tags may fold case, keys must not collide when they do
    return f"ck-{naming.short_hash(ref.key)}"


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error_description") or body.get("error") or response.status_code)
    return f"HTTP {response.status_code}"
