"""D-ID talks: upload the photo to get a source_url, speak a text script, poll the talk."""

from __future__ import annotations

from typing import Any

from skureel.providers.base import JobFailed, JobRef, JobRequest, JobState, Provider

_STATUS = {"created": "queued", "started": "running", "done": "succeeded", "error": "failed", "rejected": "failed"}
_VOICES = {"en": "en-US-JennyNeural", "de": "de-DE-KatjaNeural", "fr": "fr-FR-DeniseNeural"}


class DidProvider(Provider):
    name = "did"
    default_base_url = "https://api.d-id.com"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Basic {self.key('DID_API_KEY')}"}

    async def submit(self, request: JobRequest) -> JobRef:
        if not request.image:
            raise JobFailed(self.name, "a talk needs a presenter photo")
        upload = await self.send("POST", f"{self.base_url}/images", headers=self._headers(),
                                 files={"image": ("presenter.jpg", request.image, request.image_mime)})
        if upload.status_code not in (200, 201):
            raise self.http_error(upload)
        source_url = upload.json()["url"]
        language = (request.shot.language or "en").split("-")[0]
        body: dict[str, Any] = {"source_url": source_url, "config": {"result_format": "mp4", "fluent": True},
                                "user_data": request.content_key,
                                "script": {"type": "text", "input": request.shot.audio.voice_over or "",
                                           "provider": {"type": "microsoft", "voice_id": _VOICES.get(language, _VOICES["en"])}}}
        response = await self.send("POST", f"{self.base_url}/talks", json=body, headers=self._headers(), create=True)
        if response.status_code not in (200, 201):
            raise self.http_error(response)
        return JobRef(provider=self.name, job_id=response.json()["id"], content_key=request.content_key)

    async def poll(self, ref: JobRef) -> JobState:
        response = await self.send("GET", f"{self.base_url}/talks/{ref.job_id}", headers=self._headers())
        if response.status_code != 200:
            raise self.http_error(response)
        data = response.json()
        status = data.get("status", "")
        error = data.get("error") or {}
        return JobState(status=_STATUS.get(status, "running"), video_url=data.get("result_url"),
                        error=(error.get("description") if isinstance(error, dict) else str(error)) or None,
                        moderated=status == "rejected")

    async def cancel(self, ref: JobRef) -> None:
        await self.send("DELETE", f"{self.base_url}/talks/{ref.job_id}", headers=self._headers())
