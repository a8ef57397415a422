"""Building and serving a fake provider: `skureel fake-provider NAME --port N --faults SPEC`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn
from fastapi import FastAPI

from skureel.providers.fake.common import FakeVendor, parse_faults
from skureel.providers.fake.content import split_content

# the credentials each fake accepts, so a user can point the real adapter at it
FAKE_CREDENTIALS: dict[str, dict[str, str]] = {
    "kling": {"KLING_ACCESS_KEY": "ak-test", "KLING_SECRET_KEY": "sk-test"},
    "fal": {"FAL_KEY": "fal-test"}, "replicate": {"REPLICATE_API_TOKEN": "r8-test"},
    "runway": {"RUNWAYML_API_SECRET": "rw-test"}, "veo": {"GEMINI_API_KEY": "gemini-test"},
    "minimax": {"MINIMAX_API_KEY": "mm-test"}, "luma": {"LUMA_AGENTS_API_KEY": "luma-test"},
    "heygen": {"HEYGEN_API_KEY": "hg-test"}, "did": {"DID_API_KEY": "did-test"},
}


def build_app(name: str, vendor: FakeVendor) -> FastAPI:
    from skureel.providers.fake import avatars, kling, replicate, simple

    factories: dict[str, Callable[[FakeVendor], FastAPI]] = {
        "kling": kling.create_app, "fal": simple.fal_app, "replicate": replicate.replicate_app, "runway": simple.runway_app,
        "veo": simple.veo_app, "minimax": simple.minimax_app, "luma": simple.luma_app,
        "heygen": avatars.heygen_app, "did": avatars.did_app,
    }
    if name not in factories:
        raise ValueError(f"no fake for {name!r}; fakes exist for {', '.join(factories)}")
    return factories[name](vendor)


class FakeServer:
    """A fake vendor on 127.0.0.1 in a background thread (tests, soak benchmark)."""

    def __init__(self, name: str, *, faults: str | dict[str, float] | None = None, latency_s: float = 0.5,
                 concurrency: int = 4, url_ttl_s: float = 3600.0, port: int = 0, seed: int = 7,
                 content: str | None = None, clip_seconds: float = 60.0) -> None:
        """`content`: what the clips show (providers/fake/content.py), also accepted as `content=MODE` in `faults`."""
        parsed = parse_faults(faults) if isinstance(faults, str) or faults is None else faults
        plan = split_content(f"content={content}" if content else faults if isinstance(faults, str) else None)[1]
        self.vendor = FakeVendor(name, faults=parsed, latency_s=latency_s, concurrency=concurrency, url_ttl_s=url_ttl_s,
                                 seed=seed, content=plan, clip_seconds=clip_seconds)
        self.app = build_app(name, self.vendor)
        self.name = name
        config = uvicorn.Config(self.app, host="127.0.0.1", port=port, log_level="critical", lifespan="off",
                                access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> FakeServer:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)
        sockets = self.server.servers[0].sockets
        self.port = int(sockets[0].getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.vendor.base_url = self.url
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    @property
    def credentials(self) -> dict[str, str]:
        return FAKE_CREDENTIALS[self.name]


def serve(name: str, port: int, faults: str | None, latency_s: float) -> None:
    vendor = FakeVendor(name, faults=parse_faults(faults), latency_s=latency_s, content=split_content(faults)[1])
    vendor.base_url = f"http://127.0.0.1:{port}"
    uvicorn.run(build_app(name, vendor), host="127.0.0.1", port=port, log_level="warning")
