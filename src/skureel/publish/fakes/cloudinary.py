"""Fake Cloudinary: signed Upload API (single and chunked), destroy, Admin API get, per reference/dam.md §2.

The signature is checked with the documented algorithm, and a bad one is answered with 401 and the server's
string-to-sign, as Cloudinary does. Counters: uploads, chunks, destroys, admin_gets, live assets.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from skureel.fakefaults import DroppedResponse
from skureel.publish.fakes.common import FakeState, attach_stats

API_KEY, API_SECRET, CLOUD = "123456789012345", "fake-cloudinary-secret", "skureel-fake"
CREDENTIALS = {"CLOUDINARY_URL": f"cloudinary://{API_KEY}:{API_SECRET}@{CLOUD}"}
_UNSIGNED = {"file", "cloud_name", "resource_type", "api_key", "signature"}


def string_to_sign(params: dict[str, str]) -> str:
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in _UNSIGNED and v != "")


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message}}, status_code=status, headers=headers)


def create_app(state: FakeState, *, algorithm: str = "sha1", min_chunk: int = 5_000_000) -> FastAPI:
    app = FastAPI(title="fake cloudinary")
    assets: dict[str, dict[str, Any]] = {}
    partial: dict[str, dict[str, Any]] = {}
    attach_stats(app, state, lambda: {"assets": len(assets), "public_ids": sorted(assets)})
    digest = hashlib.sha256 if algorithm == "sha256" else hashlib.sha1

    def check_signed(cloud: str, form: dict[str, str]) -> Response | None:
        if cloud != CLOUD:
            return _error(404, f"cloud_name {cloud} not found")
        if form.get("api_key") != API_KEY:
            return _error(401, f"Unknown API key {form.get('api_key', '')}")
        try:
            stamp = int(form.get("timestamp", ""))
        except ValueError:
            return _error(400, "Missing required parameter - timestamp")
        if stamp < time.time() - 3600:
            return _error(400, f"Stale request - reported time is {stamp} which is more than 1 hour ago")
        to_sign = string_to_sign(form)
        if digest((to_sign + API_SECRET).encode()).hexdigest() != form.get("signature"):
            return _error(401, f"Invalid Signature {form.get('signature', '')}. String to sign - '{to_sign}'.")
        return None

    def basic_ok(request: Request) -> bool:
        good = base64.b64encode(f"{API_KEY}:{API_SECRET}".encode()).decode()
        return request.headers.get("authorization", "") == f"Basic {good}"

    def resource(asset: dict[str, Any]) -> dict[str, Any]:
        pid, version = asset["public_id"], asset["version"]
        url = f"{state.base_url}/{CLOUD}/video/upload/v{version}/{pid}.mp4"
        return {"asset_id": asset["asset_id"], "public_id": pid, "version": version, "version_id": f"{version:x}",
                "signature": hashlib.sha1(f"public_id={pid}&version={version}{API_SECRET}".encode()).hexdigest(),
                "resource_type": "video", "type": "upload", "format": "mp4", "bytes": len(asset["data"]),
                "etag": hashlib.md5(asset["data"], usedforsecurity=False).hexdigest(), "tags": asset["tags"],
                "context": {"custom": asset["context"]}, "created_at": asset["created_at"], "url": url,
                "secure_url": url, "display_name": asset.get("display_name", ""), "api_key": API_KEY}

    def parse_context(text: str) -> dict[str, str]:
        out: dict[str, str] = {}
        key, value, escaped, in_value = "", "", False, False
        for ch in text + "|":
            if escaped:
                value, escaped = (value + ch, False) if in_value else (value, False)
                if not in_value:
                    key += ch
            elif ch == "\\":
                escaped = True
            elif ch == "=" and not in_value:
                in_value = True
            elif ch == "|":
                if key:
                    out[key] = value
                key, value, in_value = "", "", False
            elif in_value:
                value += ch
            else:
                key += ch
        return out

    def commit(form: dict[str, str], data: bytes) -> dict[str, Any]:
        pid = form.get("public_id") or hashlib.sha1(data).hexdigest()[:20]
        with state.lock:
            existing = assets.get(pid)
            if existing is not None and form.get("overwrite", "1") in ("0", "false"):
                return {**resource(existing), "existing": True}
            version = int(time.time())
            if existing is not None and version <= existing["version"]:
                version = existing["version"] + 1
            asset = {"public_id": pid, "asset_id": hashlib.md5(pid.encode(), usedforsecurity=False).hexdigest(),
                     "version": version, "data": data, "tags": [t for t in form.get("tags", "").split(",") if t],
                     "context": parse_context(form.get("context", "")), "display_name": form.get("display_name", ""),
                     "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            assets[pid] = asset
            state.counts["uploads"] += 1
            state.counts["overwrites" if existing is not None else "created"] += 1
            return resource(asset)

    @app.post("/v1_1/{cloud}/video/upload")
    async def upload(cloud: str, request: Request) -> Response:
        form_data = await request.form()
        form = {k: str(v) for k, v in form_data.items() if k != "file"}
        problem = check_signed(cloud, form)
        if problem is not None:
            return problem
        if state.roll("5xx"):
            return _error(500, "General Error")
        if state.roll("429"):
            return _error(429, "Rate Limit Exceeded", {"Retry-After": "1"})
        upload_file = form_data.get("file")
        if upload_file is None or isinstance(upload_file, str):
            return _error(400, "Missing required parameter - file")
        data = await upload_file.read()
        if state.latency_s:
            await asyncio.sleep(state.latency_s)
        content_range = request.headers.get("content-range")
        if content_range:
            state.count("chunks")
            try:
                span, _, total_text = content_range.removeprefix("bytes ").partition("/")
                start, end, total = int(span.split("-")[0]), int(span.split("-")[1]), int(total_text)
            except ValueError:
                return _error(400, f"Invalid Content-Range header {content_range}")
            upload_id = request.headers.get("x-unique-upload-id", "")
            entry = partial.setdefault(upload_id, {"parts": {}, "total": total})
            if end - start + 1 != len(data) or entry["total"] != total:
                return _error(400, "Inconsistent chunk sizes")
            if end + 1 < total and len(data) < min_chunk:
                return _error(400, f"Chunk size {len(data)} is below the minimum of {min_chunk} bytes")
            entry["parts"][start] = data
            if end + 1 < total:
                return JSONResponse({"done": False, "bytes": end + 1, "public_id": form.get("public_id", "")})
            data = b"".join(entry["parts"][k] for k in sorted(entry["parts"]))
            partial.pop(upload_id, None)
            if len(data) != total:
                return _error(400, "Chunks missing")
        body = commit(form, data)
        if state.roll("drop_response"):
            return DroppedResponse()
        return JSONResponse(body)

    @app.post("/v1_1/{cloud}/video/destroy")
    async def destroy(cloud: str, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        problem = check_signed(cloud, form)
        if problem is not None:
            return problem
        if state.roll("5xx"):
            return _error(503, "Service Unavailable")
        with state.lock:
            gone = assets.pop(form.get("public_id", ""), None)
            state.counts["destroys"] += 1 if gone else 0
        return JSONResponse({"result": "ok" if gone else "not found"})

    @app.get("/v1_1/{cloud}/resources/video/upload/{public_id:path}")
    def admin_get(cloud: str, public_id: str, request: Request) -> Response:
        if not basic_ok(request):
            return Response("<html><body>Unauthorized</body></html>", status_code=401, media_type="text/html")
        state.count("admin_gets")
        if state.roll("429"):
            return _error(420, "Rate Limit Exceeded", {"X-FeatureRateLimit-Remaining": "0"})
        with state.lock:
            asset = assets.get(public_id)
        if asset is None:
            return _error(404, f"Resource not found - {public_id}")
        return JSONResponse(resource(asset), headers={"X-FeatureRateLimit-Limit": "500",
                                                      "X-FeatureRateLimit-Remaining": "499"})

    @app.get("/{cloud}/video/upload/v{version}/{public_id:path}")
    def deliver(cloud: str, version: int, public_id: str) -> Response:
        with state.lock:
            asset = assets.get(public_id.removesuffix(".mp4"))
        if asset is None:
            return Response(status_code=404)
        return Response(asset["data"], media_type="video/mp4")

    return app
