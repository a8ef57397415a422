"""Secrets at rest: provider keys entered in the studio and each workspace's webhook secret, Fernet-encrypted.

The Fernet key comes from `SKUREEL_STUDIO_SECRET_KEY` (urlsafe base64 of 32 bytes, as `Fernet.generate_key()`
prints) or else from `<data dir>/secret.key`, created on first use with mode 0600. The database file holds only
ciphertext and the last four characters; whoever holds the database without that key reads nothing.

Provider keys are stored under the environment names of each vendor's own SDK (DESIGN.md §3), so a run of a
workspace gets exactly its own keys as its worker's environment (web/runs.py) and nothing else ever reads them.
A deployment run on a Prefect server gets them as Prefect Secret blocks instead (web/runs.py, tasks.py).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Column, ForeignKey, Integer, String, Table, Text, delete, insert, select

from skureel.providers.capabilities import CAPABILITIES
from skureel.web.store import Store, metadata, now

KEY_ENV = "SKUREEL_STUDIO_SECRET_KEY"

provider_keys = Table(
    "provider_keys", metadata,
    Column("workspace_id", Integer, ForeignKey("workspaces.id"), primary_key=True),
    Column("name", String(64), primary_key=True),  # the vendor SDK's environment name, e.g. KLING_ACCESS_KEY
    Column("provider", String(40), nullable=False),
    Column("value_enc", Text, nullable=False),
    Column("last4", String(4), nullable=False),
    Column("set_by", String(320), nullable=False),
    Column("set_at", String(40), nullable=False),
)


class VaultError(Exception):
    """A secret that cannot be decrypted (the key changed): said in one line, never the ciphertext."""


def _key(data_dir: Path) -> bytes:
    if from_env := os.environ.get(KEY_ENV, "").strip():
        return from_env.encode()
    path = data_dir / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".secret.key.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # never readable by others, even briefly
        with os.fdopen(fd, "wb") as handle:
            handle.write(Fernet.generate_key())
        try:
            os.link(tmp, path)  # atomic and never replaces: of two processes starting at once, the first key wins
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_bytes().strip()


class Vault:
    def __init__(self, data_dir: Path) -> None:
        try:
            self._fernet = Fernet(_key(data_dir))
        except ValueError as exc:
            raise VaultError(f"{KEY_ENV} (or {data_dir / 'secret.key'}) is not a Fernet key: "
                             "32 url-safe base64-encoded bytes") from exc

    def encrypt(self, text: str) -> str:
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise VaultError("a stored secret cannot be decrypted: the studio's secret key changed; enter it again") \
                from exc


def key_names(provider: str) -> tuple[str, ...]:
    """The environment names a provider reads (Kling's single API key is an alternative to its pair)."""
    if provider not in CAPABILITIES or provider == "local" or CAPABILITIES[provider].retired:
        return ()
    names = CAPABILITIES[provider].env_keys
    return ("KLING_API_KEY", *names) if provider == "kling" else names


def providers_with_keys() -> list[str]:
    return [name for name in CAPABILITIES if key_names(name)]


def set_keys(store: Store, vault: Vault, workspace_id: int, provider: str, values: dict[str, str], who: str) -> int:
    """Store the non-empty values among this provider's names; returns how many were stored."""
    allowed = key_names(provider)
    stored = 0
    with store.engine.begin() as c:
        for name, value in values.items():
            value = value.strip()
            if name not in allowed or not value:
                continue
            c.execute(delete(provider_keys).where(provider_keys.c.workspace_id == workspace_id,
                                                  provider_keys.c.name == name))
            c.execute(insert(provider_keys).values(workspace_id=workspace_id, name=name, provider=provider,
                                                   value_enc=vault.encrypt(value), last4=value[-4:],
                                                   set_by=who, set_at=now()))
            stored += 1
    return stored


def remove_key(store: Store, workspace_id: int, name: str) -> bool:
    with store.engine.begin() as c:
        result = c.execute(delete(provider_keys).where(provider_keys.c.workspace_id == workspace_id,
                                                       provider_keys.c.name == name))
        return bool(result.rowcount)


def listed(store: Store, workspace_id: int) -> list[dict[str, Any]]:
    """What a screen may show: names and the last four characters, never a value."""
    query = (select(provider_keys.c.provider, provider_keys.c.name, provider_keys.c.last4, provider_keys.c.set_by,
                    provider_keys.c.set_at)
             .where(provider_keys.c.workspace_id == workspace_id).order_by(provider_keys.c.provider,
                                                                            provider_keys.c.name))
    with store.engine.connect() as c:
        return [dict(r) for r in c.execute(query).mappings()]


def environment(store: Store, vault: Vault, workspace_id: int) -> dict[str, str]:
    """The decrypted keys of one workspace, for its own run worker only."""
    query = select(provider_keys.c.name, provider_keys.c.value_enc).where(provider_keys.c.workspace_id == workspace_id)
    with store.engine.connect() as c:
        return {row.name: vault.decrypt(row.value_enc) for row in c.execute(query)}


def run_overrides(own: dict[str, str]) -> dict[str, str | None]:
    """What a run of the workspace changes in its environment: its own keys, and None (unset) for the other names
    of each provider it keyed, so a half-set pair never mixes with the operator's other half."""
    changes: dict[str, str | None] = {}
    for provider in providers_with_keys():
        if any(n in own for n in key_names(provider)):
            changes.update(dict.fromkeys(key_names(provider)))
    changes.update(own)
    return changes


def run_environment(base: dict[str, str], own: dict[str, str]) -> dict[str, str]:
    """A worker's environment: the app's, where every provider a workspace keyed for itself uses only its keys."""
    env = dict(base)
    for name, value in run_overrides(own).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def all_key_names() -> list[str]:
    return list(dict.fromkeys(n for p in providers_with_keys() for n in key_names(p)))
