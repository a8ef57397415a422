"""Provider name -> adapter class, imported lazily (after fsspec's registry): an adapter costs nothing until used."""

from __future__ import annotations

import importlib
from types import MappingProxyType

from skureel.domain import UnusableInput
from skureel.providers.base import Provider

_known: dict[str, tuple[str, str | None]] = {
    "kling": ("skureel.providers.kling:KlingProvider", None),
    "fal": ("skureel.providers.fal:FalProvider", None),
    "replicate": ("skureel.providers.replicate:ReplicateProvider", None),
    "runway": ("skureel.providers.runway:RunwayProvider", None),
    "veo": ("skureel.providers.veo:VeoProvider", None),
    "minimax": ("skureel.providers.minimax:MinimaxProvider", None),
    "luma": ("skureel.providers.luma:LumaProvider", None),
    "heygen": ("skureel.providers.heygen:HeygenProvider", None),
    "did": ("skureel.providers.did:DidProvider", None),
}
known_implementations = MappingProxyType(_known)
_loaded: dict[str, type[Provider]] = {}


def register(name: str, target: str, hint: str | None = None, *, clobber: bool = False) -> None:
    if name in _known and not clobber:
        raise ValueError(f"provider {name!r} is already registered")
    _known[name] = (target, hint)
    _loaded.pop(name, None)


def provider_class(name: str) -> type[Provider]:
    if name in _loaded:
        return _loaded[name]
    if name not in _known:
        raise UnusableInput(f"unknown hosted provider {name!r}; choose one of {', '.join(_known)}")
    target, hint = _known[name]
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UnusableInput(f"provider {name!r} needs an optional dependency: {hint or exc}") from exc
    cls = getattr(module, attr)
    _loaded[name] = cls
    return cls  # type: ignore[no-any-return]
