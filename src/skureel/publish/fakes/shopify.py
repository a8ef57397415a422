"""Fake Shopify Admin GraphQL (the operations skureel uses) plus the staged-upload storage, per dam.md §1.

No GraphQL engine: the operation is recognised by its root field and answered from `variables`, in the real
shapes, with `extensions.cost` on every answer and a leaky bucket that answers THROTTLED (HTTP 429 by default,
`throttle_status=200` to test detection in the body). Media go UPLOADED -> PROCESSING -> READY (or FAILED with
media errors under the `fail` fault). The storage enforces the policy's exact byte count and the file being the
last form field. Counters: graphql, throttled, staged, storage_uploads, media_created, media_deleted.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import secrets
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from skureel.fakefaults import DroppedResponse
from skureel.publish.fakes.common import FakeState, attach_stats

TOKEN, DOMAIN = "shpat_fake_token", "skureel-fake.myshopify.com"
CREDENTIALS = {"SHOPIFY_STORE_DOMAIN": DOMAIN, "SHOPIFY_ACCESS_TOKEN": TOKEN}
_ROOT = re.compile(r"\{\s*([A-Za-z_]\w*)")
_SIZED = re.compile(r"\b(?:first|last):\s*(\d+)")


def _cost(query: str) -> float:
    """Requested cost as Shopify calculates it, roughly: 1 per object, N per connection of N, 10 a mutation."""
    return (10.0 if query.lstrip().startswith("mutation") else 1.0) + sum(int(n) for n in _SIZED.findall(query))


def _xml_error(code: str, message: str, status: int) -> Response:
    body = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
    return Response(body, status_code=status, media_type="application/xml")


def create_app(state: FakeState, *, bucket: float = 1000.0, restore: float = 100.0, auto_products: bool = True,
               throttle_status: int = 429, processing_s: float | None = None,
               products_seed: tuple[str, ...] = ()) -> FastAPI:
    app = FastAPI(title="fake shopify")
    products: dict[str, dict[str, Any]] = {}  # gid -> product
    by_sku: dict[str, str] = {}
    media: dict[str, dict[str, Any]] = {}  # gid -> video
    staged: dict[str, dict[str, Any]] = {}  # key -> {size, filename, data}
    leaky = {"available": bucket, "at": time.monotonic()}
    seconds = state.latency_s if processing_s is None else processing_s
    attach_stats(app, state, lambda: {"live_media": len(media), "products": len(products),
                                      "media_per_product": {p["handle"]: len(p["media"]) for p in products.values()}})

    def add_product(sku: str) -> str:
        n = len(products) + 1
        gid = f"gid://shopify/Product/{1000 + n}"
        products[gid] = {"id": gid, "handle": re.sub(r"[^a-z0-9]+", "-", sku.lower()).strip("-"), "title": sku,
                         "sku": sku, "media": [], "metafields": {}}
        by_sku[sku] = gid
        return gid

    for sku in products_seed:
        add_product(sku)

    def status_of(video: dict[str, Any]) -> str:
        age = time.monotonic() - video["created"]
        if age < seconds * 0.3:
            return "UPLOADED"
        if age < seconds:
            return "PROCESSING"
        return "FAILED" if video["fail"] else "READY"

    def video_node(video: dict[str, Any]) -> dict[str, Any]:
        status = status_of(video)
        ready = status == "READY"
        url = f"{state.base_url}/_cdn/{video['id'].rsplit('/', 1)[1]}.mp4" if ready else None
        errors = [{"code": "VIDEO_VALIDATION_ERROR", "details": "the fake refused this file on purpose",
                   "message": "Video could not be processed"}] if status == "FAILED" else []
        return {"__typename": "Video", "id": video["id"], "alt": video["alt"], "mediaContentType": "VIDEO",
                "status": status, "fileStatus": status, "filename": video["filename"],
                "duration": 7500 if ready else None, "mediaErrors": errors, "fileErrors": errors,
                "sources": [{"url": url, "mimeType": "video/mp4", "format": "mp4", "width": 1080, "height": 1920,
                             "fileSize": len(video["data"])}] if ready else [],
                "originalSource": {"url": url, "mimeType": "video/mp4", "format": "mp4", "width": 1080,
                                   "height": 1920, "fileSize": len(video["data"])} if ready else None}

    def charge(cost: float) -> tuple[bool, dict[str, Any]]:
        with state.lock:
            now = time.monotonic()
            leaky["available"] = min(bucket, leaky["available"] + (now - leaky["at"]) * restore)
            leaky["at"] = now
            ok = leaky["available"] >= cost
            if ok:
                leaky["available"] -= cost
                state.counts["cost_points"] += int(cost)
            status = {"maximumAvailable": bucket, "currentlyAvailable": round(leaky["available"], 1),
                      "restoreRate": restore}
        return ok, {"requestedQueryCost": cost, "actualQueryCost": cost if ok else None, "throttleStatus": status}

    def metafield(product: dict[str, Any], ns: str, key: str) -> dict[str, Any] | None:
        field = product["metafields"].get(f"{ns}.{key}")
        if field is None:
            return None
        return {"value": field, "compareDigest": hashlib.sha256(field.encode()).hexdigest()}

    def run(root: str, v: dict[str, Any]) -> dict[str, Any] | Response:
        if root == "productVariants":
            match = re.search(r'sku:"?([^"\s]+)"?', str(v.get("q", "")))
            sku = match.group(1) if match else ""
            if sku and sku not in by_sku and auto_products:
                add_product(sku)
            gid = by_sku.get(sku)
            nodes = [] if gid is None else [{"id": gid.replace("Product", "ProductVariant"), "sku": sku,
                                             "product": {k: products[gid][k] for k in ("id", "handle", "title")}}]
            return {"productVariants": {"nodes": nodes}}
        if root == "product":
            product = products.get(str(v.get("id")))
            if product is None:
                return {"product": None}
            nodes = [video_node(media[m]) for m in product["media"] if m in media]
            return {"product": {"id": product["id"], "metafield": metafield(product, v["ns"], v["key"]),
                                "media": {"nodes": nodes}}}
        if root == "stagedUploadsCreate":
            targets, errors = [], []
            for item in v.get("input", []):
                size = item.get("fileSize")
                if item.get("resource") == "VIDEO" and not isinstance(size, str | int):
                    errors.append({"field": ["input", "fileSize"], "message": "File size is required for VIDEO"})
                    continue
                key = f"tmp/{secrets.token_hex(8)}/{item['filename']}"
                policy = base64.b64encode(json.dumps({"conditions": [["content-length-range", int(size), int(size)]]})
                                          .encode()).decode()
                staged[key] = {"size": int(size), "filename": item["filename"], "data": None}
                state.count("staged")
                targets.append({"url": f"{state.base_url}/_storage/upload", "resourceUrl":
                                f"{state.base_url}/_storage/{key}?external_video_id={len(staged)}",
                                "parameters": [{"name": "GoogleAccessId", "value": "video-production@fake"},
                                               {"name": "key", "value": key}, {"name": "policy", "value": policy},
                                               {"name": "signature", "value": secrets.token_hex(16)}]})
            return {"stagedUploadsCreate": {"stagedTargets": targets, "userErrors": errors}}
        if root == "productUpdate":
            product = products.get(str((v.get("product") or {}).get("id")))
            if product is None:
                return {"productUpdate": {"product": None, "userErrors": [
                    {"field": ["product", "id"], "message": "Product does not exist"}]}}
            for item in v.get("media") or []:
                key = str(item.get("originalSource", "")).split("/_storage/", 1)[-1].split("?")[0]
                upload = staged.get(key)
                if upload is None or upload["data"] is None:
                    return {"productUpdate": {"product": None, "userErrors": [
                        {"field": ["media", "0", "originalSource"], "message": "Invalid or missing staged upload"}]}}
                gid = f"gid://shopify/Video/{5000 + state.counts['media_created'] + 1}"
                media[gid] = {"id": gid, "alt": item.get("alt", ""), "filename": upload["filename"],
                              "data": upload["data"], "created": time.monotonic(), "fail": state.roll("fail"),
                              "product": product["id"]}
                product["media"].append(gid)
                state.count("media_created")
            nodes = [video_node(media[m]) for m in product["media"][-10:]]
            return {"productUpdate": {"product": {"id": product["id"], "media": {"nodes": nodes}}, "userErrors": []}}
        if root == "node":
            video = media.get(str(v.get("id")))
            return {"node": video_node(video) if video else None}
        if root == "fileDelete":
            deleted, errors = [], []
            for gid in v.get("ids", []):
                video = media.pop(gid, None)
                if video is None:
                    errors.append({"field": ["fileIds"], "message": f"File id {gid} does not exist.",
                                   "code": "FILE_DOES_NOT_EXIST"})
                    continue
                products[video["product"]]["media"].remove(gid)
                deleted.append(gid)
                state.count("media_deleted")
            return {"fileDelete": {"deletedFileIds": deleted, "userErrors": errors}}
        if root == "metafieldsSet":
            out: list[dict[str, Any]] = []
            errors = []
            for item in v.get("m", []):
                product = products.get(str(item.get("ownerId")))
                if product is None:
                    errors.append({"field": ["metafields", "ownerId"], "message": "Owner does not exist",
                                   "code": "INVALID"})
                    continue
                current = metafield(product, item["namespace"], item["key"])
                digest = item.get("compareDigest")
                if digest is not None and (current is None or current["compareDigest"] != digest):
                    errors.append({"field": ["metafields", "compareDigest"], "message": "The resource has been "
                                   "updated since it was loaded.", "code": "STALE_OBJECT"})
                    continue
                if "compareDigest" in item and digest is None and current is not None:  # null: must not exist yet
                    errors.append({"field": ["metafields", "compareDigest"], "message": "The resource has been "
                                   "updated since it was loaded.", "code": "STALE_OBJECT"})
                    continue
                product["metafields"][f"{item['namespace']}.{item['key']}"] = str(item["value"])
                out.append({"id": f"gid://shopify/Metafield/{len(out) + 1}",
                            "compareDigest": hashlib.sha256(str(item["value"]).encode()).hexdigest()})
            return {"metafieldsSet": {"metafields": out if not errors else None, "userErrors": errors}}
        return JSONResponse({"errors": [{"message": f"Field '{root}' doesn't exist on type 'QueryRoot'",
                                         "extensions": {"code": "undefinedField"}}]})

    @app.post("/admin/api/{version}/graphql.json")
    async def graphql(version: str, request: Request) -> Response:
        if request.headers.get("x-shopify-access-token") != TOKEN:
            return JSONResponse({"errors": "[API] Invalid API key or access token (unrecognized login or wrong "
                                           "password)"}, status_code=401)
        state.count("graphql")
        body = await request.json()
        match = _ROOT.search(str(body.get("query", "")))
        root = match.group(1) if match else ""
        ok, cost = charge(_cost(str(body.get("query", ""))))
        if not ok or state.roll("429"):
            state.count("throttled")
            return JSONResponse({"errors": [{"message": "Throttled", "extensions": {
                "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
                "extensions": {"cost": {**cost, "actualQueryCost": None}}}, status_code=throttle_status)
        if state.roll("5xx"):
            return JSONResponse({"errors": "Internal Server Error"}, status_code=502)
        if root in ("stagedUploadsCreate", "productUpdate") and state.latency_s:
            await asyncio.sleep(state.latency_s / 4)
        with state.lock:
            result = run(root, body.get("variables") or {})
        if isinstance(result, Response):
            return result
        if root == "productUpdate" and state.roll("drop_response"):
            return DroppedResponse()
        return JSONResponse({"data": result, "extensions": {"cost": cost}},
                            headers={"X-Shopify-API-Version": version})

    @app.post("/_storage/upload")
    async def storage(request: Request) -> Response:
        form = await request.form()
        names = list(form.keys())
        if not names or names[-1] != "file":
            return _xml_error("InvalidArgument", "The file must be the last field of the form.", 400)
        key = str(form.get("key", ""))
        upload = staged.get(key)
        if upload is None or not form.get("policy") or not form.get("signature"):
            return _xml_error("AccessDenied", "Invalid or expired policy.", 403)
        file = form.get("file")
        data = await file.read() if file is not None and not isinstance(file, str) else b""
        if len(data) != upload["size"]:
            code = "EntityTooLarge" if len(data) > upload["size"] else "EntityTooSmall"
            return _xml_error(code, "Your proposed upload does not match the policy's content-length-range.", 400)
        if state.latency_s:
            await asyncio.sleep(state.latency_s / 2)
        upload["data"] = data
        state.count("storage_uploads")
        state.count("bytes_uploaded", len(data))
        return Response(status_code=204)

    @app.get("/_cdn/{number}.mp4")
    def cdn(number: str) -> Response:
        video = media.get(f"gid://shopify/Video/{number}")
        return Response(video["data"], media_type="video/mp4") if video else Response(status_code=404)

    return app
