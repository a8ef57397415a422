"""The studio's settings: one keyword-only value object, built once by the command and passed down."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

ROLES = ("admin", "editor", "reviewer", "viewer")
# who may do what; an API token acts for its workspace as an editor that may also review
CAN_EDIT = {"admin", "editor", "token"}
CAN_REVIEW = {"admin", "reviewer", "token"}
CAN_PUBLISH = {"admin", "editor", "reviewer", "token"}


def project_root() -> Path:
    return Path(__file__).resolve().parents[3]


class StudioConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    data_dir: Path
    database_url: str | None = None  # SQLAlchemy URL; default: SQLite file under data_dir
    brand_kits_dir: Path = Field(default_factory=lambda: project_root() / "brand_kits")
    max_upload_bytes: int = 50 * 1024 * 1024
    max_zip_members: int = 2000
    max_zip_bytes: int = 500 * 1024 * 1024  # total uncompressed size of an images zip
    cookie_secure: bool | None = None  # None: Secure except over plain http to a loopback host (local use)
    login_attempts: int = 5  # failed sign-ins allowed per email and address ...
    login_window_s: float = 300.0  # ... within this window
    session_hours: float = 12.0
    worker_poll_s: float = 1.0
    max_workers: int = 1  # ephemeral Prefect keeps its state in one SQLite file: one flow run at a time
    # seconds before each retry of a failed webhook delivery (then it is marked failed): ~75 h, Standard Webhooks
    deployment: str = "catalog-refresh/on-demand-upload"  # run on a Prefect server when PREFECT_API_URL is set
    webhook_backoff_s: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'studio.db').resolve()}"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def runs_dir(self) -> Path:
        return self.data_dir / "runs"

    @property
    def published_dir(self) -> Path:
        return self.data_dir / "published"

