"""Shared machinery of the fake servers: job state machines, faults, paid-submission counts, expiring URLs."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from skureel.fakefaults import parse_faults as parse_spec
from skureel.providers.fake.content import ContentPlan, other_product, split_content
from skureel.providers.fake.content import render as render_content
from skureel.providers.local import render_base_clip

# wrong_product: the job succeeds but its clip shows another product (what the QA gate must catch)
FAULT_KINDS = ("5xx", "429", "timeout", "fail", "moderated", "out_of_credit", "drop_response", "wrong_product")


def parse_faults(spec: str | None) -> dict[str, float]:
    """The fault probabilities; a `content=MODE` part (what the clips show, content.py) is checked and left out."""
    return parse_spec(split_content(spec)[0], FAULT_KINDS)


@dataclass
class FakeJob:
    id: str
    key: str  # external id / content key when the client sent one
    created: float
    ready_at: float
    outcome: str  # ok | fail | moderated | out_of_credit
    width: int
    height: int
    image: bytes | None
    inputs: dict[str, Any] = field(default_factory=dict)
    cancelled: bool = False
    started: float | None = None
    seconds: float = 5.0
    sound: bool = False  # the model was asked for its own audio: the clip carries an ambience track
    wrong_product: bool = False  # fault: the clip shows another product
    content: str | None = None  # what the clip shows, built from the submitted image (content.py MODES)
    paid_as: str = ""  # what the purchase is counted under: the external id, else a digest of what was sent


class FakeVendor:
    """State of one fake vendor; thread-safe because uvicorn may run handlers concurrently."""

    def __init__(self, name: str, *, faults: dict[str, float] | None = None, latency_s: float = 1.0,
                 concurrency: int = 4, url_ttl_s: float = 3600.0, seed: int = 7, clip_seconds: float = 60.0,
                 content: ContentPlan | None = None) -> None:
        self.name, self.faults, self.latency_s, self.concurrency = name, faults or {}, latency_s, concurrency
        self.content = content
        self.url_ttl_s, self.clip_seconds = url_ttl_s, clip_seconds
        self.rng = random.Random(seed)
        self.jobs: dict[str, FakeJob] = {}
        self.by_key: dict[str, str] = {}
        self.paid: list[str] = []  # what each paid submission is counted under (FakeJob.paid_as), duplicates too
        self.lock = threading.Lock()
        self.render_lock = threading.Lock()
        # every job's clip, when set (the soak: it measures the orchestration, so one small MP4 made at start, not a
        # render of each job's photo; the QA gate's faults need the real clips)
        self.tiny_clip: bytes | None = None
        self.secret = uuid.uuid4().hex.encode()
        # a vendor whose status API reports a moderated generation as a plain failure (MiniMax's "Fail"): a client
        # cannot tell them apart, so buying it again is what the API allows
        self.moderation_reads_as_failure = False
        self.base_url = ""
        self.timeout_s = 0.5
        # what a throttled create is told to wait (Retry-After); the soak scales it with its scaled-down latency
        self.retry_after_s = 1.0
        # the account's credit, in paid jobs: None = unlimited; at 0 every create is refused as out of credit until
        # top_up() (an account state, as vendors have it, unlike the per-request `out_of_credit` fault)
        self.credit: int | None = None

    def top_up(self, jobs: int | None = None) -> None:
        """Add credit for `jobs` more paid jobs, or make it unlimited."""
        with self.lock:
            self.credit = None if jobs is None else max(0, self.credit or 0) + jobs

    # faults -----------------------------------------------------------------------------------------
    def roll(self, kind: str) -> bool:
        p = self.faults.get(kind, 0.0)
        with self.lock:
            return p > 0 and self.rng.random() < p

    def create_fault(self) -> str | None:
        if self.credit is not None and self.credit <= 0:
            return "out_of_credit"
        for kind in ("out_of_credit", "429", "5xx", "timeout"):
            if self.roll(kind):
                return kind
        return None

    async def maybe_timeout(self) -> None:
        await asyncio.sleep(self.timeout_s)

    # jobs -------------------------------------------------------------------------------------------
    def active(self) -> int:
        now = time.monotonic()
        return sum(1 for j in self.jobs.values() if not j.cancelled and j.started is not None and now < j.ready_at)

    def create(self, key: str, width: int, height: int, image: bytes | None, inputs: dict[str, Any],
               seconds: float | str | None = None, sent: dict[str, Any] | None = None) -> FakeJob:
        """`sent`: the whole create body where `inputs` keeps only part of it (what a purchase is counted by)."""
        outcome = "ok"
        if self.roll("moderated"):
            outcome = "moderated"
        elif self.roll("fail"):
            outcome = "fail"
        now = time.monotonic()
        job = FakeJob(id=uuid.uuid4().hex[:16], key=key, created=now, ready_at=now + self.latency_s, outcome=outcome,
                      width=width, height=height, image=image, inputs=inputs, started=now,
                      seconds=float(str(seconds or 5).rstrip("s")), wrong_product=self.roll("wrong_product"))
        if self.content is not None:
            job.content = self.content.choose(str(inputs.get("prompt") or ""), image)
        with self.lock:
            self.jobs[job.id] = job
            if key:
                self.by_key[key] = job.id
            job.paid_as = key or paid_content(sent or inputs, image)
            self.paid.append(job.paid_as)
            if self.credit is not None:
                self.credit -= 1
        return job

    def find(self, ident: str) -> FakeJob | None:
        with self.lock:
            job_id = ident if ident in self.jobs else self.by_key.get(ident, "")
            return self.jobs.get(job_id)

    def status(self, job: FakeJob) -> str:
        """queued | running | succeeded | failed | moderated | cancelled."""
        if job.cancelled:
            return "cancelled"
        now = time.monotonic()
        if now < job.created + self.latency_s * 0.2:
            return "queued"
        if now < job.ready_at:
            return "running"
        return {"ok": "succeeded", "fail": "failed", "moderated": "moderated"}.get(job.outcome, "failed")

    # results ----------------------------------------------------------------------------------------
    def video_url(self, job: FakeJob) -> str:
        expires = int(time.time() + self.url_ttl_s)
        sig = hmac.new(self.secret, f"{job.id}:{expires}".encode(), hashlib.sha256).hexdigest()[:16]
        return f"{self.base_url}/_files/{job.id}.mp4?expires={expires}&sig={sig}"

    def serve_video(self, job_id: str, expires: int, sig: str) -> Response:
        good = hmac.new(self.secret, f"{job_id}:{expires}".encode(), hashlib.sha256).hexdigest()[:16]
        if not hmac.compare_digest(good, sig) or time.time() > expires:
            return Response(b"<Error>Request has expired</Error>", status_code=403, media_type="application/xml")
        job = self.jobs.get(job_id)
        if job is None:
            return Response(status_code=404)
        if self.tiny_clip is not None:
            return Response(self.tiny_clip, media_type="video/mp4")
        image = other_product() if job.wrong_product else job.image
        seconds = min(job.seconds, self.clip_seconds)
        if job.content is not None:
            data = render_content("other" if job.wrong_product else job.content, job.image, job.width,
                                       job.height, seconds)
        else:
            with self.render_lock:  # one render per clip: requests that arrive together wait for its cached bytes
                data = render_base_clip(image, job.width, job.height, seconds, sound=job.sound)
        return Response(data, media_type="video/mp4")



def paid_content(inputs: dict[str, Any], image: bytes | None) -> str:
    """A purchase without an external id, counted by what it asked for (prompt, settings, photo): the same clip
    bought twice then shows as one content paid twice, as a job id never would."""
    digest = hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode())
    digest.update(image or b"")
    return f"content-{digest.hexdigest()[:20]}"


def decode_image(value: str | None) -> bytes | None:
    if not value:
        return None
    if value.startswith("data:"):
        value = value.split(",", 1)[1]
    try:
        return base64.b64decode(value, validate=False)
    except ValueError:
        return None


def size_for(aspect: str, short: int = 360) -> tuple[int, int]:
    w, _, h = aspect.replace("x", ":").partition(":")
    try:
        rw, rh = int(w), int(h)
    except ValueError:
        rw, rh = 9, 16
    if rw >= rh:
        return int(round(short * rw / rh / 2) * 2), short
    return short, int(round(short * rh / rw / 2) * 2)


def attach_common(app: FastAPI, vendor: FakeVendor) -> None:
    @app.get("/_files/{job_id}.mp4")
    def files(job_id: str, expires: int, sig: str) -> Response:
        return vendor.serve_video(job_id, expires, sig)

    @app.get("/_fake/stats")
    def stats() -> dict[str, Any]:
        with vendor.lock:
            return {"paid": len(vendor.paid), "distinct": len(set(vendor.paid)), "jobs": len(vendor.jobs),
                    "keys": list(vendor.paid), "credit": vendor.credit,
                    # when each job held a slot (the system's monotonic clock): where a soak's slots sat idle
                    "spans": [[j.created, j.ready_at] for j in vendor.jobs.values()],
                    "failed": [j.paid_as for j in vendor.jobs.values()
                               if j.outcome == "fail" or (j.outcome == "moderated" and vendor.moderation_reads_as_failure)]}

    @app.post("/_fake/account")
    async def account(request: Request) -> dict[str, Any]:
        """Set the credit left, in paid jobs (null: unlimited): a fake in its own process is steered over HTTP."""
        credit = (await request.json()).get("credit")
        with vendor.lock:
            vendor.credit = None if credit is None else int(credit)
        return {"credit": vendor.credit}

    @app.middleware("http")
    async def remember_base(request: Request, call_next: Any) -> Any:
        if not vendor.base_url:
            vendor.base_url = str(request.base_url).rstrip("/")
        return await call_next(request)


def error_json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)
