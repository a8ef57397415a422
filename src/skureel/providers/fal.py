"""fal.ai queue API: submit, status, result, cancel; `Key` auth; models addressed by id."""

from __future__ import annotations

import base64
from typing import Any

from skureel.providers.base import JobFailed, JobRef, JobRequest, JobState, Provider
from skureel.providers.capabilities import model_caps

AVATAR_MODEL = "fal-ai/kling-video/ai-avatar/v2/standard"


class FalProvider(Provider):
    name = "fal"
    default_base_url = "https://queue.fal.run"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Key {self.key('FAL_KEY')}"}

    async def submit(self, request: JobRequest) -> JobRef:
        r = request.rendered
        if request.shot.kind == "avatar":  # Kling AI Avatar v2 on fal: photo + our speech
            if not request.image or not request.audio:
                raise JobFailed(self.name, "an avatar needs a presenter photo and speech audio")
            body_avatar = {"image_url": f"data:{request.image_mime};base64,{base64.b64encode(request.image).decode()}",
                           "audio_url": f"data:{request.audio_mime};base64,{base64.b64encode(request.audio).decode()}",
                           "prompt": r.prompt[:2500]}
            return await self._post(AVATAR_MODEL, body_avatar, request.content_key)
        return await self._post(r.model, self._input(request), request.content_key)

    def _input(self, request: JobRequest) -> dict[str, Any]:
        """Each fal endpoint names its fields its own way (v3 `start_image_url`, O3 `image_url`) and defaults audio
        differently (v3 on, O3 off), so the model's spec decides and audio is always sent explicitly."""
        r = request.rendered
        spec = model_caps(self.name, r.model).model
        body: dict[str, Any] = {"prompt": r.prompt, "duration": str(int(r.duration_s))}
        if r.negative_prompt:
            body["negative_prompt"] = r.negative_prompt
        if spec is not None and spec.audio_field:
            body[spec.audio_field] = r.params.get("sound") == "on"
        takes_image = spec is None or spec.image_to_video is not False
        if request.image and takes_image:
            body[spec.image_field if spec and spec.image_field else "image_url"] = _data_uri(request.image,
                                                                                             request.image_mime)
        else:
            body["aspect_ratio"] = r.aspect_ratio
        if spec is not None and spec.references_field and request.references:
            body[spec.references_field] = [_data_uri(x, "image/jpeg") for x in request.references[: spec.max_references]]
        if spec is not None and spec.multi_shot and request.storyboard:
            shots = request.storyboard[:6]
            seconds = [max(1, int(round(s.duration_s))) for s in shots]
            del body["prompt"]  # prompt xor multi_prompt
            body |= {"multi_prompt": [{"prompt": s.prompt[:512], "duration": str(d)} for s, d in zip(shots, seconds, strict=True)],
                     "shot_type": "customize", "duration": str(sum(seconds))}
        return body

    async def _post(self, model: str, body: dict[str, Any], key: str) -> JobRef:
        response = await self.send("POST", f"{self.base_url}/{model}", json=body, headers=self._headers(), create=True)
        if response.status_code not in (200, 201, 202):
            if response.status_code == 422:
                raise JobFailed(self.name, f"invalid input: {response.text[:200]}", code="422")
            raise self.http_error(response)
        data = response.json()
        return JobRef(provider=self.name, job_id=data["request_id"], content_key=key,
                      extra={k: data[k] for k in ("status_url", "response_url", "cancel_url") if k in data})

    async def poll(self, ref: JobRef) -> JobState:
        response = await self.send("GET", ref.extra["status_url"], headers=self._headers())
        if response.status_code not in (200, 202):
            raise self.http_error(response)
        data = response.json()
        status = data.get("status")
        if status == "IN_QUEUE":
            return JobState(status="queued")
        if status == "IN_PROGRESS":
            return JobState(status="running")
        if data.get("error"):
            kind = data.get("error_type") or response.headers.get("X-Fal-Error-Type", "")
            return JobState(status="failed", error=str(data["error"]), error_code=kind,
                            moderated="content_policy" in kind or "moderat" in str(data["error"]).lower())
        result = await self.send("GET", ref.extra["response_url"], headers=self._headers())
        if result.status_code != 200:
            raise self.http_error(result)
        video = (result.json().get("video") or {}).get("url")
        return JobState(status="succeeded", video_url=video)

    async def cancel(self, ref: JobRef) -> None:
        if "cancel_url" in ref.extra:
            await self.send("PUT", ref.extra["cancel_url"], headers=self._headers())


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"
