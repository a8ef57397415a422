"""Replicate predictions on official models: photos uploaded to the Files API (the SDK's default), Prefer: wait,
polling, cancel; outputs deleted after an hour."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import mimetypes
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from skureel.providers.base import JobRef, JobRequest, JobState, Provider
from skureel.providers.capabilities import model_caps

_STATUS = {"starting": "queued", "processing": "running", "succeeded": "succeeded", "failed": "failed",
           "canceled": "failed", "aborted": "failed"}
# an uploaded file is reused only while it has this long left: the model fetches it when the prediction starts
_FILE_MARGIN_S = 15 * 60.0


class ReplicateProvider(Provider):
    name = "replicate"
    default_base_url = "https://api.replicate.com"

    def __init__(self, client: httpx.AsyncClient, credentials: dict[str, str], base_url: str | None = None) -> None:
        super().__init__(client, credentials, base_url)
        # photo sha256 -> (file URL, when it expires on the epoch clock): a SKU's shots share their photo
        self._files: dict[str, tuple[str, float]] = {}
        self._uploading: dict[str, asyncio.Lock] = {}
        self._file_sha256: dict[str, str] = {}  # file URL -> its sha256, for recovery

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key('REPLICATE_API_TOKEN')}"}

    def _input(self, request: JobRequest, photo: Callable[[bytes, str], str]) -> dict[str, Any]:
        """The prediction's input; `photo` says how an image is passed (an uploaded file's URL, or a digest)."""
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
            data[self._image_field(request)] = photo(request.image, request.image_mime)
        elif spec is not None and spec.multi_shot:
            data["aspect_ratio"] = r.aspect_ratio
        if spec is not None and spec.references_field and request.references:
            data[spec.references_field] = [photo(x, "image/jpeg") for x in request.references[: spec.max_references]]
        if spec is not None and spec.multi_shot and request.storyboard:
            shots = request.storyboard[:6]
            seconds = [max(1, int(round(s.duration_s))) for s in shots]
            # a JSON string, not an array, in this model's schema
            data["multi_prompt"] = json.dumps([{"prompt": s.prompt[:512], "duration": d}
                                               for s, d in zip(shots, seconds, strict=True)])
            data["duration"] = sum(seconds)
        return data

    def _image_field(self, request: JobRequest) -> str:
        spec = model_caps(self.name, request.rendered.model).model
        return spec.image_field if spec and spec.image_field else "start_image"

    async def stage(self, request: JobRequest) -> None:
        """Upload the job's photos before it waits for a slot. A 290 KB data URI in the create would be echoed back
        in its answer and in every poll (a prediction carries its input); a file URL is one line."""
        photos: list[tuple[bytes, str]] = []

        def keep(data: bytes, mime: str) -> str:  # the photos the input names, as _input picks them
            photos.append((data, mime))
            return ""

        self._input(request, keep)
        for data, mime in photos:
            await self._upload(data, mime)

    async def _upload(self, data: bytes, mime: str) -> str:
        digest = hashlib.sha256(data).hexdigest()
        async with self._uploading.setdefault(digest, asyncio.Lock()):  # one upload of a photo its shots share
            known = self._files.get(digest)
            if known and known[1] - time.time() > _FILE_MARGIN_S:
                return known[0]
            name = f"{digest[:16]}{mimetypes.guess_extension(mime) or '.bin'}"
            response = await self.send("POST", f"{self.base_url}/v1/files", headers=self._headers(),
                                       files={"content": (name, data, mime)})
            if response.status_code not in (200, 201):
                raise self.http_error(response)
            file = response.json()
            url = str(file["urls"]["get"])
            self._files[digest] = (url, _expiry(file.get("expires_at")))
            self._file_sha256[url] = digest
            return url

    def _staged(self, data: bytes, _mime: str) -> str:
        return self._files[hashlib.sha256(data).hexdigest()][0]

    async def submit(self, request: JobRequest) -> JobRef:
        await self.stage(request)  # already done by the job loop, unless a file ran close to its expiry meanwhile
        body = {"input": self._input(request, self._staged)}
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
        """List recent predictions and find ours by its exact input (Replicate has no idempotency key), its photos
        compared by content: a process that died after its create uploaded them under URLs this one never saw."""
        response = await self.send("GET", f"{self.base_url}/v1/predictions", headers=self._headers())
        if response.status_code != 200:
            return None
        wanted = self._input(request, lambda data, _mime: _digest(data))
        photo_fields = {self._image_field(request), *self._reference_fields(request)}
        for item in response.json().get("results", []):
            seen = item.get("input")
            if not isinstance(seen, dict) or {k: v for k, v in seen.items() if k not in photo_fields} != {
                    k: v for k, v in wanted.items() if k not in photo_fields}:
                continue
            if await self._same_photos(seen, wanted, photo_fields):
                return JobRef(provider=self.name, job_id=item["id"], content_key=request.content_key)
        return None

    async def _same_photos(self, seen: dict[str, Any], wanted: dict[str, Any], fields: set[str]) -> bool:
        for field in fields:
            if [await self._digest_of(v) for v in _as_list(seen.get(field))] != _as_list(wanted.get(field)):
                return False
        return True

    def _reference_fields(self, request: JobRequest) -> list[str]:
        spec = model_caps(self.name, request.rendered.model).model
        return [spec.references_field] if spec is not None and spec.references_field else []

    async def _digest_of(self, value: Any) -> Any:
        """An input photo as its content digest: a data URI decoded, an uploaded file by its checksum."""
        if not isinstance(value, str):
            return value
        if value.startswith("data:"):
            return _digest(base64.b64decode(value.partition(",")[2]))
        if value.startswith(f"{self.base_url}/v1/files/"):
            if value not in self._file_sha256:
                response = await self.send("GET", value, headers=self._headers())
                if response.status_code != 200:
                    return value
                self._file_sha256[value] = str(response.json().get("checksums", {}).get("sha256", ""))
            return f"sha256:{self._file_sha256[value]}"
        return value

    async def cancel(self, ref: JobRef) -> None:
        await self.send("POST", f"{self.base_url}/v1/predictions/{ref.job_id}/cancel", headers=self._headers())


def _digest(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _expiry(stamp: Any) -> float:
    """A file's expires_at on the epoch clock; an hour from now when the answer gives none (prediction retention)."""
    try:
        return datetime.fromisoformat(str(stamp)).timestamp()
    except ValueError:
        return time.time() + 3600.0
