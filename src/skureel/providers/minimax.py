"""MiniMax Hailuo: create -> query -> file retrieve. Errors arrive with HTTP 200 in base_resp.status_code."""

from __future__ import annotations

import base64
from typing import Any

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

_STATUS = {"Preparing": "queued", "Queueing": "queued", "Processing": "running", "Success": "succeeded", "Fail": "failed"}


class MinimaxProvider(Provider):
    name = "minimax"
    default_base_url = "https://api.minimax.io"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key('MINIMAX_API_KEY')}"}

    def _check(self, response: Any) -> dict[str, Any]:
        if response.status_code != 200:
            raise self.http_error(response)
        data: dict[str, Any] = response.json()
        base = data.get("base_resp") or {}
        code, message = int(base.get("status_code", 0)), base.get("status_msg", "")
        if code == 0:
            return data
        if code == 1002:
            raise RateLimited(self.name, message, code=str(code))
        if code == 1008:
            raise OutOfCredit(self.name, message, code=str(code))
        if code in (1026, 1027):
            raise Rejected(self.name, message, code=str(code))
        if code == 1004:
            raise MissingCredentials(self.name, message, code=str(code))
        if code in (1000, 1001, 1024):
            raise Transient(self.name, message, code=str(code))
        raise JobFailed(self.name, message, code=str(code))

    async def submit(self, request: JobRequest) -> JobRef:
        r = request.rendered
        body: dict[str, Any] = {"model": r.model, "prompt": r.prompt, "duration": int(r.duration_s),
                                "resolution": r.resolution or "768P", "prompt_optimizer": False}
        if request.image:
            body["first_frame_image"] = f"data:{request.image_mime};base64,{base64.b64encode(request.image).decode()}"
        response = await self.send("POST", f"{self.base_url}/v1/video_generation", json=body, headers=self._headers(),
                                   create=True)
        return JobRef(provider=self.name, job_id=self._check(response)["task_id"], content_key=request.content_key)

    async def poll(self, ref: JobRef) -> JobState:
        response = await self.send("GET", f"{self.base_url}/v1/query/video_generation", params={"task_id": ref.job_id},
                                   headers=self._headers())
        data = self._check(response)
        status = _STATUS.get(data.get("status", ""), "running")
        if status != "succeeded":
            return JobState(status=status)
        files = await self.send("GET", f"{self.base_url}/v1/files/retrieve", params={"file_id": data["file_id"]},
                                headers=self._headers())
        url = self._check(files)["file"]["download_url"]
        return JobState(status="succeeded", video_url=url)
