"""Shopify product media over the Admin GraphQL API (version pinned), per reference/dam.md §1.

Credentials: `SHOPIFY_STORE_DOMAIN` + `SHOPIFY_ACCESS_TOKEN` (header `X-Shopify-Access-Token`).
Flow: product by SKU (`productVariants`) -> `stagedUploadsCreate` (VIDEO, exact fileSize) -> multipart POST,
the file last -> `productUpdate` media -> poll `node` to READY / FAILED. Video bytes cannot be replaced in place,
so a re-publish uploads new, waits READY, deletes the old file, then updates the `skureel.videos` metafield
(shot, format -> media id, sha256, content key). The staged filename `<key>-<sha16>.mp4` lets a resumed publish
find what a killed one attached even before the metafield was written.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict

from skureel.publish.targets import _shopify_gql as gql
from skureel.publish.targets.base import (
    ClipRef,
    Deliverable,
    Remote,
    SecretLookup,
    TargetProcessingFailed,
    TargetRejected,
    TargetTransient,
    base_url,
    need,
)

API_VERSION = "2025-07"
NAMESPACE, KEY = "skureel", "videos"


class ShopifyOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    api_version: str = API_VERSION
    poll_s: float = 5.0  # third-party clients poll videos every 5 s
    ready_timeout_s: float = 900.0
    concurrency: int = 4
    timeout_s: float = 120.0


class ShopifyTarget:
    name = "shopify"
    reencodes = True  # renditions drop the embedded C2PA manifest; the sidecar keeps it

    def __init__(self, domain: str, token: str, options: ShopifyOptions, client: httpx.AsyncClient | None = None) -> None:
        self.opts = options
        self.concurrency = options.concurrency
        root = base_url("shopify", f"https://{domain}")
        self.api = gql.Api(f"{root}/admin/api/{options.api_version}/graphql.json", token,
                           client or httpx.AsyncClient(timeout=options.timeout_s))
        self._products: dict[str, str] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @classmethod
    def from_options(cls, options: dict[str, Any], lookup: SecretLookup | None = None) -> ShopifyTarget:
        opts = ShopifyOptions.model_validate(options)
        creds = need("shopify", ["SHOPIFY_STORE_DOMAIN", "SHOPIFY_ACCESS_TOKEN"], lookup)
        domain = creds["SHOPIFY_STORE_DOMAIN"].removeprefix("https://").rstrip("/")
        return cls(domain, creds["SHOPIFY_ACCESS_TOKEN"], opts)

    # helpers ----------------------------------------------------------------------------------------
    @staticmethod
    def filename(item: Deliverable) -> str:
        return f"{item.key}-{item.sha256[:16]}.mp4"

    async def product_id(self, sku: str) -> str:
        if sku in self._products:
            return self._products[sku]
        data = await self.api.call(gql.VARIANTS, {"q": f'sku:"{sku}"'})
        nodes = [n for n in data["productVariants"]["nodes"] if n.get("sku") == sku]
        products = sorted({n["product"]["id"] for n in nodes})
        if not products:
            raise TargetRejected(f"shopify: no product has a variant with SKU {sku}")
        if len(products) > 1:
            raise TargetRejected(f"shopify: SKU {sku} is on {len(products)} products; make it unique first")
        product_id = str(products[0])
        self._products[sku] = product_id
        return product_id

    async def _product(self, pid: str) -> dict[str, Any]:
        data = await self.api.call(gql.PRODUCT, {"id": pid, "ns": NAMESPACE, "key": KEY})
        product: dict[str, Any] | None = data.get("product")
        if product is None:
            raise TargetRejected(f"shopify: product {pid} no longer exists")
        return product

    @staticmethod
    def _entries(product: dict[str, Any]) -> dict[str, Any]:
        field = product.get("metafield") or {}
        try:
            value = json.loads(field.get("value") or "{}")
        except ValueError:
            value = {}
        return value if isinstance(value, dict) else {}

    # protocol ---------------------------------------------------------------------------------------
    async def find(self, item: Deliverable) -> Remote | None:
        product = await self._product(await self.product_id(item.sku))
        media = {m["id"]: m for m in product["media"]["nodes"]}
        ours = self.filename(item)
        for node in media.values():  # what a killed publish attached, with exactly our bytes
            if node.get("filename") == ours and node.get("status") != "FAILED":
                return Remote(remote_id=node["id"], status=str(node.get("status", "")).lower(), same_bytes=True,
                              url=_preview(node))
        entry = self._entries(product).get(item.key)
        if entry and entry.get("media_id") in media:
            node = media[entry["media_id"]]
            return Remote(remote_id=node["id"], url=_preview(node), same_bytes=entry.get("sha256") == item.sha256)
        return None

    async def publish(self, item: Deliverable, previous: Remote | None) -> Remote:
        pid = await self.product_id(item.sku)
        staged = await self.api.call(gql.STAGE, {"input": [{
            "filename": self.filename(item), "mimeType": "video/mp4", "resource": "VIDEO",
            "fileSize": str(item.bytes), "httpMethod": "POST"}]})
        gql.user_errors("stagedUploadsCreate", staged["stagedUploadsCreate"])
        target = staged["stagedUploadsCreate"]["stagedTargets"][0]
        await self.api.upload(target, item.path, self.filename(item))
        attached = await self.api.call(gql.ATTACH, {"product": {"id": pid}, "media": [{
            "originalSource": target["resourceUrl"], "mediaContentType": "VIDEO", "alt": item.alt}]})
        gql.user_errors("productUpdate", attached["productUpdate"])
        for node in attached["productUpdate"]["product"]["media"]["nodes"]:
            if node.get("filename") == self.filename(item):
                return Remote(remote_id=node["id"], status=str(node.get("status", "uploaded")).lower())
        raise TargetTransient("shopify: the new video is not among the product's media yet")

    async def settle(self, item: Deliverable, remote: Remote, previous: Remote | None) -> Remote:
        pid = await self.product_id(item.sku)
        node = await self._wait_ready(remote.remote_id)
        if node["status"] == "FAILED":
            errors = "; ".join(f"{e.get('code')}: {e.get('message') or e.get('details')}"
                               for e in (node.get("mediaErrors") or node.get("fileErrors") or [])) or "no reason given"
            await self._delete([remote.remote_id])  # keep the old video: it is still the product's
            raise TargetProcessingFailed(f"shopify: processing {item.key} failed ({errors})")
        url = ((node.get("originalSource") or {}).get("url") or
               next((s["url"] for s in node.get("sources") or []), ""))
        if previous is not None:
            await self._delete([previous.remote_id])  # only now that the new one is READY
        await self._record(pid, item.key, {"media_id": remote.remote_id, "sha256": item.sha256,
                                            "content_key": item.content_key, "shot": item.shot, "format": item.format,
                                            "ai_generated": item.ai_generated,
                                            "published_at": datetime.now(UTC).isoformat(timespec="seconds")},
                           item.ai_generated)
        return Remote(remote_id=remote.remote_id, url=url, status="ready")

    async def retire(self, ref: ClipRef, remote: Remote) -> None:
        await self._delete([remote.remote_id])
        try:
            pid = await self.product_id(ref.sku)
        except TargetRejected:
            return  # the product itself is gone: nothing left to tidy
        await self._record(pid, ref.key, None, None)

    async def aclose(self) -> None:
        await self.api.client.aclose()

    # steps ------------------------------------------------------------------------------------------
    async def _wait_ready(self, media_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.opts.ready_timeout_s
        while True:
            data = await self.api.call(gql.POLL, {"id": media_id})
            node = data.get("node")
            if node is None:
                raise TargetRejected(f"shopify: media {media_id} disappeared while processing")
            if node.get("status") in ("READY", "FAILED"):
                return dict(node)
            if time.monotonic() > deadline:
                raise TargetTransient(f"shopify: media {media_id} still {node.get('status')} after "
                                      f"{self.opts.ready_timeout_s:g}s")
            await asyncio.sleep(self.opts.poll_s)

    async def _delete(self, ids: list[str]) -> None:
        data = await self.api.call(gql.DELETE, {"ids": ids})
        errors = [e for e in data["fileDelete"]["userErrors"] if e.get("code") != "FILE_DOES_NOT_EXIST"]
        gql.user_errors("fileDelete", {"userErrors": errors})

    async def _record(self, pid: str, key: str, entry: dict[str, Any] | None, ai: bool | None) -> None:
        """Read-modify-write of the product's bookkeeping metafield, with compareDigest against lost updates."""
        lock = self._locks.setdefault(pid, asyncio.Lock())
        async with lock:
            for _ in range(5):
                data = await self.api.call(gql.METAFIELD, {"id": pid, "ns": NAMESPACE, "key": KEY})
                product = data.get("product") or {}
                entries = self._entries(product)
                if entry is None:
                    entries.pop(key, None)
                else:
                    entries[key] = entry
                digest = (product.get("metafield") or {}).get("compareDigest")
                fields: list[dict[str, Any]] = [{"ownerId": pid, "namespace": NAMESPACE, "key": KEY, "type": "json",
                                                 "value": json.dumps(entries, sort_keys=True), "compareDigest": digest}]
                if ai is not None:
                    any_ai = ai or any(bool(e.get("ai_generated")) for e in entries.values())
                    fields.append({"ownerId": pid, "namespace": NAMESPACE, "key": "ai_generated", "type": "boolean",
                                   "value": "true" if any_ai else "false"})
                data = await self.api.call(gql.METAFIELDS, {"m": fields})
                errors = data["metafieldsSet"]["userErrors"]
                if any(e.get("code") == "STALE_OBJECT" for e in errors):
                    continue  # someone else wrote in between: read again
                gql.user_errors("metafieldsSet", data["metafieldsSet"])
                return
            raise TargetTransient("shopify: the skureel.videos metafield kept changing under us")


def _preview(node: dict[str, Any]) -> str:
    return str((node.get("originalSource") or {}).get("url") or "")
