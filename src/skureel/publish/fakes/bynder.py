"""Fake Bynder portal: OAuth2 client credentials, the v7 FS upload, v4 media save / version / search / modify /
delete, per reference/dam.md §3 (8-4-4-16 media ids, form bodies, `{"message","statuscode"}` errors, a 429 block
that lifts only after `block_s` without requests). Counters: tokens, uploads, chunks, assets_created, versions,
modified, deleted, blocked.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from skureel.fakefaults import DroppedResponse
from skureel.publish.fakes.common import FakeState, attach_stats

CLIENT_ID, CLIENT_SECRET, DOMAIN = "fake-client-id", "fake-client-secret", "skureel-fake.bynder.com"
BRAND_ID = "00000000-0000-0000-0000000000000001"
CREDENTIALS = {"BYNDER_DOMAIN": DOMAIN, "BYNDER_CLIENT_ID": CLIENT_ID, "BYNDER_CLIENT_SECRET": CLIENT_SECRET}


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message, "statuscode": str(status)}, status_code=status)


def _media_id() -> str:
    raw = uuid.uuid4().hex.upper()
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:32]}"


def create_app(state: FakeState, *, block_s: float = 300.0, convert_polls: int = 0) -> FastAPI:
    app = FastAPI(title="fake bynder")
    tokens: dict[str, float] = {}
    uploads: dict[str, dict[str, Any]] = {}
    media: dict[str, dict[str, Any]] = {}
    block = {"until": 0.0}
    attach_stats(app, state, lambda: {"assets": len(media), "names": sorted(m["name"] for m in media.values())})

    def gate(request: Request) -> Response | None:
        """The 429 block, faults and the bearer token, checked first by every API route (a plain call: an HTTP
        middleware costs a task per request)."""
        now = time.monotonic()
        if now < block["until"]:
            block["until"] = now + block_s  # requests during the block extend it
            state.count("blocked")
            return _error(429, "Too Many Requests")
        if state.roll("429"):
            block["until"] = now + block_s
            state.count("blocked")
            return _error(429, "Too Many Requests")
        if state.roll("5xx"):
            return _error(503, "Service Unavailable")
        if not request.url.path.startswith("/v6/authentication"):
            token = request.headers.get("authorization", "").removeprefix("Bearer ")
            if tokens.get(token, 0) < now:
                return JSONResponse({"error": "invalid_token", "error_description": "The access token is invalid"},
                                    status_code=401)
        return None

    @app.post("/v6/authentication/oauth2/token")
    async def token(request: Request) -> Response:
        if (refused := gate(request)) is not None:
            return refused
        form = await request.form()
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return JSONResponse({"error": "invalid_client", "error_description": "Client authentication failed"},
                                status_code=401)
        value = uuid.uuid4().hex
        tokens[value] = time.monotonic() + 3600
        state.count("tokens")
        return JSONResponse({"access_token": value, "token_type": "bearer", "expires_in": 3600,
                             "scope": str(form.get("scope", ""))})

    @app.post("/v7/file_cmds/upload/prepare")
    def prepare(request: Request) -> Response:
        if (refused := gate(request)) is not None:
            return refused
        file_id = str(uuid.uuid4())
        uploads[file_id] = {"chunks": {}, "final": None, "polls": 0}
        return JSONResponse({"file_id": file_id})

    @app.post("/v7/file_cmds/upload/{file_id}/chunk/{number}")
    async def chunk(file_id: str, number: int, request: Request) -> Response:
        if (refused := gate(request)) is not None:
            return refused
        upload = uploads.get(file_id)
        if upload is None:
            return _error(404, "Upload not found")
        data = await request.body()
        if hashlib.sha256(data).hexdigest() != request.headers.get("content-sha256"):
            return _error(400, "Content-SHA256 does not match the chunk")
        upload["chunks"][number] = data
        state.count("chunks")
        return Response(status_code=201)

    @app.post("/v7/file_cmds/upload/{file_id}/finalise_api")
    async def finalise(file_id: str, request: Request) -> Response:
        if (refused := gate(request)) is not None:
            return refused
        upload = uploads.get(file_id)
        form = await request.form()
        if upload is None:
            return _error(404, "Upload not found")
        count = int(str(form.get("chunksCount", "0")))
        if sorted(upload["chunks"]) != list(range(count)):
            return _error(400, "Chunks missing")
        data = b"".join(upload["chunks"][n] for n in range(count))
        if len(data) != int(str(form.get("fileSize", "-1"))) or (
                form.get("sha256") and hashlib.sha256(data).hexdigest() != form.get("sha256")):
            return _error(400, "File size or checksum mismatch")
        upload["final"] = {"data": data, "name": str(form.get("fileName", "upload.mp4"))}
        if state.latency_s:
            await asyncio.sleep(state.latency_s)
        state.count("uploads")
        return Response(status_code=201, headers={"X-API-Correlation-ID": str(uuid.uuid4())})

    def converted(file_id: str) -> dict[str, Any] | Response:
        upload = uploads.get(file_id)
        if upload is None or upload["final"] is None:
            return _error(400, "No importid provided")
        if upload["polls"] < convert_polls:
            upload["polls"] += 1
            return JSONResponse({"message": "Import not converted yet, please poll", "statuscode": "303"},
                                status_code=303)
        final: dict[str, Any] = upload["final"]
        return final

    async def saved(media_id: str, batch: str) -> Response:
        if state.latency_s:  # the asset exists already; a slow answer is where clients time out (and retry)
            await asyncio.sleep(state.latency_s)
        if state.roll("drop_response"):
            return DroppedResponse()
        return JSONResponse({"mediaid": media_id, "batchId": batch, "success": True,
                             "mediaitems": [{"original": media_id, "destination": media_id}]}, status_code=201)

    @app.post("/api/v4/media/save/{file_id}")
    async def save(file_id: str, request: Request) -> Response:
        if (refused := gate(request)) is not None:
            return refused
        form = await request.form()
        if not form.get("brandId"):
            return _error(400, "No brandid provided")
        final = converted(file_id)
        if isinstance(final, Response):
            return final
        media_id = _media_id()
        with state.lock:
            media[media_id] = {"id": media_id, "name": str(form.get("name", final["name"])),
                               "description": str(form.get("description", "")), "type": "video",
                               "tags": [t for t in str(form.get("tags", "")).split(",") if t],
                               "properties": {k: str(v) for k, v in form.items() if k.startswith("metaproperty.")},
                               "versions": [final["data"]], "brandId": str(form["brandId"]),
                               "dateCreated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            state.counts["assets_created"] += 1
        return await saved(media_id, str(uuid.uuid4()))

    @app.post("/api/v4/media/{media_id}/save/{file_id}")
    async def new_version(media_id: str, file_id: str, request: Request) -> Response:
        if (refused := gate(request)) is not None:
            return refused
        asset = media.get(media_id)
        if asset is None:
            return _error(404, "Media not found")
        final = converted(file_id)
        if isinstance(final, Response):
            return final
        asset["versions"].append(final["data"])
        state.count("versions")
        return await saved(media_id, str(uuid.uuid4()))

    def view(asset: dict[str, Any]) -> dict[str, Any]:
        return {"id": asset["id"], "name": asset["name"], "description": asset["description"], "tags": asset["tags"],
                "type": "video", "extension": ["mp4"], "fileSize": len(asset["versions"][-1]),
                "brandId": asset["brandId"], "dateCreated": asset["dateCreated"], "isPublic": 0, "archive": 0,
                "original": f"{state.base_url}/_files/{asset['id']}/v{len(asset['versions'])}.mp4",
                "mediaItems": [{"version": n + 1, "size": len(v)} for n, v in enumerate(asset["versions"])],
                **{f"property_{k.removeprefix('metaproperty.')}": [v] for k, v in asset["properties"].items()}}

    @app.get("/api/v4/media/")
    def search(request: Request) -> Response:
        if (refused := gate(request)) is not None:
            return refused
        wanted = [t for t in request.query_params.get("tags", "").split(",") if t]
        limit = int(request.query_params.get("limit", "50"))
        found = [view(a) for a in media.values() if all(t in a["tags"] for t in wanted)]
        return JSONResponse(found[:limit])

    @app.get("/api/v4/media/{media_id}/")
    def get_media(media_id: str, request: Request) -> Response:
        if (refused := gate(request)) is not None:
            return refused
        asset = media.get(media_id)
        return JSONResponse(view(asset)) if asset else _error(404, "Media not found")

    @app.post("/api/v4/media/{media_id}/")
    async def modify(media_id: str, request: Request) -> Response:
        if (refused := gate(request)) is not None:
            return refused
        asset = media.get(media_id)
        if asset is None:
            return _error(404, "Media not found")
        form = await request.form()
        for field in ("name", "description"):
            if field in form:
                asset[field] = str(form[field])
        if "tags" in form:  # the list is overwritten, not merged
            asset["tags"] = [t for t in str(form["tags"]).split(",") if t]
        asset["properties"].update({k: str(v) for k, v in form.items() if k.startswith("metaproperty.")})
        state.count("modified")
        return JSONResponse({"message": "Accepted", "statuscode": 202}, status_code=202)

    @app.delete("/api/v4/media/{media_id}/")
    def delete(media_id: str, request: Request) -> Response:
        if (refused := gate(request)) is not None:
            return refused
        with state.lock:
            gone = media.pop(media_id, None)
            if gone:
                state.counts["deleted"] += 1
        return Response(status_code=204) if gone else _error(404, "Media not found")

    @app.get("/_files/{media_id}/v{version}.mp4")
    def original(media_id: str, version: int) -> Response:
        asset = media.get(media_id)
        if asset is None or not 0 < version <= len(asset["versions"]):
            return Response(status_code=404)
        return Response(asset["versions"][version - 1], media_type="video/mp4")

    return app
