"""Any fsspec URL (s3://, gs://, az://) as a publish target, through the same atomic storage as the run."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from skureel.publish.targets._storage import StorageTarget
from skureel.publish.targets.base import SecretLookup, TargetConfigError


class FsspecOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = ""
    concurrency: int = 8


class FsspecTarget(StorageTarget):
    name = "fsspec"

    @classmethod
    def from_options(cls, options: dict[str, Any], lookup: SecretLookup | None = None) -> FsspecTarget:
        opts = FsspecOptions.model_validate(options)
        if "://" not in opts.url:
            raise TargetConfigError("fsspec: set `url` (s3://bucket/prefix, gs://..., az://...) in targets.yaml")
        return cls(opts.url, opts.concurrency)
