"""Fakes of HeyGen (talking photo) and D-ID (talks), after their documented contracts."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from skureel.fakefaults import DroppedResponse
from skureel.providers.fake.common import FakeVendor, attach_common
from skureel.providers.fake.simple import plain_fault


def heygen_app(vendor: FakeVendor, key: str = "hg-test") -> FastAPI:
    app = FastAPI(title="fake heygen")
    attach_common(app, vendor)
    images: dict[str, bytes] = {}
    groups: dict[str, str] = {}

    def ok(request: Request) -> bool:
        return request.headers.get("x-api-key") == key

    def unauthorized() -> JSONResponse:
        return JSONResponse({"error": {"code": "401028", "message": "Unauthorized"}, "data": None}, status_code=401)

    @app.post("/v1/asset")
    async def upload(request: Request) -> Response:
        if not ok(request):
            return unauthorized()
        image_key = f"image/{uuid.uuid4().hex}/original"
        images[image_key] = await request.body()
        return JSONResponse({"code": 100, "data": {"id": uuid.uuid4().hex, "image_key": image_key}})

    @app.post("/v2/photo_avatar/avatar_group/create")
    async def group(request: Request) -> Response:
        if not ok(request):
            return unauthorized()
        body = await request.json()
        if body.get("image_key") not in images:
            return JSONResponse({"error": {"message": "image_key not found"}, "data": None}, status_code=400)
        group_id = uuid.uuid4().hex
        groups[group_id] = body["image_key"]
        return JSONResponse({"error": None, "data": {"id": group_id, "group_id": group_id}})

    @app.post("/v2/video/generate")
    async def generate(request: Request) -> Response:
        if not ok(request):
            return unauthorized()
        body = await request.json()
        inputs = body.get("video_inputs") or [{}]
        character, voice = inputs[0].get("character") or {}, inputs[0].get("voice") or {}
        if character.get("talking_photo_id") not in groups or voice.get("type") != "text" or not voice.get("input_text"):
            return JSONResponse({"error": {"message": "invalid video_inputs"}, "data": None}, status_code=400)
        fault = plain_fault(vendor)
        if fault is not None:
            return fault
        dims = body.get("dimension") or {"width": 720, "height": 1280}
        words = len(voice["input_text"].split())
        job = vendor.create(body.get("title", ""), int(dims["width"]) // 2, int(dims["height"]) // 2,
                            images[groups[character["talking_photo_id"]]], body, max(2.0, words / 2.5))
        if vendor.roll("drop_response"):
            return DroppedResponse()
        return JSONResponse({"error": None, "data": {"video_id": job.id}})

    @app.get("/v1/video_status.get")
    def status(video_id: str, request: Request) -> Response:
        if not ok(request):
            return unauthorized()
        job = vendor.find(video_id)
        if job is None:
            return JSONResponse({"code": 400, "message": "video not found", "data": None}, status_code=400)
        state = vendor.status(job)
        data: dict[str, Any] = {"id": job.id, "status": {"queued": "pending", "running": "processing",
                                                        "succeeded": "completed"}.get(state, "failed")}
        if state == "succeeded":
            data |= {"video_url": vendor.video_url(job), "duration": job.seconds}
        elif state == "moderated":
            data["error"] = {"code": 40119, "message": "Content moderation: the image was flagged"}
        elif state != "queued" and state != "running":
            data["error"] = {"code": 400140, "message": "video rendering failed"}
        return JSONResponse({"code": 100, "data": data, "message": "Success"})

    return app


def did_app(vendor: FakeVendor, key: str = "did-test") -> FastAPI:
    app = FastAPI(title="fake d-id")
    attach_common(app, vendor)
    images: dict[str, bytes] = {}

    def ok(request: Request) -> bool:
        return request.headers.get("authorization") == f"Basic {key}"

    @app.post("/images")
    async def upload(request: Request) -> Response:
        if not ok(request):
            return JSONResponse({"kind": "AuthorizationError", "description": "access denied"}, status_code=401)
        form = await request.form()
        item: Any = form.get("image")
        data = await item.read() if hasattr(item, "read") else b""
        image_id = uuid.uuid4().hex
        images[image_id] = data
        return JSONResponse({"id": image_id, "url": f"s3://d-id-images-prod/{image_id}/image.jpeg"}, status_code=201)

    @app.post("/talks")
    async def talk(request: Request) -> Response:
        if not ok(request):
            return JSONResponse({"kind": "AuthorizationError", "description": "access denied"}, status_code=401)
        body = await request.json()
        source = str(body.get("source_url", ""))
        image_id = source.split("/")[-2] if source.count("/") >= 3 else ""
        script = body.get("script") or {}
        if image_id not in images or script.get("type") not in ("text", "audio") or not script.get("input", "x"):
            return JSONResponse({"kind": "ValidationError", "description": "invalid source_url or script"}, status_code=400)
        fault = plain_fault(vendor)
        if fault is not None:
            return fault
        job = vendor.create(body.get("user_data", ""), 320, 320, images[image_id], body,
                            max(2.0, len(script.get("input", "").split()) / 2.5))
        if vendor.roll("drop_response"):
            return DroppedResponse()
        return JSONResponse({"id": job.id, "object": "talk", "status": "created"}, status_code=201)

    @app.get("/talks/{talk_id}")
    def get(talk_id: str, request: Request) -> Response:
        job = vendor.find(talk_id)
        if not ok(request) or job is None:
            return JSONResponse({"kind": "NotFoundError", "description": "talk not found"}, status_code=404)
        state = vendor.status(job)
        data: dict[str, Any] = {"id": job.id, "status": {"queued": "created", "running": "started", "succeeded": "done",
                                                        "moderated": "rejected"}.get(state, "error")}
        if state == "succeeded":
            data["result_url"] = vendor.video_url(job)
        elif state in ("failed", "cancelled"):
            data["error"] = {"kind": "InternalServerError", "description": "talk failed"}
        return JSONResponse(data)

    @app.delete("/talks/{talk_id}")
    def delete(talk_id: str) -> Response:
        job = vendor.find(talk_id)
        if job:
            job.cancelled = True
        return JSONResponse({"deleted": 1})

    return app
