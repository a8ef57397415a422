"""Kling official API: single-key Bearer or AK/SK JWT auth, image2video/text2video (v1.6 to 3.0), the 3.0 Omni
endpoint with the SKU's gallery as `image_list`, multi-shot storyboards, native sound, Motion Control (avatars then
lip-synced), external_task_id recovery, and a one-line reason when the vendor refuses a photo."""

from __future__ import annotations

import asyncio
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
    TimedOut,
    Transient,
    UnknownOutcome,
)
from skureel.providers.capabilities import model_caps
from skureel.providers.modelspec import ModelSpec

MOTION_ENDPOINT = "/v1/videos/motion-control"
LIP_SYNC_ENDPOINT = "/v1/videos/advanced-lip-sync"
OMNI_MAX_IMAGES = 7  # image_list, all kinds together (4 when a video is given; we send none)


class _Envelope(BaseModel):
    code: int
    message: str = ""
    request_id: str = ""
    data: dict[str, Any] | None = None


class _Video(BaseModel):
    id: str = ""
    url: str
    watermark_url: str = ""
    duration: str = ""


class _Task(BaseModel):
    task_id: str
    task_status: str
    task_status_msg: str = ""
    task_result: dict[str, list[_Video]] = Field(default_factory=dict)
    created_at: int = 0  # epoch ms
    updated_at: int = 0


_STATUS = {"submitted": "queued", "processing": "running", "succeed": "succeeded", "failed": "failed"}


