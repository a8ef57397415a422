"""Fake Replicate after its documented contract: predictions on official models and the Files API its SDK
uploads input files to (an input then names the file's URL, which the model fetches)."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile

from skureel.fakefaults import DroppedResponse
from skureel.providers.fake.common import FakeVendor, attach_common, decode_image, size_for
from skureel.providers.fake.hubrules import replicate_problem
from skureel.providers.fake.simple import plain_fault


def replicate_app(vendor: FakeVendor, token: str = "r8-test") -> FastAPI:
    app = FastAPI(title="fake replicate")
    attach_common(app, vendor)
    states = {"queued": "starting", "running": "processing", "succeeded": "succeeded", "failed": "failed",
              "moderated": "failed", "cancelled": "canceled"}

    def body_of(job: Any) -> dict[str, Any]:
        state = vendor.status(job)
        return {"id": job.id, "model": job.inputs.get("model"), "input": job.inputs.get("input"),
                "status": states[state], "output": vendor.video_url(job) if state == "succeeded" else None,
                "error": "NSFW content detected" if state == "moderated" else "prediction failed" if state == "failed" else None,
                "urls": {"get": f"{vendor.base_url}/v1/predictions/{job.id}"}}

    def ok(request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {token}"

    files: dict[str, tuple[dict[str, Any], bytes]] = {}  # the Files API: id -> (file object, content)

    @app.post("/v1/files")
    async def upload(request: Request) -> Response:
        if not ok(request):
            return JSONResponse({"detail": "Unauthenticated"}, status_code=401)
        form = await request.form()
        content = form.get("content")
        if not isinstance(content, UploadFile):
            return JSONResponse({"detail": "content: a file is required"}, status_code=400)
        data = await content.read()
        file_id = uuid.uuid4().hex
        now = datetime.now(UTC)
        md5 = hashlib.md5(data).hexdigest()
        metadata = form.get("metadata")
        files[file_id] = ({
            "id": file_id, "name": content.filename, "content_type": content.content_type or "application/octet-stream",
            "size": len(data), "etag": md5, "checksums": {"sha256": hashlib.sha256(data).hexdigest(), "md5": md5},
            "metadata": json.loads(metadata) if isinstance(metadata, str) else {},
            "created_at": now.isoformat().replace("+00:00", "Z"),
            "expires_at": (now + timedelta(days=1)).isoformat().replace("+00:00", "Z"),
            "urls": {"get": f"{vendor.base_url}/v1/files/{file_id}"}}, data)
        return JSONResponse(files[file_id][0], status_code=201)

    @app.get("/v1/files")
    def file_list(request: Request) -> Response:
        if not ok(request):
            return JSONResponse({"detail": "Unauthenticated"}, status_code=401)
        return JSONResponse({"results": [info for info, _ in files.values()], "next": None})

    @app.get("/v1/files/{file_id}")
    def file_info(file_id: str, request: Request) -> Response:
        if not ok(request) or file_id not in files:
            return JSONResponse({"detail": "Not found"}, status_code=404)
        return JSONResponse(files[file_id][0])

    @app.delete("/v1/files/{file_id}")
    def file_delete(file_id: str, request: Request) -> Response:
        if not ok(request) or files.pop(file_id, None) is None:
            return JSONResponse({"detail": "Not found"}, status_code=404)
        return Response(status_code=204)

    def fetched(value: Any) -> Any:
        """What the model reads for an input: an uploaded file's bytes (None when it is gone), else the value."""
        prefix = f"{vendor.base_url}/v1/files/"
        if isinstance(value, list):
            return [fetched(v) for v in value]
        if isinstance(value, str) and value.startswith(prefix):
            file = files.get(value.removeprefix(prefix))
            return file[1] if file else None
        return value

    @app.post("/v1/models/{owner}/{name}/predictions")
    async def create(owner: str, name: str, request: Request) -> Response:
        if not ok(request):
            return JSONResponse({"detail": "Unauthenticated"}, status_code=401)
        body = await request.json()
        if "prompt" not in (body.get("input") or {}):
            return JSONResponse({"detail": "input.prompt is required"}, status_code=422)
        problem = replicate_problem(f"{owner}/{name}", body["input"])
        if problem:
            return JSONResponse({"detail": problem}, status_code=422)
        read = {k: fetched(v) for k, v in body["input"].items()}
        gone = [k for k, v in read.items() if v is None or (isinstance(v, list) and None in v)]
        if gone:
            return JSONResponse({"detail": f"input.{gone[0]}: the file cannot be fetched"}, status_code=422)
        fault = plain_fault(vendor)
        if fault is not None:
            return fault
        start = read.get("start_image")
        # a purchase is counted by what the model read: the photos' bytes, not the URLs they were uploaded under
        counted = {k: hashlib.sha256(v).hexdigest() if isinstance(v, bytes) else
                   [hashlib.sha256(x).hexdigest() if isinstance(x, bytes) else x for x in v] if isinstance(v, list) else v
                   for k, v in read.items()}
        job = vendor.create("", *size_for("9:16"), start if isinstance(start, bytes) else decode_image(start),
                            {"model": f"{owner}/{name}", "input": body["input"]}, body["input"].get("duration", 5),
                            sent={"model": f"{owner}/{name}", "input": counted})
        job.sound = bool(body["input"].get("generate_audio"))
        if vendor.roll("drop_response"):
            return DroppedResponse()
        return JSONResponse(body_of(job), status_code=201)

    @app.get("/v1/predictions/{pid}")
    def get(pid: str, request: Request) -> Response:
        job = vendor.find(pid)
        if not ok(request) or job is None:
            return JSONResponse({"detail": "Not found"}, status_code=404)
        return JSONResponse(body_of(job))

    @app.get("/v1/predictions")
    def listing(request: Request) -> Response:
        if not ok(request):
            return JSONResponse({"detail": "Unauthenticated"}, status_code=401)
        jobs = sorted(vendor.jobs.values(), key=lambda j: -j.created)[:100]
        return JSONResponse({"results": [body_of(j) for j in jobs], "next": None})

    @app.post("/v1/predictions/{pid}/cancel")
    def cancel(pid: str) -> Response:
        job = vendor.find(pid)
        if job is None:
            return JSONResponse({"detail": "Not found"}, status_code=404)
        job.cancelled = True
        return JSONResponse(body_of(job))

    return app
