"""Standard Webhooks as a publish target: `clip.published`, `clip.retired` and `batch.finished` events.

The webhook-id is derived from the event, the clip key and its sha256, so a retry and a resumed publish both
carry the same id and a receiver that dedupes on it (as the spec asks) sees each event once.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from pydantic import BaseModel, ConfigDict

from skureel.publish.targets.base import (
    ClipRef,
    Deliverable,
    Remote,
    SecretLookup,
    TargetConfigError,
    TargetTransient,
    base_url,
    credential,
)
from skureel.publish.webhook import deliver, event


class WebhookOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = ""
    attempts: int = 4
    concurrency: int = 8


class WebhookTarget:
    name = "webhook"

    def __init__(self, url: str, secret: str | None, attempts: int = 4, concurrency: int = 8) -> None:
        self.url, self.secret, self.attempts, self.concurrency = url, secret, attempts, concurrency

    @classmethod
    def from_options(cls, options: dict[str, Any], lookup: SecretLookup | None = None) -> WebhookTarget:
        opts = WebhookOptions.model_validate(options)
        url = base_url("webhook", "") or opts.url or credential("SKUREEL_WEBHOOK_URL", lookup) or ""
        if not url.startswith(("http://", "https://")):
            raise TargetConfigError("webhook: set `url` in targets.yaml or SKUREEL_WEBHOOK_URL")
        return cls(url, credential("SKUREEL_WEBHOOK_SECRET", lookup), opts.attempts, opts.concurrency)

    def _id(self, kind: str, key: str, sha: str) -> str:
        return "msg_" + hashlib.sha256(f"{kind}|{self.url}|{key}|{sha}".encode()).hexdigest()[:32]

    async def _send(self, msg_id: str, payload: dict[str, Any]) -> None:
        problem = await asyncio.to_thread(deliver, self.url, self.secret, msg_id, payload, attempts=self.attempts)
        if problem:
            raise TargetTransient(problem)

    async def find(self, item: Deliverable) -> Remote | None:
        return None  # a receiver cannot be asked; the publish state and the webhook-id dedupe instead

    async def publish(self, item: Deliverable, previous: Remote | None) -> Remote:
        msg_id = self._id("clip.published", item.key, item.sha256)
        await self._send(msg_id, event("clip.published", {
            "key": item.key, "sku": item.sku, "shot": item.shot, "format": item.format, "uri": item.uri,
            "sha256": item.sha256, "bytes": item.bytes, "content_key": item.content_key, "title": item.title,
            "tags": item.tags, "ai_generated": item.ai_generated, "replaces": previous.remote_id if previous else None}))
        return Remote(remote_id=msg_id, url=item.uri)

    async def settle(self, item: Deliverable, remote: Remote, previous: Remote | None) -> Remote:
        return remote

    async def retire(self, ref: ClipRef, remote: Remote) -> None:
        await self._send(self._id("clip.retired", ref.key, remote.remote_id), event("clip.retired", {
            "key": ref.key, "sku": ref.sku, "shot": ref.shot, "format": ref.format}))

    async def batch_finished(self, summary: dict[str, Any]) -> None:
        digest = hashlib.sha256(repr(sorted(summary.items())).encode()).hexdigest()
        try:
            await self._send(self._id("batch.finished", "", digest), event("batch.finished", summary))
        except TargetTransient:
            pass  # the clip events carry the substance; a lost summary is reported by the receiver's absence

    async def aclose(self) -> None:
        return None