class KlingProvider(Provider):
    name = "kling"
    default_base_url = "https://api-singapore.klingai.com"
    lookup_is_authoritative = True  # external_task_id: queryable, and unique per account
    _token: tuple[str, float] | None = None

    def _auth(self) -> dict[str, str]:
        api_key = self.credentials.get("KLING_API_KEY")
        if api_key:  # the newer single key goes as-is; no token to mint or refresh
            return {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
        now = time.time()
        if self._token is None or self._token[1] - now < 300:  # refresh well before expiry
            access, secret = self.credentials.get("KLING_ACCESS_KEY"), self.credentials.get("KLING_SECRET_KEY")
            if not access or not secret:
                raise MissingCredentials(self.name, "set KLING_API_KEY, or KLING_ACCESS_KEY and KLING_SECRET_KEY")
            with warnings.catch_warnings():  # PyJWT warns about short test secrets; the vendor sets the length
                warnings.simplefilter("ignore")
                token = jwt.encode({"iss": access, "exp": int(now) + 1800, "nbf": int(now) - 5}, secret,
                                   algorithm="HS256", headers={"alg": "HS256", "typ": "JWT"})
            self._token = (token, now + 1800)
        return {"Authorization": f"Bearer {self._token[0]}", "Content-Type": "application/json"}

    def _raise_for(self, status: int, envelope: _Envelope) -> None:
        code, message = envelope.code, " ".join((envelope.message or "error").split())[:300]  # one line, bounded
        if code == 0:
            return
        if code in (1200, 1201) and "image" in message:  # the vendor's size/aspect/format rules for input photos
            raise JobFailed(self.name, f"the photo was refused: {message}", code=str(code))
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
        if request.rendered.params.get("motion_reference"):  # an avatar's last step is the lip-sync of the motion
            return LIP_SYNC_ENDPOINT if request.shot.kind == "avatar" else MOTION_ENDPOINT
        if request.shot.kind == "avatar":
            return "/v1/videos/avatar/image2video"
        spec = self._spec(request)
        if spec is not None and spec.endpoint:
            return spec.endpoint
        return "/v1/videos/image2video" if request.image else "/v1/videos/text2video"

    @staticmethod
    def _spec(request: JobRequest) -> ModelSpec | None:
        return model_caps("kling", request.rendered.model).model

    async def _submit_avatar(self, request: JobRequest) -> JobRef:
        """Presenter photo + our own speech (sound_file, base64) -> a talking avatar."""
        if not request.image or not request.audio:
            raise JobFailed(self.name, "an avatar needs a presenter photo and speech audio")
        body = {"image": base64.b64encode(request.image).decode(), "sound_file": base64.b64encode(request.audio).decode(),
                "prompt": request.rendered.prompt[:2500], "mode": request.rendered.params.get("mode", "std"),
                "external_task_id": request.external_id}
        endpoint = self._endpoint(request)
        return await self._create(endpoint, body, request.external_id)

    async def motion_control(self, image: bytes, video_url: str, content_key: str, *, orientation: str = "image",
                             mode: str = "std", prompt: str = "", keep_sound: bool = False,
                             model: str = "kling-v3") -> JobRef:
        """Motion Control 3.0: the body motion of a reference clip (3-10 s, 30 s with orientation `video`) moved onto
        the person in one image. No duration, aspect or seed: the output runs as long as the usable reference."""
        body: dict[str, Any] = {"model_name": model, "image_url": base64.b64encode(image).decode(),
                                "video_url": video_url, "character_orientation": orientation, "mode": mode,
                                "keep_original_sound": "yes" if keep_sound else "no", "external_task_id": content_key}
        if prompt:
            body["prompt"] = prompt[:2500]  # scene, style and camera; the motion itself comes from the video
        return await self._create(MOTION_ENDPOINT, body, content_key)

    async def _motion(self, request: JobRequest, key: str) -> JobRef:
        params = request.rendered.params
        if not request.image:
            raise JobFailed(self.name, "motion control needs the photo to move")
        model = "kling-v2-6" if request.rendered.model == "kling-v2-6" else "kling-v3"
        return await self.motion_control(request.image, str(params["motion_reference"]), key,
                                         orientation=str(params.get("orientation", "image")),
                                         mode=str(params.get("mode", "std")), prompt=request.rendered.prompt, model=model)

    async def _motion_avatar(self, request: JobRequest) -> JobRef:
        """The presenter moved like the reference clip (Motion Control), then that clip lip-synced to our speech:
        two paid jobs, each found again by its own external_task_id first, so a retried or resumed submit never
        pays for either twice. Returns the lip-sync job, the one the pipeline polls and downloads."""
        if not request.audio:
            raise JobFailed(self.name, "an avatar needs speech audio to lip-sync")
        moved_key = f"{request.external_id}-motion"
        moved = await self._lookup(MOTION_ENDPOINT, moved_key)
        if moved is None:
            try:
                moved = await self._motion(request, moved_key)
            except UnknownOutcome:  # the answer was lost: the job may exist, and its external id finds it
                moved = await self._lookup(MOTION_ENDPOINT, moved_key)
                if moved is None:
                    raise
        state = await self._until_done(moved)
        if state.status != "succeeded" or not state.video_url:
            raise JobFailed(self.name, f"motion control failed: {state.error or 'no video'}", code=state.error_code)
        return await self.lip_sync(state.video_url, request.audio, request.external_id)

    async def _until_done(self, ref: JobRef, deadline_s: float = 1800.0) -> JobState:
        """A job this adapter needs finished before its next step (the pipeline polls only the last one)."""
        start, delay = time.monotonic(), 0.25
        while True:
            state = await self.poll(ref)
            if state.status in ("succeeded", "failed"):
                return state
            if time.monotonic() - start > deadline_s:
                raise TimedOut(self.name, f"motion control did not finish within {deadline_s:g} s")
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 10.0)

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
        return await self._create(LIP_SYNC_ENDPOINT, body, content_key)

    async def submit(self, request: JobRequest) -> JobRef:
        params = request.rendered.params
        if params.get("motion_reference"):  # planned from the brand kit's reference clip (planning/motion.py)
            if request.shot.kind == "avatar":
                return await self._motion_avatar(request)
            return await self._motion(request, request.external_id)
        if request.shot.kind == "avatar":
            return await self._submit_avatar(request)
        spec = self._spec(request)
        omni = spec is not None and spec.endpoint == "/v1/videos/omni-video"
        body = self._omni_body(request) if omni else self._classic_body(request, spec)
        endpoint = self._endpoint(request)
        return await self._create(endpoint, body, request.external_id)

    def _common(self, request: JobRequest, spec: ModelSpec | None) -> dict[str, Any]:
        """Fields every video endpoint shares: model (always sent: Omni falls back to O1 without it), length, sound."""
        rendered = request.rendered
        body: dict[str, Any] = {"model_name": rendered.model, "prompt": rendered.prompt[:2500],
                                "mode": rendered.params.get("mode", "std"), "duration": str(int(rendered.duration_s)),
                                "external_task_id": request.external_id}
        if spec is not None and spec.audio_field == "sound":
            body["sound"] = "on" if rendered.params.get("sound") == "on" else "off"
        if request.storyboard:
            body |= _storyboard(request)
        return body

    def _classic_body(self, request: JobRequest, spec: ModelSpec | None) -> dict[str, Any]:
        rendered = request.rendered
        body = self._common(request, spec)
        if rendered.negative_prompt:
            body["negative_prompt"] = rendered.negative_prompt[:2500]
        if rendered.model.startswith("kling-v1"):
            body["cfg_scale"] = 0.5  # not taken by the v2 family; v3 support is unconfirmed, so left out
        if rendered.camera_control and not request.storyboard and (spec is None or spec.camera_control):
            body["camera_control"] = rendered.camera_control
        if request.image:
            body["image"] = base64.b64encode(request.image).decode()  # raw base64, no data: prefix
        else:
            body["aspect_ratio"] = rendered.aspect_ratio  # image-to-video follows the image
        return body

    def _omni_body(self, request: JobRequest) -> dict[str, Any]:
        """3.0 Omni: the hero as the first frame (our reframing expects the product where the photo has it), then the
        SKU's other photos as untyped references the prompt names; a storyboard forbids frames, so all are references."""
        body = self._common(request, self._spec(request))
        images: list[dict[str, str]] = []
        if request.image:
            hero: dict[str, str] = {"image_url": base64.b64encode(request.image).decode()}
            if not request.storyboard:
                hero["type"] = "first_frame"
            images.append(hero)
        for ref in request.references[: OMNI_MAX_IMAGES - len(images)]:
            images.append({"image_url": base64.b64encode(ref).decode()})
        if images:
            body["image_list"] = images
            body["prompt"] = _with_references(request.rendered.prompt, len(images))
        if not any(i.get("type") == "first_frame" for i in images):
            body["aspect_ratio"] = request.rendered.aspect_ratio  # required without a first frame
        return body

    async def _create(self, endpoint: str, body: dict[str, Any], key: str) -> JobRef:
        """One paid create; a lost answer surfaces as UnknownOutcome and is found again by external_task_id."""
        response = await self.send("POST", self.base_url + endpoint, json=body, headers=self._auth(), create=True)
        envelope = self._envelope(response)
        self._raise_for(response.status_code, envelope)
        task = _Task.model_validate(envelope.data or {})
        return JobRef(provider=self.name, job_id=task.task_id, content_key=key, extra={"endpoint": endpoint})

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
        ran_s = (task.updated_at - task.created_at) / 1000 if (
            status == "succeeded" and task.created_at and task.updated_at > task.created_at) else None
        return JobState(status=status, video_url=videos[0].url if videos else None,
                        error=task.task_status_msg or None, moderated=moderated, ran_s=ran_s)

    async def recover(self, request: JobRequest) -> JobRef | None:
        """external_task_id is unique per account and queryable: a lost create answer is found again."""
        return await self._lookup(self._endpoint(request), request.external_id)

    async def _lookup(self, endpoint: str, key: str) -> JobRef | None:
        envelope = await self._query(endpoint, key)
        if envelope.code != 0 or not envelope.data:
            return None
        task = _Task.model_validate(envelope.data)
        return JobRef(provider=self.name, job_id=task.task_id, content_key=key, extra={"endpoint": endpoint})


def _with_references(prompt: str, count: int) -> str:
    """Name the images the way Omni reads them (<<<image_N>>>), keeping the whole prompt under 2500 characters."""
    refs = " and ".join(f"<<<image_{i}>>>" for i in range(2, count + 1))
    tail = " The product is exactly the one in <<<image_1>>>" + (f"; its other sides and details as in {refs}" if refs else "")
    tail += "."
    return prompt[: 2500 - len(tail)].rstrip() + tail


def _storyboard(request: JobRequest) -> dict[str, Any]:
    """multi_prompt: 1-6 shots, each >= 1 s and <= 512 characters, durations summing to the clip's."""
    shots = request.storyboard[:6]
    seconds = [max(1, int(round(s.duration_s))) for s in shots]
    return {"multi_shot": True, "shot_type": "customize", "duration": str(sum(seconds)),
            "multi_prompt": [{"index": i + 1, "prompt": s.prompt[:512], "duration": str(d)}
                             for i, (s, d) in enumerate(zip(shots, seconds, strict=True))]}
