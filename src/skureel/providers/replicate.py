"""Replicate predictions on official models: Prefer: wait, polling, cancel; outputs deleted after an hour."""

from __future__ import annotations

import base64
import json
from typing import Any

from skureel.providers.base import JobRef, JobRequest, JobState, Provider
from skureel.providers.capabilities import model_caps

_STATUS = {"starting": "queued", "processing": "running", "succeeded": "succeeded", "failed": "failed",
           "canceled": "failed", "aborted": "failed"}


class ReplicateProvider(Provider):
    name = "replicate"
    default_base_url = "https://api.replicate.com"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key('REPLICATE_API_TOKEN')}"}

    def _input(self, request: JobRequest) -> dict[str, Any]:
        r = request.rendered
        spec = model_caps(self.name, r.model).model
        mode = str(r.params.get("mode", "std"))
        data: dict[str, Any] = {"prompt": r.prompt, "duration": int(r.duration_s),
                                "mode": spec.mode_values.get(mode, "standard") if spec else "standard"}
        if r.negative_prompt:
            data["negative_prompt"] = r.negative_prompt
        if spec is not None and spec.audio_field:  # Kling 3.0 here defaults to silent: say what we want
            data[spec.audio_field] = r.params.get("sound") == "on"
        if request.image:
            data[spec.image_field if spec and spec.image_field else "start_image"] = _data_uri(request.image,
                                                                                               request.image_mime)
        elif spec is not None and spec.multi_shot:
            data["aspect_ratio"] = r.aspect_ratio
        if spec is not None and spec.references_field and request.references:
            data[spec.references_field] = [_data_uri(x, "image/jpeg") for x in request.references[: spec.max_references]]
        if spec is not None and spec.multi_shot and request.storyboard:
            shots = request.storyboard[:6]
            seconds = [max(1, int(round(s.duration_s))) for s in shots]
            # a JSON string, not an array, in this model's schema
            data["multi_prompt"] = json.dumps([{"prompt": s.prompt[:512], "duration": d}
                                               for s, d in zip(shots, seconds, strict=True)])
            data["duration"] = sum(seconds)
        return data

    async def submit(self, request: JobRequest) -> JobRef:
        body = {"input": self._input(request)}
        response = await self.send("POST", f"{self.base_url}/v1/models/{request.rendered.model}/predictions", json=body,
                                   headers={**self._headers(), "Prefer": "wait=5"}, create=True)
        if response.status_code not in (200, 201, 202):
            raise self.http_error(response)
        data = response.json()
        return JobRef(provider=self.name, job_id=data["id"], content_key=request.content_key)

    def _state(self, data: dict[str, Any]) -> JobState:
        status = _STATUS.get(data.get("status", ""), "running")
        output = data.get("output")
        url = output[0] if isinstance(output, list) and output else output if isinstance(output, str) else None
        error = data.get("error")
        return JobState(status=status, video_url=url, error=str(error) if error else None,
                        moderated=bool(error) and ("nsfw" in str(error).lower() or "safety" in str(error).lower()))

    async def poll(self, ref: JobRef) -> JobState:
        response = await self.send("GET", f"{self.base_url}/v1/predictions/{ref.job_id}", headers=self._headers())
        if response.status_code != 200:
            raise self.http_error(response)
        return self._state(response.json())

    async def recover(self, request: JobRequest) -> JobRef | None:
        """List recent predictions and find ours by its exact input (Replicate has no idempotency key)."""
        response = await self.send("GET", f"{self.base_url}/v1/predictions", headers=self._headers())
        if response.status_code != 200:
            return None
        wanted = self._input(request)
        for item in response.json().get("results", []):
            if item.get("input") == wanted:
                return JobRef(provider=self.name, job_id=item["id"], content_key=request.content_key)
        return None

    async def cancel(self, ref: JobRef) -> None:
        await self.send("POST", f"{self.base_url}/v1/predictions/{ref.job_id}/cancel", headers=self._headers())


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"
