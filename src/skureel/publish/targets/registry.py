"""Target name -> class, imported lazily (after fsspec's registry): a target costs nothing until used."""

from __future__ import annotations

import importlib
from types import MappingProxyType
from typing import Any

from pydantic import ValidationError

from skureel.publish.targets.base import PublishTarget, SecretLookup, TargetConfigError

_known: dict[str, tuple[str, str | None]] = {
    "folder": ("skureel.publish.targets.folder:FolderTarget", None),
    "fsspec": ("skureel.publish.targets.fsspec_store:FsspecTarget", "install the fsspec backend, e.g. s3fs"),
    "cloudinary": ("skureel.publish.targets.cloudinary:CloudinaryTarget", None),
    "shopify": ("skureel.publish.targets.shopify:ShopifyTarget", None),
    "bynder": ("skureel.publish.targets.bynder:BynderTarget", None),
    "webhook": ("skureel.publish.targets.webhook:WebhookTarget", None),
}
known_implementations = MappingProxyType(_known)
_loaded: dict[str, type[Any]] = {}


def register(name: str, target: str, hint: str | None = None, *, clobber: bool = False) -> None:
    if name in _known and not clobber:
        raise ValueError(f"target {name!r} is already registered")
    _known[name] = (target, hint)
    _loaded.pop(name, None)


def target_class(name: str) -> type[Any]:
    if name in _loaded:
        return _loaded[name]
    if name not in _known:
        raise TargetConfigError(f"unknown publish target {name!r}; choose from {', '.join(_known)}")
    dotted, hint = _known[name]
    module_name, _, attr = dotted.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise TargetConfigError(f"target {name!r} needs an optional dependency: {hint or exc}") from exc
    cls: type[Any] = getattr(module, attr)
    _loaded[name] = cls
    return cls


def build(name: str, options: dict[str, Any], lookup: SecretLookup | None = None) -> PublishTarget:
    """A configured target; raises TargetConfigError (one line) when credentials or options are wrong."""
    cls = target_class(name)
    try:
        target: PublishTarget = cls.from_options(options, lookup)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"])
        raise TargetConfigError(f"{name}: targets.yaml option {where}: {problem['msg']}") from exc
    return target
