"""`skureel fake-target NAME [--port N] [--faults SPEC]`: a contract-faithful fake of a publish target."""

from __future__ import annotations

from typing import Annotated

import typer


def fake_target(
    name: Annotated[str, typer.Argument(help="shopify, cloudinary or bynder")],
    port: Annotated[int, typer.Option(help="port on 127.0.0.1")] = 8775,
    faults: Annotated[str, typer.Option(help="e.g. 5xx=0.1,429=0.05,drop_response=0.02,fail=0.05")] = "",
    latency: Annotated[float, typer.Option(help="seconds an upload / processing takes")] = 0.5,
) -> None:
    """Serve a fake Shopify, Cloudinary or Bynder on loopback, so publishing needs no account."""
    from skureel.commands.common import console, fail
    from skureel.publish.fakes.common import parse_faults
    from skureel.publish.fakes.server import FAKES, credentials, serve

    if name not in FAKES:
        fail(f"no fake for {name!r}; choose from {', '.join(FAKES)}")
    try:
        parse_faults(faults)
    except ValueError as exc:
        fail(str(exc))
    env = " ".join(f"{k}={v}" for k, v in credentials(name).items())
    extra = " (and `brand_id: 00000000-0000-0000-0000000000000001` under bynder in targets.yaml)" \
        if name == "bynder" else ""
    console.print(f"fake {name} on http://127.0.0.1:{port}; point skureel at it with:\n"
                  f"  SKUREEL_{name.upper()}_BASE_URL=http://127.0.0.1:{port} {env} skureel publish OUT --to {name}"
                  + extra, highlight=False, soft_wrap=True)
    serve(name, port, faults, latency)
