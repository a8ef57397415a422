"""The provider protocol, its value types and the one error tree every adapter translates vendor failures into.

    ProviderError
     ├── Transient        retry with backoff and jitter (5xx, timeouts, connection resets)
     │    └── RateLimited retry later and free the slot (429 "slow down", THROTTLED at create)
     ├── Rejected         content policy: never retried, reported with the vendor's reason
     ├── OutOfCredit      stop submitting to this provider for the rest of the run
     ├── JobFailed        the vendor ran the job and it failed
     ├── TimedOut         the job did not finish before the overall deadline
     └── UnknownOutcome   the create request may have reached the vendor; without a way to look it up,
                          resubmitting could pay twice, so it is reported instead
"""

from __future__ import annotations

import asyncio
import io
import os
from pathlib import Path
from typing import Any, ClassVar, Literal

import httpx
from pydantic import BaseModel, Field

from skureel.domain import ShotSpec, SkureelError
from skureel.prompts import RenderedPrompt
from skureel.providers.capabilities import CAPABILITIES, Capabilities


class ProviderError(SkureelError):
    def __init__(self, provider: str, message: str, *, code: str | None = None, retry_after: float | None = None) -> None:
        super().__init__(f"{provider}: {message}" + (f" (vendor code {code})" if code else ""))
        self.provider, self.reason, self.code, self.retry_after = provider, message, code, retry_after


class Transient(ProviderError):
    pass


class RateLimited(Transient):
    pass


class Rejected(ProviderError):
    pass


class OutOfCredit(ProviderError):
    pass


class JobFailed(ProviderError):
    pass


class TimedOut(ProviderError):
    pass


class UnknownOutcome(ProviderError):
    pass


class MissingCredentials(ProviderError):
    pass


class StoryShot(BaseModel):
    """One shot of a multi-shot storyboard generated as a single clip (Kling 3.0 `multi_prompt`)."""

    shot_id: str
    prompt: str
    duration_s: float


class JobRequest(BaseModel):
    content_key: str
    shot: ShotSpec
    rendered: RenderedPrompt
    image: bytes | None = None
    image_mime: str = "image/png"
    audio: bytes | None = None  # avatar speech
    audio_mime: str = "audio/wav"
    references: list[bytes] = Field(default_factory=list)  # more of the SKU's own photos, best first (Omni)
    storyboard: list[StoryShot] = Field(default_factory=list)  # several shots in one generation
    purchase: int = 1  # which purchase of this content key: 2 after the vendor's generation of the first one failed

    @property
    def external_id(self) -> str:
        """The id a vendor keeps unique per account: the content key, then one per rebuy of a failed generation."""
        return self.content_key if self.purchase <= 1 else f"{self.content_key}-p{self.purchase}"


class JobRef(BaseModel):
    provider: str
    job_id: str
    content_key: str
    extra: dict[str, Any] = Field(default_factory=dict)  # vendor URLs needed later (fal status/response URLs)


class JobState(BaseModel):
    status: Literal["queued", "running", "succeeded", "failed"]
    progress: float | None = None
    video_url: str | None = None
    error: str | None = None
    error_code: str | None = None
    moderated: bool = False
    out_of_credit: bool = False
    # how long the finished job took by the vendor's clock, create to finish: what the next job of its kind will
    # take, with none of our polling lag in it (Kling's created_at/updated_at)
    ran_s: float | None = None


