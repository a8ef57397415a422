"""Luma Agents API (ray-3.2): generations with presigned outputs that expire in an hour."""

from __future__ import annotations

import base64
from typing import Any

from skureel.providers.base import JobRef, JobRequest, JobState, Provider

_STATUS = {"queued": "queued", "processing": "running", "completed": "succeeded", "failed": "failed"}


class LumaProvider(Provider):
    name = "luma"
    default_base_url = "https://agents.lumalabs.ai"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key('LUMA_AGENTS_API_KEY')}"}

    async def submit(self, request: JobRequest) -> JobRef:
        r = request.rendered
        video: dict[str, Any] = {"duration": f"{int(r.duration_s)}s", "resolution": r.resolution or "720p"}
        if request.image:
            video["start_frame"] = {"data": base64.b64encode(request.image).decode(), "media_type": request.image_mime}
        body = {"type": "video", "model": r.model, "prompt": r.prompt, "aspect_ratio": r.aspect_ratio, "video": video,
                "user_id": request.content_key}
        response = await self.send("POST", f"{self.base_url}/v1/generations", json=body, headers=self._headers(), create=True)
        if response.status_code not in (200, 201):
            raise self.http_error(response)
        return JobRef(provider=self.name, job_id=response.json()["id"], content_key=request.content_key)

    async def poll(self, ref: JobRef) -> JobState:
        response = await self.send("GET", f"{self.base_url}/v1/generations/{ref.job_id}", headers=self._headers())
        if response.status_code != 200:
            raise self.http_error(response)
        data = response.json()
        code = data.get("failure_code") or ""
        output = [o for o in data.get("output") or [] if o.get("type") == "video"]
        return JobState(status=_STATUS.get(data.get("state", ""), "running"), video_url=output[0]["url"] if output else None,
                        error=data.get("failure_reason") or code or None, error_code=code or None,
                        moderated=code == "content_moderated", out_of_credit=code == "budget_exhausted")
