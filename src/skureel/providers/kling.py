"""Kling official API: JWT auth, image2video/text2video, camera control, external_task_id recovery."""

from __future__ import annotations

import base64
import time
import warnings
from typing import Any

import jwt
from pydantic import BaseModel, Field

from skureel.providers.base import (
    JobFailed,
    JobRef,
    JobRequest,
    JobState,
    MissingCredentials,
    OutOfCredit,
    Provider,
    RateLimited,
    Rejected,
    Transient,
)


class _Envelope(BaseModel):
    code: int
    message: str = ""
    request_id: str = ""
    data: dict[str, Any] | None = None


class _Video(BaseModel):
    id: str = ""
    url: str
    duration: str = ""


class _Task(BaseModel):
    task_id: str
    task_status: str
    task_status_msg: str = ""
    task_result: dict[str, list[_Video]] = Field(default_factory=dict)


_STATUS = {"submitted": "queued", "processing": "running", "succeed": "succeeded", "failed": "failed"}


class KlingProvider(Provider):
    name = "kling"
    default_base_url = "https://api-singapore.klingai.com"
    _token: tuple[str, float] | None = None

    def _auth(self) -> dict[str, str]:
        now = time.time()
        if self._token is None or self._token[1] - now < 300:  # refresh well before expiry
            access, secret = self.credentials.get("KLING_ACCESS_KEY"), self.credentials.get("KLING_SECRET_KEY")
            if not access or not secret:
                raise MissingCredentials(self.name, "set KLING_ACCESS_KEY and KLING_SECRET_KEY")
            with warnings.catch_warnings():  # PyJWT warns about short test secrets; the vendor sets the length
                warnings.simplefilter("ignore")
                token = jwt.encode({"iss": access, "exp": int(now) + 1800, "nbf": int(now) - 5}, secret,
                                   algorithm="HS256", headers={"alg": "HS256", "typ": "JWT"})
            self._token = (token, now + 1800)
        return {"Authorization": f"Bearer {self._token[0]}", "Content-Type": "application/json"}

    def _raise_for(self, status: int, envelope: _Envelope) -> None:
        code, message = envelope.code, envelope.message or "error"
        if code == 0:
            return
        if code in (1302, 1303):
            raise RateLimited(self.name, message, code=str(code))  # no Retry-After: exponential backoff from >= 1 s
        if code in (1101, 1102):
            raise OutOfCredit(self.name, message, code=str(code))
        if code in (1300, 1301):
            raise Rejected(self.name, message, code=str(code))
        if 1000 <= code <= 1004:
            self._token = None
            raise MissingCredentials(self.name, f"authentication failed: {message}", code=str(code))
        if code >= 5000 or status >= 500:
            raise Transient(self.name, message, code=str(code))
        raise JobFailed(self.name, message, code=str(code))

    def _endpoint(self, request: JobRequest) -> str:
        if request.shot.kind == "avatar":
            return "/v1/videos/avatar/image2video"
        return "/v1/videos/image2video" if request.image else "/v1/videos/text2video"

    async def _submit_avatar(self, request: JobRequest) -> JobRef:
        """Presenter photo + our own speech (sound_file, base64) -> a talking avatar."""
        if not request.image or not request.audio:
            raise JobFailed(self.name, "an avatar needs a presenter photo and speech audio")
        body = {"image": base64.b64encode(request.image).decode(), "sound_file": base64.b64encode(request.audio).decode(),
                "prompt": request.rendered.prompt[:2500], "mode": request.rendered.params.get("mode", "std"),
                "external_task_id": request.content_key}
        endpoint = self._endpoint(request)
        response = await self.send("POST", self.base_url + endpoint, json=body, headers=self._auth(), create=True)
        envelope = self._envelope(response)
        self._raise_for(response.status_code, envelope)
        task = _Task.model_validate(envelope.data or {})
        return JobRef(provider=self.name, job_id=task.task_id, content_key=request.content_key, extra={"endpoint": endpoint})

    async def lip_sync(self, video_url: str, audio: bytes, content_key: str, *, start_ms: int = 0) -> JobRef:
        """Lip-sync an existing clip (one face) to our speech: identify-face, then advanced-lip-sync."""
        response = await self.send("POST", f"{self.base_url}/v1/videos/identify-face", json={"video_url": video_url},
                                   headers=self._auth())
        envelope = self._envelope(response)
        self._raise_for(response.status_code, envelope)
        data = envelope.data or {}
        faces = data.get("face_data") or []
        if not faces:
            raise JobFailed(self.name, "no face found in the clip to lip-sync")
        face = faces[0]
        duration_ms = int(face.get("end_time", 0)) - int(face.get("start_time", 0))
        body = {"session_id": data["session_id"], "external_task_id": content_key,
                "face_choose": [{"face_id": face["face_id"], "sound_file": base64.b64encode(audio).decode(),
                                 "sound_start_time": 0, "sound_end_time": max(2000, duration_ms),
                                 "sound_insert_time": start_ms, "sound_volume": 1.0, "original_audio_volume": 0.0}]}
        endpoint = "/v1/videos/advanced-lip-sync"
        response = await self.send("POST", self.base_url + endpoint, json=body, headers=self._auth(), create=True)
        envelope = self._envelope(response)
        self._raise_for(response.status_code, envelope)
        task = _Task.model_validate(envelope.data or {})
        return JobRef(provider=self.name, job_id=task.task_id, content_key=content_key, extra={"endpoint": endpoint})

    async def submit(self, request: JobRequest) -> JobRef:
        if request.shot.kind == "avatar":
            return await self._submit_avatar(request)
        rendered = request.rendered
        body: dict[str, Any] = {
            "model_name": rendered.model, "prompt": rendered.prompt, "mode": rendered.params.get("mode", "std"),
            "duration": str(int(rendered.duration_s)), "external_task_id": request.content_key,
        }
        if rendered.negative_prompt:
            body["negative_prompt"] = rendered.negative_prompt
        if not rendered.model.startswith("kling-v2"):
            body["cfg_scale"] = 0.5  # not supported by the v2 family
        if rendered.camera_control:
            body["camera_control"] = rendered.camera_control
        if request.image:
            body["image"] = base64.b64encode(request.image).decode()  # raw base64, no data: prefix
        else:
            body["aspect_ratio"] = rendered.aspect_ratio
        response = await self.send("POST", self.base_url + self._endpoint(request), json=body, headers=self._auth(),
                                   create=True)
        envelope = self._envelope(response)
        self._raise_for(response.status_code, envelope)
        task = _Task.model_validate(envelope.data or {})
        return JobRef(provider=self.name, job_id=task.task_id, content_key=request.content_key,
                      extra={"endpoint": self._endpoint(request)})

    def _envelope(self, response: Any) -> _Envelope:
        try:
            return _Envelope.model_validate(response.json())
        except ValueError:
            if response.status_code >= 500:
                raise Transient(self.name, f"HTTP {response.status_code}") from None
            raise JobFailed(self.name, f"unreadable answer (HTTP {response.status_code})") from None

    async def _query(self, endpoint: str, ident: str) -> _Envelope:
        response = await self.send("GET", f"{self.base_url}{endpoint}/{ident}", headers=self._auth())
        envelope = self._envelope(response)
        if envelope.code not in (0, 1203):
            self._raise_for(response.status_code, envelope)
        return envelope

    async def poll(self, ref: JobRef) -> JobState:
        envelope = await self._query(ref.extra.get("endpoint", "/v1/videos/image2video"), ref.job_id)
        if envelope.code == 1203:
            return JobState(status="failed", error="task not found", error_code="1203")
        task = _Task.model_validate(envelope.data or {})
        status = _STATUS.get(task.task_status, "running")
        videos = task.task_result.get("videos", [])
        moderated = "risk" in task.task_status_msg.lower() or "safety" in task.task_status_msg.lower()
        return JobState(status=status, video_url=videos[0].url if videos else None,
                        error=task.task_status_msg or None, moderated=moderated)

    async def recover(self, request: JobRequest) -> JobRef | None:
        """external_task_id is unique per account and queryable: a lost create answer is found again."""
        endpoint = self._endpoint(request)
        envelope = await self._query(endpoint, request.content_key)
        if envelope.code != 0 or not envelope.data:
            return None
        task = _Task.model_validate(envelope.data)
        return JobRef(provider=self.name, job_id=task.task_id, content_key=request.content_key, extra={"endpoint": endpoint})