class Provider:
    """Adapters subclass this: declare capabilities, implement submit/poll, optionally recover/cancel."""

    name: ClassVar[str] = ""
    env_base_url: ClassVar[str] = ""
    default_base_url: ClassVar[str] = ""
    # recover() finding nothing proves nothing was created (the vendor indexes jobs by our key and refuses a second
    # create with it), so a job whose submit was cut short may be submitted again without paying twice
    lookup_is_authoritative: ClassVar[bool] = False

    def __init__(self, client: httpx.AsyncClient, credentials: dict[str, str], base_url: str | None = None) -> None:
        self.client = client
        self.credentials = credentials
        self.base_url = (base_url or os.environ.get(f"SKUREEL_{self.name.upper()}_BASE_URL") or self.default_base_url).rstrip("/")

    def key(self, *names: str) -> str:
        """The first credential set among `names` (vendors' own variable names); one clear line if none is."""
        for name in names:
            if self.credentials.get(name):
                return self.credentials[name]
        raise MissingCredentials(self.name, f"set {' or '.join(names)}")

    @property
    def capabilities(self) -> Capabilities:
        return CAPABILITIES[self.name]

    async def submit(self, request: JobRequest) -> JobRef:
        raise NotImplementedError

    async def poll(self, ref: JobRef) -> JobState:
        raise NotImplementedError

    async def stage(self, request: JobRequest) -> None:
        """Work a create needs that takes none of the vendor's job slots (uploading its photos): the job loop calls
        it before the job waits for a slot; submit must still work without it."""
        return None

    async def recover(self, request: JobRequest) -> JobRef | None:
        """Find a job created for this content key whose create response was lost; None when it cannot."""
        return None

    async def cancel(self, ref: JobRef) -> None:
        return None

    def download_headers(self) -> dict[str, str]:
        return {}

    # shared helpers ---------------------------------------------------------------------------------
    async def send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One HTTP call; transport failures become Transient, or UnknownOutcome for a create that may have landed."""
        create = kwargs.pop("create", False)
        try:
            return await self.client.request(method, url, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise Transient(self.name, f"cannot connect ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            if create:
                raise UnknownOutcome(self.name, f"the create request got no answer ({type(exc).__name__})") from exc
            raise Transient(self.name, f"network error ({type(exc).__name__})") from exc

    def http_error(self, response: httpx.Response, message: str | None = None) -> ProviderError:
        """Plain-HTTP vendors: map status codes onto the tree (adapters branch on vendor codes first)."""
        text = message or _vendor_message(response)
        retry = retry_after_seconds(response)
        if response.status_code == 429:
            return RateLimited(self.name, text, code="429", retry_after=retry)
        if response.status_code in (401, 403):
            return MissingCredentials(self.name, f"credentials refused: {text}", code=str(response.status_code))
        if response.status_code == 402:
            return OutOfCredit(self.name, text, code="402")
        if response.status_code >= 500 or response.status_code in (408, 409):
            return Transient(self.name, f"HTTP {response.status_code}: {text}", code=str(response.status_code),
                             retry_after=retry)
        return JobFailed(self.name, f"HTTP {response.status_code}: {text}", code=str(response.status_code))

    async def download(self, state: JobState, dest: Path, max_bytes: int = 500 * 1024 * 1024) -> Path:
        """Fetch the result at once (many URLs expire within an hour) and verify it decodes as video."""
        if not state.video_url:
            raise JobFailed(self.name, "job succeeded without a video URL")
        try:
            response = await self.client.get(state.video_url, headers=self.download_headers(), follow_redirects=True)
        except httpx.TransportError as exc:
            raise Transient(self.name, f"download failed ({type(exc).__name__})") from exc
        if response.status_code in (403, 404, 410):
            raise JobFailed(self.name, f"result URL no longer valid (HTTP {response.status_code}); it expired")
        if response.status_code != 200:
            raise Transient(self.name, f"download HTTP {response.status_code}")
        content_type = response.headers.get("content-type", "")
        if content_type and not content_type.startswith(("video/", "application/octet-stream", "binary/")):
            raise JobFailed(self.name, f"result is {content_type!r}, not a video")
        data = response.content
        if not data or len(data) > max_bytes:
            raise JobFailed(self.name, f"result has {len(data)} bytes")
        # a decode and a file write: off the event loop the other jobs poll on
        await asyncio.to_thread(_verify_and_store, data, dest, self.name)
        return dest


def _verify_and_store(data: bytes, dest: Path, provider: str) -> None:
    verify_video(data, provider)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.part")
    tmp.write_bytes(data)
    tmp.replace(dest)


def verify_video(data: bytes, provider: str) -> None:
    import av

    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                raise JobFailed(provider, "result has no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "NONE"  # one frame: FFmpeg's decoder threads would cost more to start than it
            next(container.decode(stream))
    except (av.FFmpegError, StopIteration) as exc:
        raise JobFailed(provider, f"result does not decode as video ({type(exc).__name__})") from exc


def _vendor_message(response: httpx.Response) -> str:
    """The human part of a vendor's error body ({"detail": ...}, {"error": {"message": ...}}), else the raw text."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict):
        for key in ("detail", "message", "error", "description"):
            value = body.get(key)
            if isinstance(value, dict):
                value = value.get("message") or value.get("description")
            if isinstance(value, str) and value:
                return value[:300]
    return response.text[:300]


def retry_after_seconds(response: httpx.Response) -> float | None:
    for header, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = response.headers.get(header)
        if value:
            try:
                return max(0.0, float(value) * scale)
            except ValueError:
                return None
    return None
