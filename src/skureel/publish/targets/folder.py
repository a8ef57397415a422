"""A local folder as a publish target (the storage the run already writes, behind the target protocol)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from skureel.publish.targets._storage import StorageTarget
from skureel.publish.targets.base import SecretLookup, TargetConfigError


class FolderOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = ""
    concurrency: int = 4


class FolderTarget(StorageTarget):
    name = "folder"

    @classmethod
    def from_options(cls, options: dict[str, Any], lookup: SecretLookup | None = None) -> FolderTarget:
        opts = FolderOptions.model_validate(options)
        if not opts.path or "://" in opts.path:
            raise TargetConfigError("folder: set `path` (a local folder) in targets.yaml")
        return cls(opts.path, opts.concurrency)
