"""Building and serving a fake target: `skureel fake-target NAME --port N --faults SPEC`."""

from __future__ import annotations

from typing import Any

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
    import uvicorn

    app, state = build_app(name, parse_faults(faults), latency_s)
    state.base_url = f"http://127.0.0.1:{port}"
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
