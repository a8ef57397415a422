"""What every contract fake (providers and publish targets) shares: the fault spec and the dropped answer."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.responses import Response
from starlette.types import Receive, Scope, Send


def parse_faults(spec: str | None, kinds: Iterable[str]) -> dict[str, float]:
    """'5xx=0.2,429=0.1,...' -> probabilities; unknown names are refused with the list of known ones."""
    known = tuple(kinds)
    faults: dict[str, float] = {}
    for part in (spec or "").split(","):
        if not part.strip():
            continue
        name, _, value = part.partition("=")
        name = name.strip()
        if name not in known:
            raise ValueError(f"unknown fault {name!r}; known: {', '.join(known)}")
        try:
            faults[name] = float(value)
        except ValueError:
            raise ValueError(f"fault {name!r} needs a probability, e.g. {name}=0.1") from None
    return faults


class DroppedResponse(Response):
    """The write committed, but the connection dies before the client reads the answer."""

    def __init__(self) -> None:
        super().__init__(b"")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"512")]})
        await send({"type": "http.response.body", "body": b'{"partial": ', "more_body": True})
        raise ConnectionAbortedError("the fake dropped the response on purpose")
