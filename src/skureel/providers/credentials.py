"""Credentials by each vendor's own SDK convention: the environment first, then a Prefect Secret block
(`kling-secret-key`, ...) through a lookup the orchestration layer passes in. Values are never printed."""

from __future__ import annotations

import os
from collections.abc import Callable

from skureel.providers.base import MissingCredentials
from skureel.providers.capabilities import CAPABILITIES

SecretLookup = Callable[[str], str | None]


def _alternatives(name: str) -> list[tuple[str, ...]]:
    keys = CAPABILITIES[name].env_keys
    if name == "veo":  # either key works
        return [(k,) for k in keys]
    if name == "kling":  # Kling's single API key (Bearer) or the older access/secret pair (JWT)
        return [("KLING_API_KEY",), keys]
    return [keys]


def resolve(name: str, lookup: SecretLookup | None = None) -> dict[str, str]:
    if name == "local":
        return {}
    missing: list[str] = []
    for group in _alternatives(name):
        found: dict[str, str] = {}
        for key in group:
            value = os.environ.get(key) or (lookup(key.lower().replace("_", "-")) if lookup else None)
            if value:
                found[key] = value
        if len(found) == len(group):
            return found
        missing = [k for k in group if k not in found]
    alone = "KLING_API_KEY, or " if name == "kling" else ""
    raise MissingCredentials(name, f"set {alone}{' and '.join(missing)} (or a Prefect Secret block named "
                                   f"{', '.join(k.lower().replace('_', '-') for k in missing)})")


def is_configured(name: str) -> bool:
    try:
        resolve(name)
        return True
    except MissingCredentials:
        return False
