"""Fakes of fal, Replicate, Runway, Veo (Gemini API), MiniMax and Luma, each after its documented contract."""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from skureel.fakefaults import DroppedResponse
from skureel.providers.fake.common import FakeVendor, attach_common, decode_image, size_for
from skureel.providers.fake.hubrules import fal_problem, minimax_problem


def plain_fault(vendor: FakeVendor) -> Response | None:
    fault = vendor.create_fault()
    if fault == "429":
        wait = f"{vendor.retry_after_s:g}"
        return JSONResponse({"detail": f"Request was throttled. Your rate limit resets in ~{wait}s."}, status_code=429,
                            headers={"Retry-After": wait})
    if fault == "5xx":
        return JSONResponse({"detail": "internal error"}, status_code=503)
    if fault == "out_of_credit":
        return JSONResponse({"detail": "You have insufficient credit to run this model."}, status_code=402)
    return None


def fal_app(vendor: FakeVendor, key: str = "fal-test") -> FastAPI:
    app = FastAPI(title="fake fal")
    attach_common(app, vendor)

    def ok(request: Request) -> bool:
        return request.headers.get("authorization") == f"Key {key}"

    @app.post("/{owner}/{model_path:path}")
    async def submit(owner: str, model_path: str, request: Request) -> Response:
        if not ok(request):
            return JSONResponse({"detail": "Unauthorized"}, status_code=401)
        body = await request.json()
        problem = fal_problem(f"{owner}/{model_path}", body)
        if problem:
            return JSONResponse({"detail": [{"loc": ["body"], "msg": problem}]}, status_code=422)
        fault = plain_fault(vendor)
        if fault is not None:
            return fault
        app_id = f"{owner}/{model_path.split('/')[0]}"
        image = body.get("image_url") or body.get("start_image_url")
        job = vendor.create("", *size_for(body.get("aspect_ratio", "9:16")), decode_image(image), body,
                            body.get("duration", "5"))
        job.inputs["app"] = app_id
        job.sound = bool(body.get("generate_audio"))
        # over the account cap, jobs wait in the queue (fal never rejects them)
        queued_behind = max(0, vendor.active() - vendor.concurrency)
        job.ready_at += queued_behind * vendor.latency_s
        if vendor.roll("drop_response"):
            return DroppedResponse()
        base = f"{vendor.base_url}/{app_id}/requests/{job.id}"
        return JSONResponse({"request_id": job.id, "status": "IN_QUEUE", "queue_position": queued_behind,
                             "status_url": f"{base}/status", "response_url": base, "cancel_url": f"{base}/cancel"})

    @app.get("/{owner}/{app_name}/requests/{request_id}/status")
    def status(owner: str, app_name: str, request_id: str, request: Request) -> Response:
        job = vendor.find(request_id)
        if not ok(request) or job is None:
            return JSONResponse({"detail": "not found"}, status_code=404 if job is None else 401)
        state = vendor.status(job)
        if state == "queued":
            return JSONResponse({"status": "IN_QUEUE", "queue_position": 0}, status_code=202)
        if state == "running":
            return JSONResponse({"status": "IN_PROGRESS", "logs": []}, status_code=202)
        body: dict[str, Any] = {"status": "COMPLETED", "logs": [], "metrics": {}}
        if state == "moderated":
            body |= {"error": "content policy violation", "error_type": "content_policy_violation"}
        elif state in ("failed", "cancelled"):
            body |= {"error": "generation failed", "error_type": "runner_error"}
        return JSONResponse(body)

    @app.get("/{owner}/{app_name}/requests/{request_id}")
    def result(owner: str, app_name: str, request_id: str, request: Request) -> Response:
        job = vendor.find(request_id)
        if not ok(request) or job is None or vendor.status(job) != "succeeded":
            return JSONResponse({"detail": "not ready"}, status_code=400)
        return JSONResponse({"video": {"url": vendor.video_url(job), "content_type": "video/mp4", "file_name": "out.mp4"}})

    @app.put("/{owner}/{app_name}/requests/{request_id}/cancel")
    def cancel(owner: str, app_name: str, request_id: str) -> Response:
        job = vendor.find(request_id)
        if job is None:
            return JSONResponse({"status": "NOT_FOUND"}, status_code=404)
        if vendor.status(job) in ("succeeded", "failed", "moderated"):
            return JSONResponse({"status": "ALREADY_COMPLETED"}, status_code=400)
        job.cancelled = True
        return JSONResponse({"status": "CANCELLATION_REQUESTED"}, status_code=202)

    return app


