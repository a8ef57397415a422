"""Google Veo through the Gemini API: predictLongRunning + operations, inline base64 images.

Done with zero videos means the safety filter fired: that is a rejection, not a success.
"""

from __future__ import annotations

import base64
from typing import Any

from skureel.providers.base import JobRef, JobRequest, JobState, OutOfCredit, Provider, RateLimited


class VeoProvider(Provider):
    name = "veo"
    default_base_url = "https://generativelanguage.googleapis.com"

    def _headers(self) -> dict[str, str]:
        return {"x-goog-api-key": self.key("GEMINI_API_KEY", "GOOGLE_API_KEY")}

    def download_headers(self) -> dict[str, str]:
        return self._headers()

    async def submit(self, request: JobRequest) -> JobRef:
        r = request.rendered
        instance: dict[str, Any] = {"prompt": r.prompt}
        if request.image:
            instance["image"] = {"bytesBase64Encoded": base64.b64encode(request.image).decode(), "mimeType": request.image_mime}
        parameters: dict[str, Any] = {"aspectRatio": r.aspect_ratio, "durationSeconds": int(r.duration_s), "sampleCount": 1}
        if r.resolution:
            parameters["resolution"] = r.resolution
        if r.negative_prompt:
            parameters["negativePrompt"] = r.negative_prompt
        response = await self.send("POST", f"{self.base_url}/v1beta/models/{r.model}:predictLongRunning",
                                   json={"instances": [instance], "parameters": parameters}, headers=self._headers(),
                                   create=True)
        if response.status_code != 200:
            raise self._error(response)
        return JobRef(provider=self.name, job_id=response.json()["name"], content_key=request.content_key)

    def _error(self, response: Any) -> Exception:
        try:
            error = response.json().get("error", {})
        except ValueError:
            error = {}
        status, message = error.get("status", ""), error.get("message", response.text[:200])
        if status == "RESOURCE_EXHAUSTED":
            if "billing" in message.lower() or "credit" in message.lower():
                return OutOfCredit(self.name, message, code=status)
            return RateLimited(self.name, message, code=status)
        return self.http_error(response, message)

    async def poll(self, ref: JobRef) -> JobState:
        response = await self.send("GET", f"{self.base_url}/v1beta/{ref.job_id}", headers=self._headers())
        if response.status_code != 200:
            raise self._error(response)
        data = response.json()
        if not data.get("done"):
            return JobState(status="running")
        if data.get("error"):
            return JobState(status="failed", error=data["error"].get("message"), error_code=str(data["error"].get("code")))
        result = (data.get("response") or {}).get("generateVideoResponse") or {}
        samples = result.get("generatedSamples") or []
        if not samples:
            reasons = result.get("raiMediaFilteredReasons") or ["the safety filter removed every video"]
            return JobState(status="failed", error="; ".join(reasons), error_code="RAI_FILTERED", moderated=True)
        return JobState(status="succeeded", video_url=samples[0]["video"]["uri"])
