"""Output targets: a local folder or any fsspec URL (s3://, gs://, az://). Every file lands atomically:
written under a temporary name, then moved into place."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import fsspec

from skureel.settings import Settings


class Target:
    def __init__(self, out: str, settings: Settings) -> None:
        self.out = out.rstrip("/")
        self.local = "://" not in out or out.startswith("file://")
        if self.local:
            self.root = Path(self.out.removeprefix("file://")).resolve()
            self.root.mkdir(parents=True, exist_ok=True)
            self.fs: Any = None
        else:
            protocol = out.split("://", 1)[0]
            options: dict[str, Any] = {}
            if protocol == "s3" and settings.s3_endpoint_url:
                options["client_kwargs"] = {"endpoint_url": settings.s3_endpoint_url}
            self.fs = fsspec.filesystem(protocol, **options)
            self.root = Path("/")

    def uri(self, rel: str) -> str:
        return str(self.root / rel) if self.local else f"{self.out}/{rel}"

    def put_file(self, source: Path, rel: str) -> str:
        if self.local:
            final = self.root / rel
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.tmp")
            shutil.copyfile(source, tmp)
            os.replace(tmp, final)
            return str(final)
        final_key = f"{self.out}/{rel}"
        tmp_key = f"{self.out}/.tmp/{uuid.uuid4().hex}-{Path(rel).name}"
        self.fs.put_file(str(source), tmp_key)
        self.fs.mv(tmp_key, final_key)
        return final_key

    def put_bytes(self, data: bytes, rel: str) -> str:
        if self.local:
            final = self.root / rel
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, final)
            return str(final)
        final_key = f"{self.out}/{rel}"
        tmp_key = f"{self.out}/.tmp/{uuid.uuid4().hex}-{Path(rel).name}"
        self.fs.pipe_file(tmp_key, data)
        self.fs.mv(tmp_key, final_key)
        return final_key

    def sweep_temporaries(self) -> int:
        """Remove temporary files a killed run left behind (they were never visible under a real name)."""
        removed = 0
        if self.local:
            for tmp in list(self.root.rglob(".*.tmp")):
                tmp.unlink(missing_ok=True)
                removed += 1
        elif self.fs.exists(f"{self.out}/.tmp"):
            self.fs.rm(f"{self.out}/.tmp", recursive=True)
            removed += 1
        return removed

    def exists(self, rel: str) -> bool:
        return (self.root / rel).exists() if self.local else bool(self.fs.exists(f"{self.out}/{rel}"))

    def read_bytes(self, rel: str) -> bytes:
        return (self.root / rel).read_bytes() if self.local else bytes(self.fs.cat_file(f"{self.out}/{rel}"))

    def move(self, source_rel: str, dest_rel: str) -> None:
        """Rename within the target (a rename on a folder, copy-then-delete on object stores)."""
        if self.local:
            final = self.root / dest_rel
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.root / source_rel, final)
            return
        self.fs.mv(f"{self.out}/{source_rel}", f"{self.out}/{dest_rel}")

    def remove(self, rel: str) -> None:
        if self.local:
            (self.root / rel).unlink(missing_ok=True)
        elif self.fs.exists(f"{self.out}/{rel}"):
            self.fs.rm(f"{self.out}/{rel}")
