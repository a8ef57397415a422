"""Runway: X-Runway-Version, camelCase image_to_video, tasks that may sit in THROTTLED."""

from __future__ import annotations

import base64
from typing import Any

from skureel.providers.base import JobRef, JobRequest, JobState, Provider

VERSION = "2024-11-06"
_STATUS = {"PENDING": "queued", "THROTTLED": "queued", "RUNNING": "running", "SUCCEEDED": "succeeded",
           "FAILED": "failed", "CANCELLED": "failed"}
_RATIOS = {"16:9": "1280:720", "9:16": "720:1280", "1:1": "960:960", "4:5": "832:1104"}


class RunwayProvider(Provider):
    name = "runway"
    default_base_url = "https://api.dev.runwayml.com"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key('RUNWAYML_API_SECRET')}", "X-Runway-Version": VERSION}

    async def submit(self, request: JobRequest) -> JobRef:
        r = request.rendered
        body: dict[str, Any] = {"model": r.model, "promptText": r.prompt[:1000], "ratio": _RATIOS.get(r.aspect_ratio, "720:1280"),
                                "duration": int(r.duration_s), "seed": request.shot.seed % 4294967295}
        path = "/v1/image_to_video" if request.image else "/v1/text_to_video"
        if request.image:
            body["promptImage"] = f"data:{request.image_mime};base64,{base64.b64encode(request.image).decode()}"
        response = await self.send("POST", self.base_url + path, json=body, headers=self._headers(), create=True)
        if response.status_code not in (200, 201):
            raise self.http_error(response)
        return JobRef(provider=self.name, job_id=response.json()["id"], content_key=request.content_key)

    async def poll(self, ref: JobRef) -> JobState:
        response = await self.send("GET", f"{self.base_url}/v1/tasks/{ref.job_id}", headers=self._headers())
        if response.status_code != 200:
            raise self.http_error(response)
        data = response.json()
        code = data.get("failureCode") or ""
        output = data.get("output") or []
        return JobState(status=_STATUS.get(data.get("status", ""), "running"), progress=data.get("progress"),
                        video_url=output[0] if output else None, error=data.get("failure"), error_code=code or None,
                        moderated=code.startswith("SAFETY"))

    async def cancel(self, ref: JobRef) -> None:
        await self.send("DELETE", f"{self.base_url}/v1/tasks/{ref.job_id}", headers=self._headers())
