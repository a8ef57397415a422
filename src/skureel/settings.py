"""Settings read once from the environment (SKUREEL_*) and passed down explicitly."""

from __future__ import annotations

import ipaddress
import json
import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SKUREEL_", extra="ignore")

    cache_dir: Path = Field(default_factory=lambda: Path.home() / ".cache" / "skureel")
    image_max_bytes: int = 25 * 1024 * 1024
    image_max_pixels: int = 40_000_000
    image_fetch_timeout_s: float = 15.0
    # private/loopback image hosts: false (default), true (all), or networks like "127.0.0.1/32,10.2.0.0/16"
    allow_private_urls: Annotated[bool | list[str], NoDecode] = False
    quality: str = "final"  # final | draft
    ledger_url: str | None = None  # SQLAlchemy URL; default is a SQLite file beside the output
    s3_endpoint_url: str | None = None
    max_parallel_renders: int = 0  # 0 = number of cores
    webhook_url: str | None = None
    webhook_secret: str | None = None
    prices_override: dict[str, float] = Field(default_factory=dict)  # provider -> USD/s
    chunk_skus: int = 200  # SKUs per child run of a fan-out (--on-cluster): minutes of work each
    chunk_timeout_s: float = 3600.0  # a child run with no final state by then is crashed and resubmitted
    claim_lease_s: float = 60.0  # a paid job's ledger claim; renewed every third of it, taken over once expired
    # bench/scale.py only: publish a hosted base clip as it is, uncomposed, so the scale bench on 2 cores measures
    # orchestration and paid jobs rather than the encoder. Such clips are not fit to ship.
    bench_skip_compose: bool = False
    # folders besides each catalog's own that local image paths may point into (os.pathsep-separated or JSON list)
    image_roots: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("allow_private_urls", mode="before")
    @classmethod
    def _private_networks(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.casefold() in ("", "0", "false", "no", "off"):
                return False
            if text.casefold() in ("1", "true", "yes", "on"):
                return True
            networks = [part.strip() for part in text.split(",") if part.strip()]
            for network in networks:  # refused here, at start, not at the first image fetch
                ipaddress.ip_network(network, strict=False)
            return networks
        return value

    @field_validator("image_roots", mode="before")
    @classmethod
    def _split_roots(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part for part in text.split(os.pathsep) if part]
        return value


def load_settings() -> Settings:
    return Settings()
