"""The Shopify target's wire layer: its GraphQL documents, the three error layers and query-cost throttling.

Layers (reference/dam.md §1): HTTP status (401 token, 403 scope, 423 locked, 429, 5xx); top-level `errors`
(THROTTLED detected in the body at ANY status); payload `userErrors`. The leaky bucket is read from
`extensions.cost.throttleStatus` on every answer and honoured before the next call.
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any

import httpx

from skureel.publish.targets.base import (
    TargetConfigError,
    TargetRejected,
    TargetThrottled,
    TargetTransient,
    http_problem,
    send_multipart,
)

VARIANTS = """query SkuVariants($q: String!) {
  productVariants(first: 5, query: $q) { nodes { id sku product { id handle title } } }
}"""

PRODUCT = """query SkureelProduct($id: ID!, $ns: String!, $key: String!) {
  product(id: $id) {
    id
    metafield(namespace: $ns, key: $key) { value compareDigest }
    media(first: 100) { nodes { id alt mediaContentType status ... on Video { filename originalSource { url } } } }
  }
}"""

STAGE = """mutation SkureelStage($input: [StagedUploadInput!]!) {
  stagedUploadsCreate(input: $input) {
    stagedTargets { url resourceUrl parameters { name value } }
    userErrors { field message }
  }
}"""

ATTACH = """mutation SkureelAttach($product: ProductUpdateInput!, $media: [CreateMediaInput!]) {
  productUpdate(product: $product, media: $media) {
    product { id media(last: 10) { nodes { id status mediaContentType ... on Video { filename } } } }
    userErrors { field message }
  }
}"""

POLL = """query SkureelPoll($id: ID!) {
  node(id: $id) {
    ... on Video {
      id status fileStatus filename duration
      mediaErrors { code details message }
      fileErrors { code details message }
      sources { url mimeType format width height fileSize }
      originalSource { url mimeType format width height fileSize }
    }
  }
}"""

DELETE = """mutation SkureelDelete($ids: [ID!]!) {
  fileDelete(fileIds: $ids) { deletedFileIds userErrors { field message code } }
}"""

METAFIELD = """query SkureelMetafield($id: ID!, $ns: String!, $key: String!) {
  product(id: $id) { id metafield(namespace: $ns, key: $key) { value compareDigest } }
}"""

METAFIELDS = """mutation SkureelMetafields($m: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $m) { metafields { id compareDigest } userErrors { field message code } }
}"""


_SIZED = re.compile(r"\b(?:first|last):\s*(\d+)")


def estimate_cost(query: str) -> float:
    """Shopify's calculated cost, roughly: 1 per object, N per connection of size N, 10 for a mutation."""
    return (10.0 if query.lstrip().startswith("mutation") else 1.0) + sum(int(n) for n in _SIZED.findall(query))


def user_errors(operation: str, payload: dict[str, Any]) -> None:
    errors = payload.get("userErrors") or payload.get("mediaUserErrors") or []
    if errors:
        text = "; ".join(f"{'.'.join(e.get('field') or []) or '-'}: {e.get('message')}" for e in errors[:3])
        raise TargetRejected(f"shopify: {operation} refused it ({text})")


class Api:
    def __init__(self, endpoint: str, token: str, client: httpx.AsyncClient) -> None:
        self.endpoint, self._token, self.client = endpoint, token, client
        self._available: float | None = None
        self._restore = 100.0
        self._seen = time.monotonic()

    async def _pace(self, cost: float) -> None:
        """Wait until the bucket (as the last answer described it, minus what we sent since) holds `cost`.
        The estimate is reserved before sending, so concurrent callers queue instead of all being throttled."""
        while self._available is not None:
            now = time.monotonic()
            self._available += (now - self._seen) * self._restore
            self._seen = now
            if self._available >= cost:
                self._available -= cost
                return
            await asyncio.sleep((cost - self._available) / self._restore)

    async def call(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        await self._pace(estimate_cost(query))
        try:
            response = await self.client.post(self.endpoint, json={"query": query, "variables": variables},
                                              headers={"X-Shopify-Access-Token": self._token})
        except httpx.HTTPError as exc:
            raise TargetTransient(f"shopify: {type(exc).__name__} talking to the Admin API") from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        cost = (body or {}).get("extensions", {}).get("cost") if isinstance(body, dict) else None
        if cost:
            status = cost.get("throttleStatus") or {}
            self._available = float(status.get("currentlyAvailable", 0))
            self._restore = float(status.get("restoreRate", 100) or 100)
            self._seen = time.monotonic()
        errors = body.get("errors") if isinstance(body, dict) else None
        if isinstance(errors, list) and any((e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors):
            requested = float((cost or {}).get("requestedQueryCost") or 50)
            wait = max(0.05, (requested - (self._available or 0.0)) / self._restore)
            retry = response.headers.get("retry-after", "")
            raise TargetThrottled("shopify: throttled (query cost)", float(retry) if retry.isdigit() else wait)
        if response.status_code == 401:
            raise TargetConfigError("shopify: the store refused SHOPIFY_ACCESS_TOKEN (401); check the token")
        if response.status_code == 403:
            raise TargetConfigError("shopify: the token lacks a scope (403); it needs write_products and write_files")
        if response.status_code == 404:
            raise TargetConfigError("shopify: no such store or API version (404); check SHOPIFY_STORE_DOMAIN")
        if response.status_code == 423:
            raise TargetConfigError("shopify: the store is locked (423) after repeated rate-limit abuse")
        if response.status_code != 200:
            message = str(errors)[:200] if errors else ""
            raise http_problem("shopify", response.status_code, message)
        if errors:
            text = "; ".join(str(e.get("message")) for e in errors[:3])
            if any((e.get("extensions") or {}).get("code") == "ACCESS_DENIED" for e in errors):
                raise TargetConfigError(f"shopify: access denied ({text})")
            raise TargetRejected(f"shopify: {text}")
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise TargetTransient("shopify: an answer without data")
        return data

    async def upload(self, target: dict[str, Any], path: Path, filename: str) -> None:
        """Multipart POST to the staged URL: every parameter in the given order, the file LAST, no token."""
        fields = [(p["name"], (None, p["value"])) for p in target["parameters"]]
        with path.open("rb") as handle:
            files: list[tuple[str, Any]] = [*fields, ("file", (filename, handle, "video/mp4"))]
            try:
                response = await send_multipart(self.client, target["url"], path.stat().st_size, files=files)
            except httpx.HTTPError as exc:
                raise TargetTransient(f"shopify: {type(exc).__name__} uploading to the staged URL") from exc
        if response.status_code >= 300:
            code = _xml_text(response.text, "Code") or f"HTTP {response.status_code}"
            message = _xml_text(response.text, "Message")
            error = http_problem("shopify", response.status_code, f"staged upload refused: {code} {message}".strip())
            raise error


def _xml_text(text: str, tag: str) -> str:
    start, end = text.find(f"<{tag}>"), text.find(f"</{tag}>")
    return text[start + len(tag) + 2 : end] if 0 <= start < end else ""
