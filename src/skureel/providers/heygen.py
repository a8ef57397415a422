"""HeyGen talking photo: upload the photo, create the photo avatar, generate with a text voice, poll v1 status."""

from __future__ import annotations

import os
from typing import Any

from skureel.providers.base import JobFailed, JobRef, JobRequest, JobState, Provider

_STATUS = {"waiting": "queued", "pending": "queued", "processing": "running", "completed": "succeeded", "failed": "failed"}
_VOICES = {"en": "1bd001e7e50f421d891986aad5158bc8", "de": "bcd7fa9d8cf04c1bb46b6a7e6e61fba3"}  # HeyGen stock voices


class HeygenProvider(Provider):
    name = "heygen"
    default_base_url = "https://api.heygen.com"

    @property
    def upload_url(self) -> str:
        override = os.environ.get("SKUREEL_HEYGEN_UPLOAD_URL")
        if override:
            return override.rstrip("/")
        return self.base_url if self.base_url != self.default_base_url else "https://upload.heygen.com"

    def _headers(self) -> dict[str, str]:
        return {"X-Api-Key": self.key("HEYGEN_API_KEY")}

    def _data(self, response: Any) -> dict[str, Any]:
        if response.status_code != 200:
            raise self.http_error(response)
        body = response.json()
        if body.get("error"):
            raise JobFailed(self.name, str(body["error"].get("message") if isinstance(body["error"], dict) else body["error"]))
        return dict(body.get("data") or {})

    async def submit(self, request: JobRequest) -> JobRef:
        if not request.image:
            raise JobFailed(self.name, "a talking photo needs a presenter photo")
        upload = await self.send("POST", f"{self.upload_url}/v1/asset", content=request.image,
                                 headers={**self._headers(), "Content-Type": request.image_mime})
        image_key = self._data(upload).get("image_key")
        group = await self.send("POST", f"{self.base_url}/v2/photo_avatar/avatar_group/create",
                                json={"name": request.content_key[:32], "image_key": image_key}, headers=self._headers())
        talking_photo_id = self._data(group).get("id") or self._data(group).get("group_id")
        language = (request.shot.language or "en").split("-")[0]
        body = {"video_inputs": [{"character": {"type": "talking_photo", "talking_photo_id": talking_photo_id},
                                  "voice": {"type": "text", "input_text": request.shot.audio.voice_over or "",
                                            "voice_id": _VOICES.get(language, _VOICES["en"])}}],
                "dimension": {"width": 720, "height": 1280}, "title": request.content_key, "caption": False}
        response = await self.send("POST", f"{self.base_url}/v2/video/generate", json=body, headers=self._headers(),
                                   create=True)
        return JobRef(provider=self.name, job_id=str(self._data(response)["video_id"]), content_key=request.content_key)

    async def poll(self, ref: JobRef) -> JobState:
        response = await self.send("GET", f"{self.base_url}/v1/video_status.get", params={"video_id": ref.job_id},
                                   headers=self._headers())
        data = self._data(response)
        status = _STATUS.get(data.get("status", ""), "running")
        error = data.get("error") or {}
        message = error.get("message") if isinstance(error, dict) else str(error) if error else None
        moderated = bool(message) and "moderat" in str(message).lower()
        if moderated and status == "failed":
            return JobState(status="failed", error=message, moderated=True)
        return JobState(status=status, video_url=data.get("video_url"), error=message)
