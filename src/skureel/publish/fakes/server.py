"""Building and serving a fake target: `skureel fake-target NAME --port N --faults SPEC`."""

from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn
from fastapi import FastAPI

from skureel.publish.fakes.common import FakeState, parse_faults


def credentials(name: str) -> dict[str, str]:
    """The environment that points the real target at its fake (credentials the fake accepts)."""
    from skureel.publish.fakes import bynder, cloudinary, shopify

    table = {"cloudinary": cloudinary.CREDENTIALS, "shopify": shopify.CREDENTIALS, "bynder": bynder.CREDENTIALS}
    if name not in table:
        raise ValueError(f"no fake for {name!r}; fakes exist for {', '.join(FAKES)}")
    return dict(table[name])


FAKES = ("shopify", "cloudinary", "bynder")


def build_app(name: str, faults: dict[str, float] | None = None, latency_s: float = 0.0,
              **options: Any) -> tuple[FastAPI, FakeState]:
    from skureel.publish.fakes import bynder, cloudinary, shopify

    state = FakeState(name, faults=faults, latency_s=latency_s)
    if name == "shopify":
        return shopify.create_app(state, **options), state
    if name == "cloudinary":
        return cloudinary.create_app(state, **options), state
    if name == "bynder":
        return bynder.create_app(state, **options), state
    raise ValueError(f"no fake for {name!r}; fakes exist for {', '.join(FAKES)}")


def serve(name: str, port: int, faults: str | None, latency_s: float) -> None:
    app, state = build_app(name, parse_faults(faults), latency_s)
    state.base_url = f"http://127.0.0.1:{port}"
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


class FakeTargetServer:
    """A fake target on 127.0.0.1 in a background thread (tests, benchmark)."""

    def __init__(self, name: str, *, faults: str | dict[str, float] | None = None, latency_s: float = 0.0,
                 port: int = 0, **options: Any) -> None:
        parsed = parse_faults(faults) if isinstance(faults, str) or faults is None else faults
        self.name = name
        self.app, self.state = build_app(name, parsed, latency_s, **options)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=port, log_level="critical", lifespan="off",
                                access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> FakeTargetServer:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)
        self.port = int(self.server.servers[0].sockets[0].getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.state.base_url = self.url
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(10)