def runway_app(vendor: FakeVendor, key: str = "rw-test") -> FastAPI:
    app = FastAPI(title="fake runway")
    attach_common(app, vendor)
    ratios = {"1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672"}

    def check(request: Request) -> Response | None:
        if request.headers.get("authorization") != f"Bearer {key}":
            return JSONResponse({"error": "Unauthorized"}, status_code=401)
        if request.headers.get("x-runway-version") != "2024-11-06":
            return JSONResponse({"error": "X-Runway-Version header is required"}, status_code=400)
        return None

    def task(job: Any) -> dict[str, Any]:
        state = vendor.status(job)
        throttled = state in ("queued", "running") and job.inputs.get("throttled") and time.monotonic() < job.inputs["throttled"]
        status = {"queued": "PENDING", "running": "RUNNING", "succeeded": "SUCCEEDED", "failed": "FAILED",
                  "moderated": "FAILED", "cancelled": "CANCELLED"}[state]
        body: dict[str, Any] = {"id": job.id, "status": "THROTTLED" if throttled else status, "createdAt": job.created}
        if state == "succeeded":
            body["output"] = [vendor.video_url(job)]
        if state == "moderated":
            body |= {"failure": "The input did not pass moderation", "failureCode": "SAFETY.INPUT.TEXT"}
        elif state == "failed":
            body |= {"failure": "An unexpected error occurred", "failureCode": "INTERNAL.BAD_OUTPUT"}
        return body

    async def create(request: Request, needs_image: bool) -> Response:
        denied = check(request)
        if denied:
            return denied
        body = await request.json()
        if body.get("ratio") not in ratios or (needs_image and not body.get("promptImage")) or len(body.get("promptText", "")) > 1000:
            return JSONResponse({"error": "Validation of body failed", "issues": [{"path": ["ratio"]}]}, status_code=400)
        fault = plain_fault(vendor)
        if fault is not None:
            return fault
        w, _, h = body["ratio"].partition(":")
        job = vendor.create("", int(w) // 2, int(h) // 2, decode_image(body.get("promptImage")), body, body.get("duration", 5))
        over = vendor.active() > vendor.concurrency
        if over:  # accepted but held: THROTTLED until a slot frees
            job.inputs["throttled"] = time.monotonic() + vendor.latency_s
            job.ready_at += vendor.latency_s
        if vendor.roll("drop_response"):
            return DroppedResponse()
        return JSONResponse({"id": job.id})

    @app.post("/v1/image_to_video")
    async def image_to_video(request: Request) -> Response:
        return await create(request, True)

    @app.post("/v1/text_to_video")
    async def text_to_video(request: Request) -> Response:
        return await create(request, False)

    @app.get("/v1/tasks/{task_id}")
    def get(task_id: str, request: Request) -> Response:
        denied = check(request)
        if denied:
            return denied
        job = vendor.find(task_id)
        return JSONResponse(task(job)) if job else JSONResponse({"error": "Not found"}, status_code=404)

    @app.delete("/v1/tasks/{task_id}")
    def delete(task_id: str) -> Response:
        job = vendor.find(task_id)
        if job:
            job.cancelled = True
        return Response(status_code=204)

    return app


def veo_app(vendor: FakeVendor, key: str = "gemini-test") -> FastAPI:
    app = FastAPI(title="fake gemini veo")
    attach_common(app, vendor)

    def denied(request: Request) -> Response | None:
        if request.headers.get("x-goog-api-key") != key:
            return JSONResponse({"error": {"code": 403, "message": "API key not valid", "status": "PERMISSION_DENIED"}},
                                status_code=403)
        return None

    @app.post("/v1beta/models/{model_action}")
    async def predict(model_action: str, request: Request) -> Response:
        if (d := denied(request)) is not None:
            return d
        model, _, action = model_action.partition(":")
        body = await request.json()
        params = body.get("parameters") or {}
        instance = (body.get("instances") or [{}])[0]
        if action != "predictLongRunning" or "seed" in params or "generateAudio" in params:
            return JSONResponse({"error": {"code": 400, "message": "Invalid request", "status": "INVALID_ARGUMENT"}}, status_code=400)
        if instance.get("image") and "bytesBase64Encoded" not in instance["image"]:
            return JSONResponse({"error": {"code": 400, "message": "image must be inline bytes", "status": "INVALID_ARGUMENT"}},
                                status_code=400)
        fault = vendor.create_fault()
        if fault in ("429", "out_of_credit"):
            message = "Quota exceeded" if fault == "429" else "Billing account credit exhausted"
            return JSONResponse({"error": {"code": 429, "message": message, "status": "RESOURCE_EXHAUSTED"}}, status_code=429)
        if fault in ("5xx", "timeout"):
            return JSONResponse({"error": {"code": 503, "message": "unavailable", "status": "UNAVAILABLE"}}, status_code=503)
        image = (instance.get("image") or {}).get("bytesBase64Encoded")
        job = vendor.create("", *size_for(params.get("aspectRatio", "16:9")), decode_image(image), {"model": model},
                            params.get("durationSeconds", 8), sent={"model": model, **body})
        job.sound = True  # Veo 3.x always generates its own audio
        if vendor.roll("drop_response"):
            return DroppedResponse()
        return JSONResponse({"name": f"models/{model}/operations/{job.id}"})

    @app.get("/v1beta/models/{model}/operations/{op}")
    def operation(model: str, op: str, request: Request) -> Response:
        if (d := denied(request)) is not None:
            return d
        job = vendor.find(op)
        if job is None:
            return JSONResponse({"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}}, status_code=404)
        state = vendor.status(job)
        name = f"models/{model}/operations/{op}"
        if state in ("queued", "running"):
            return JSONResponse({"name": name, "done": False})
        if state == "failed":
            return JSONResponse({"name": name, "done": True, "error": {"code": 13, "message": "internal error"}})
        samples = [] if state == "moderated" else [{"video": {"uri": vendor.video_url(job)}}]
        response: dict[str, Any] = {"generatedSamples": samples}
        if not samples:
            response |= {"raiMediaFilteredCount": 1, "raiMediaFilteredReasons": ["The prompt was blocked by safety filters"]}
        return JSONResponse({"name": name, "done": True, "response": {"generateVideoResponse": response}})

    return app


def minimax_app(vendor: FakeVendor, key: str = "mm-test") -> FastAPI:
    app = FastAPI(title="fake minimax")
    vendor.moderation_reads_as_failure = True  # the query answers "Fail" for both (below)
    attach_common(app, vendor)

    def base(code: int = 0, msg: str = "success", **data: Any) -> JSONResponse:
        return JSONResponse({**data, "base_resp": {"status_code": code, "status_msg": msg}})  # always HTTP 200

    def ok(request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {key}"

    @app.post("/v1/video_generation")
    async def create(request: Request) -> Response:
        if not ok(request):
            return base(1004, "authentication failed")
        body = await request.json()
        problem = minimax_problem(body)
        if problem:
            return base(2013, problem)
        fault = vendor.create_fault()
        if fault == "429":
            return base(1002, "rate limit")
        if fault == "out_of_credit":
            return base(1008, "insufficient balance")
        if fault in ("5xx", "timeout"):
            return base(1024, "internal error")
        if vendor.roll("moderated") and vendor.roll("moderated"):
            return base(1026, "input contains sensitive content")
        job = vendor.create("", *size_for("16:9"), decode_image(body.get("first_frame_image")), body, body.get("duration", 6))
        if vendor.roll("drop_response"):
            return DroppedResponse()
        return base(task_id=job.id)

    @app.get("/v1/query/video_generation")
    def query(task_id: str, request: Request) -> Response:
        job = vendor.find(task_id)
        if not ok(request) or job is None:
            return base(1004 if not ok(request) else 2013, "not found")
        state = vendor.status(job)
        status = {"queued": "Queueing", "running": "Processing", "succeeded": "Success"}.get(state, "Fail")
        extra: dict[str, Any] = {"file_id": job.id, "video_width": job.width, "video_height": job.height} if state == "succeeded" else {}
        return base(task_id=job.id, status=status, **extra)

    @app.get("/v1/files/retrieve")
    def retrieve(file_id: str, request: Request) -> Response:
        job = vendor.find(file_id)
        if not ok(request) or job is None:
            return base(1004 if not ok(request) else 2013, "file not found")
        return base(file={"file_id": job.id, "download_url": vendor.video_url(job)})

    return app


def luma_app(vendor: FakeVendor, key: str = "luma-test") -> FastAPI:
    app = FastAPI(title="fake luma agents")
    attach_common(app, vendor)

    def body_of(job: Any) -> dict[str, Any]:
        state = vendor.status(job)
        out: dict[str, Any] = {"id": job.id, "state": {"queued": "queued", "running": "processing",
                                                       "succeeded": "completed"}.get(state, "failed")}
        if state == "succeeded":
            out["output"] = [{"type": "video", "url": vendor.video_url(job)}]
        elif state == "moderated":
            out |= {"failure_code": "content_moderated", "failure_reason": "prompt flagged by moderation"}
        elif state in ("failed", "cancelled"):
            out |= {"failure_code": "internal_error", "failure_reason": "generation failed"}
        return out

    @app.post("/v1/generations")
    async def create(request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {key}":
            return JSONResponse({"detail": "Invalid API key"}, status_code=401)
        body = await request.json()
        if body.get("model") != "ray-3.2" or body.get("type") != "video":
            return JSONResponse({"detail": "invalid_request"}, status_code=400)
        fault = plain_fault(vendor)
        if fault is not None:
            return fault
        frame = (body.get("video") or {}).get("start_frame") or {}
        job = vendor.create(body.get("user_id", ""), *size_for(body.get("aspect_ratio", "16:9")),
                            decode_image(frame.get("data")), body, (body.get("video") or {}).get("duration", "5s"))
        if vendor.roll("drop_response"):
            return DroppedResponse()
        return JSONResponse(body_of(job), status_code=201)

    @app.get("/v1/generations/{gid}")
    def get(gid: str, request: Request) -> Response:
        job = vendor.find(gid)
        if request.headers.get("authorization") != f"Bearer {key}" or job is None:
            return JSONResponse({"detail": "not found"}, status_code=404)
        return JSONResponse(body_of(job))

    return app
