"""Settings read once from the environment (SKUREEL_*) and passed down explicitly."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SKUREEL_", extra="ignore")

    cache_dir: Path = Field(default_factory=lambda: Path.home() / ".cache" / "skureel")
    image_max_bytes: int = 25 * 1024 * 1024
    image_max_pixels: int = 40_000_000
    image_fetch_timeout_s: float = 15.0
    allow_private_urls: bool = False  # loopback/private image hosts; tests turn it on
    quality: str = "final"  # final | draft
    ledger_url: str | None = None  # SQLAlchemy URL; default is a SQLite file beside the output
    s3_endpoint_url: str | None = None
    max_parallel_renders: int = 0  # 0 = number of cores
    webhook_url: str | None = None
    webhook_secret: str | None = None
    prices_override: dict[str, float] = Field(default_factory=dict)  # provider -> USD/s


def load_settings() -> Settings:
    return Settings()
