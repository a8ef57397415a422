"""What the folder and fsspec targets share: the run's own atomic storage behind the target protocol."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from skureel import naming
from skureel.publish.storage import Target as Storage
from skureel.publish.targets.base import ClipRef, Deliverable, Remote
from skureel.settings import Settings


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class StorageTarget:
    """Shared by folder and fsspec: an atomic put (temporary name, then rename) under `<sku>/<key>.mp4`."""

    name = "folder"

    def __init__(self, out: str, concurrency: int = 4) -> None:
        self.storage = Storage(out, Settings())
        self.concurrency = concurrency

    @staticmethod
    def rel(ref: ClipRef) -> str:
        return f"{naming.sku_key(ref.sku)}/{ref.key}.mp4"

    async def find(self, item: Deliverable) -> Remote | None:
        rel = self.rel(item)
        if not await asyncio.to_thread(self.storage.exists, rel):
            return None
        if self.storage.local:
            same = await asyncio.to_thread(_sha256, self.storage.root / rel) == await asyncio.to_thread(_sha256, item.path)
        else:
            data = await asyncio.to_thread(self.storage.read_bytes, rel)
            same = hashlib.sha256(data).hexdigest() == await asyncio.to_thread(_sha256, item.path)
        return Remote(remote_id=rel, url=self.storage.uri(rel), same_bytes=same)

    async def publish(self, item: Deliverable, previous: Remote | None) -> Remote:
        rel = self.rel(item)
        uri = await asyncio.to_thread(self.storage.put_file, item.path, rel)
        return Remote(remote_id=rel, url=uri)

    async def settle(self, item: Deliverable, remote: Remote, previous: Remote | None) -> Remote:
        return remote

    async def retire(self, ref: ClipRef, remote: Remote) -> None:
        await asyncio.to_thread(self.storage.remove, remote.remote_id)

    async def aclose(self) -> None:
        return None
