"""Fake Kling: JWT or single-key auth (1000-series), field and input-image validation per model (1201, rules in
klingrules.py), 429/1302-1303 and 1102, external_task_id, the 3.0 Omni endpoint, Motion Control and lip-sync;
image-to-video output follows the image's aspect, as the vendor's does."""

from __future__ import annotations

import time
import warnings
from typing import Any

import jwt
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from skureel.fakefaults import DroppedResponse
from skureel.providers.fake.common import FakeVendor, attach_common, decode_image, size_for
from skureel.providers.fake.klingrules import (
    first_image,
    motion_problem,
    output_aspect,
    reference_seconds,
    validate,
)

MODELS = {"kling-v1", "kling-v1-5", "kling-v1-6", "kling-v2-master", "kling-v2-1", "kling-v2-1-master",
          "kling-v2-5-turbo", "kling-v2-6", "kling-v3"}
OMNI_MODELS = {"kling-v3-omni", "kling-video-o1"}
STATUS = {"queued": "submitted", "running": "processing", "succeeded": "succeed", "failed": "failed",
          "moderated": "failed", "cancelled": "failed"}


def create_app(vendor: FakeVendor, access_key: str = "ak-test", secret_key: str = "sk-test",
               api_key: str = "kling-key-test") -> FastAPI:
    app = FastAPI(title="fake kling")
    attach_common(app, vendor)

    def envelope(code: int, message: str, data: Any = None, status: int = 200) -> JSONResponse:
        return JSONResponse({"code": code, "message": message, "request_id": f"req-{time.time_ns()}", "data": data},
                            status_code=status)

    # tokens whose signature and issuer checked out -> (nbf, exp): a client reuses its token for many requests
    verified: dict[str, tuple[float, float]] = {}

    def auth(request: Request) -> JSONResponse | None:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            return envelope(1001, "Authorization is empty", status=401)
        if api_key and header[7:] == api_key:  # the single API key, sent as it is
            return None
        window = verified.get(header[7:])
        if window is not None:  # signature and issuer already checked: only the clock is asked again
            now = time.time()
            if window[1] <= now:
                return envelope(1004, "Authorization is expired", status=401)
            return None if window[0] <= now else envelope(1003, "Authorization is not yet valid", status=401)
        try:
            warnings.simplefilter("ignore")
            claims = jwt.decode(header[7:], secret_key, algorithms=["HS256"], options={"require": ["exp", "nbf", "iss"]})
        except jwt.ExpiredSignatureError:
            return envelope(1004, "Authorization is expired", status=401)
        except jwt.ImmatureSignatureError:
            return envelope(1003, "Authorization is not yet valid", status=401)
        except jwt.PyJWTError:
            return envelope(1002, "Authorization is invalid", status=401)
        if claims.get("iss") != access_key:
            return envelope(1002, "Authorization is invalid", status=401)
        verified[header[7:]] = (float(claims["nbf"]), float(claims["exp"]))
        return None

    def task_data(job: Any) -> dict[str, Any]:
        state = vendor.status(job)
        # epoch milliseconds; a task is last updated when it changed state (a finished one when it finished)
        changed = job.ready_at if state in ("succeeded", "failed", "moderated") else job.created
        data: dict[str, Any] = {"task_id": job.id, "task_status": STATUS[state],
                                "task_info": {"external_task_id": job.key}, "created_at": _epoch_ms(job.created),
                                "updated_at": _epoch_ms(changed)}
        if state == "moderated":
            data["task_status_msg"] = "Failure to pass the risk control system"
        elif state == "failed":
            data["task_status_msg"] = "internal generation failure"
        if state == "succeeded":
            video = {"id": job.id, "url": vendor.video_url(job), "duration": f"{job.seconds:g}"}
            if (job.inputs.get("watermark_info") or {}).get("enabled"):
                video["watermark_url"] = vendor.video_url(job)
            data["task_result"] = {"videos": [video]}
            data["final_unit_deduction"] = f"{job.seconds * (0.8 if job.inputs.get('mode') == 'pro' else 0.6):g}"
        return data

    async def create(request: Request, kind: str) -> Response:
        denied = auth(request)
        if denied:
            return denied
        body = await request.json()
        if kind == "avatar/image2video":
            if not body.get("image") or not (body.get("sound_file") or body.get("audio_id")):
                return envelope(1201, "image and one of sound_file or audio_id are required", status=400)
            if body.get("sound_file") and body.get("audio_id"):
                return envelope(1201, "give sound_file or audio_id, not both", status=400)
            body.setdefault("duration", "5")
        problem = validate(kind, body)
        if problem:
            return envelope(1201, problem, status=400)
        external = body.get("external_task_id") or ""
        if external and vendor.find(external):
            return envelope(1201, "external_task_id already exists", status=400)
        fault = vendor.create_fault()
        if fault == "out_of_credit":
            return envelope(1102, "resource pack exhausted", status=429)
        if fault == "429":
            return envelope(1302, "rate limit exceeded", status=429)
        if fault == "5xx":
            return envelope(5000, "internal error", status=500)
        if fault == "timeout":
            await vendor.maybe_timeout()
            return envelope(5002, "backlog timeout", status=504)
        if vendor.active() >= vendor.concurrency:
            return envelope(1303, "parallel task over resource pack limit", status=429)
        if vendor.roll("moderated") and vendor.roll("moderated"):
            return envelope(1301, "prompt or image failed content safety review", status=400)
        image, framed = first_image(kind, body)
        width, height = size_for(output_aspect(image) if framed else body.get("aspect_ratio", "16:9"))
        job = vendor.create(external, width, height, decode_image(image), body, body.get("duration", "5"))
        job.sound = body.get("sound") == "on"
        if vendor.roll("drop_response"):
            return DroppedResponse()
        return envelope(0, "SUCCEED", task_data(job))

    async def query(request: Request, ident: str) -> Response:
        denied = auth(request)
        if denied:
            return denied
        if vendor.roll("5xx"):
            return envelope(5000, "internal error", status=500)
        job = vendor.find(ident)
        if job is None:
            return envelope(1203, "task not found", status=404)
        return envelope(0, "SUCCEED", task_data(job))

    sessions: dict[str, dict[str, Any]] = {}

    @app.post("/v1/videos/motion-control")
    async def motion(request: Request) -> Response:
        denied = auth(request)
        if denied:
            return denied
        body = await request.json()
        problem = motion_problem(body)
        seconds = 0.0
        if problem is None:
            seconds, problem = await reference_seconds(str(body["video_url"]), body["character_orientation"])
        if problem:
            return envelope(1201, problem, status=400)
        external = body.get("external_task_id") or ""
        if external and vendor.find(external):
            return envelope(1201, "external_task_id already exists", status=400)
        job = vendor.create(external, *size_for(output_aspect(body["image_url"])), decode_image(body["image_url"]), body,
                            f"{seconds:g}")  # framed like the character image, as long as the reference
        job.sound = body.get("keep_original_sound", "yes") == "yes"
        if vendor.roll("drop_response"):
            return DroppedResponse()
        return envelope(0, "SUCCEED", task_data(job))

    app.add_api_route("/v1/videos/motion-control/{ident}", query, methods=["GET"])

    @app.post("/v1/videos/identify-face")
    async def identify_face(request: Request) -> Response:
        denied = auth(request)
        if denied:
            return denied
        body = await request.json()
        if not (body.get("video_id") or body.get("video_url")):
            return envelope(1201, "video_id or video_url is required", status=400)
        session_id = f"sess-{time.time_ns()}"
        sessions[session_id] = {"video_url": body.get("video_url"), "created": time.time()}
        return envelope(0, "SUCCEED", {"session_id": session_id, "face_data": [
            {"face_id": "0", "face_image": "", "start_time": 0, "end_time": 5000}]})

    @app.post("/v1/videos/advanced-lip-sync")
    async def lip_sync(request: Request) -> Response:
        denied = auth(request)
        if denied:
            return denied
        body = await request.json()
        chosen = body.get("face_choose") or []
        if body.get("session_id") not in sessions or len(chosen) != 1:
            return envelope(1201, "a valid session_id and exactly one face_choose entry are required", status=400)
        if not (chosen[0].get("sound_file") or chosen[0].get("audio_id")) or chosen[0].get("face_id") != "0":
            return envelope(1201, "face_choose needs the face_id and a sound_file or audio_id", status=400)
        external = body.get("external_task_id") or ""
        if external and vendor.find(external):
            return envelope(1201, "external_task_id already exists", status=400)
        job = vendor.create(external, *size_for("9:16"), None, body, "5")
        job.sound = True  # the clip now speaks the sound_file
        if vendor.roll("drop_response"):
            return DroppedResponse()
        return envelope(0, "SUCCEED", task_data(job))

    app.add_api_route("/v1/videos/advanced-lip-sync/{ident}", query, methods=["GET"])

    def creator(kind: str) -> Any:
        async def endpoint(request: Request) -> Response:
            return await create(request, kind)
        return endpoint

    for kind in ("image2video", "text2video", "avatar/image2video", "omni-video"):
        app.add_api_route(f"/v1/videos/{kind}", creator(kind), methods=["POST"])
        app.add_api_route(f"/v1/videos/{kind}/{{ident}}", query, methods=["GET"])
    return app


def _epoch_ms(monotonic: float) -> int:
    """A moment of the fake's monotonic clock on the epoch clock the API reports."""
    return int((time.time() - time.monotonic() + monotonic) * 1000)
