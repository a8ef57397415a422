"""The signed outgoing webhook of each workspace: batch events as Standard Webhooks deliveries.

An outbox over the store's `events` table (which the app and the run workers both write): a dispatcher in the
app turns new batch events of a workspace with a webhook into `webhook_deliveries` rows, then sends each due row
once per tick. Each row keeps its `webhook-id` and its body bytes for every attempt (the spec's idempotency key,
signed content `{id}.{timestamp}.{body}` as sent; signing is publish/webhook.py's). A failure is retried after
the next step of the backoff schedule, with jitter; 2xx is success, 3xx/4xx other than 408/429 end the row,
410 also disables the endpoint. The delivery log is what the admin screen shows. URLs pass the image fetcher's
SSRF rules on save and again on every send (a name may resolve elsewhere later).
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import time
import traceback
from typing import Any

import httpx
from sqlalchemy import Column, Float, ForeignKey, Integer, String, Table, Text, func, insert, select, update

from skureel.catalog.images import _refuse_private
from skureel.imageio import ImageProblem
from skureel.publish.webhook import event as make_event
from skureel.publish.webhook import new_secret, signature
from skureel.settings import load_settings
from skureel.web.store import Store, batches, events, metadata, now, workspaces
from skureel.web.vault import Vault

# store event kind -> webhook event type; `started` only for a run's first attempt (a resubmit is not news)
TYPES = {"started": "batch.started", "finished": "batch.finished", "cancelled": "batch.cancelled",
         "published": "batch.published", "rerun": "batch.rerun"}
TIMEOUT_S = 15.0

webhooks = Table(
    "webhooks", metadata,
    Column("workspace_id", Integer, ForeignKey("workspaces.id"), primary_key=True),
    Column("url", Text, nullable=False),
    Column("secret_enc", Text, nullable=False),
    Column("cursor", Integer, nullable=False, default=0),  # the last store event looked at
    Column("disabled", Text),  # why sending stopped (410), None while active
    Column("set_by", String(320), nullable=False),
    Column("set_at", String(40), nullable=False),
)
deliveries = Table(
    "webhook_deliveries", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("workspace_id", Integer, ForeignKey("workspaces.id"), nullable=False, index=True),
    Column("msg_id", String(40), nullable=False, unique=True),
    Column("type", String(60), nullable=False),
    Column("batch_id", String(32)),
    Column("body", Text, nullable=False),  # exactly the bytes sent (and signed) on every attempt
    Column("status", String(12), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_at", Float, nullable=False),
    Column("last_result", Text),
    Column("created_at", String(40), nullable=False),
    Column("done_at", String(40)),
)


class HookRefused(Exception):
    """A webhook URL that may not be used; the message is one line for the screen."""


def check_url(url: str) -> str:
    url = url.strip()
    if len(url) > 2000:
        raise HookRefused("the webhook URL is too long")
    try:
        _refuse_private(url, load_settings())
    except ImageProblem as exc:
        raise HookRefused(str(exc).replace("image links", "webhook URLs")) from exc
    return url


def configure(store: Store, vault: Vault, workspace_id: int, url: str, who: str) -> str:
    """Set (or replace) the workspace's webhook with a new secret; returns the secret, to be shown this once.
    Events from now on are sent; earlier ones are not."""
    url = check_url(url)
    secret = new_secret()
    with store.engine.begin() as c:
        cursor = int(c.execute(select(func.max(events.c.id))).scalar() or 0)
        values = {"url": url, "secret_enc": vault.encrypt(secret), "cursor": cursor, "disabled": None,
                  "set_by": who, "set_at": now()}
        if c.execute(select(webhooks.c.workspace_id).where(webhooks.c.workspace_id == workspace_id)).first():
            c.execute(update(webhooks).where(webhooks.c.workspace_id == workspace_id).values(**values))
        else:
            c.execute(insert(webhooks).values(workspace_id=workspace_id, **values))
    return secret


def settings_of(store: Store, workspace_id: int, log: int = 50) -> dict[str, Any]:
    """The screen's view: URL, state and the delivery log, never the secret."""
    with store.engine.connect() as c:
        hook = c.execute(select(webhooks.c.url, webhooks.c.disabled, webhooks.c.set_by, webhooks.c.set_at)
                         .where(webhooks.c.workspace_id == workspace_id)).mappings().first()
        rows = c.execute(select(deliveries.c.id, deliveries.c.msg_id, deliveries.c.type, deliveries.c.batch_id,
                                deliveries.c.status, deliveries.c.attempts, deliveries.c.last_result,
                                deliveries.c.created_at, deliveries.c.done_at)
                         .where(deliveries.c.workspace_id == workspace_id)
                         .order_by(deliveries.c.id.desc()).limit(log)).mappings()
        return {"webhook": dict(hook) if hook else None, "deliveries": [dict(r) for r in rows]}


def _enqueue(store: Store) -> int:
    """New batch events of every workspace with an active webhook become pending deliveries."""
    made = 0
    with store.engine.begin() as c:
        hooks = c.execute(select(webhooks.c.workspace_id, webhooks.c.cursor).where(webhooks.c.disabled.is_(None)))
        for workspace_id, cursor in list(hooks):
            rows = c.execute(select(events.c.id, events.c.kind, events.c.at, events.c.data, batches.c.id.label("bid"),
                                    batches.c.state, batches.c.sheet_name, workspaces.c.name)
                             .select_from(events).join(batches, batches.c.id == events.c.batch_id)
                             .join(workspaces, workspaces.c.id == batches.c.workspace_id)
                             .where(events.c.id > cursor, batches.c.workspace_id == workspace_id)
                             .order_by(events.c.id)).mappings().all()
            for row in rows:
                data = json.loads(row["data"])
                kind = TYPES.get(row["kind"])
                if kind is None or (row["kind"] == "started" and int(data.get("attempt", 1)) != 1):
                    continue
                payload = make_event(kind, {"batch_id": row["bid"], "workspace": row["name"], "sheet": row["sheet_name"],
                                            "state": row["state"], "url": f"/batches/{row['bid']}", **data})
                payload["timestamp"] = row["at"].replace("+00:00", "Z")  # when it happened, not when it was sent
                body = json.dumps(payload, default=str, separators=(",", ":"), ensure_ascii=False)
                c.execute(insert(deliveries).values(workspace_id=workspace_id, msg_id="msg_" + secrets.token_hex(12),
                                                    type=kind, batch_id=row["bid"], body=body, status="pending",
                                                    attempts=0, next_at=time.time(), created_at=now()))
                made += 1
            if rows:
                c.execute(update(webhooks).where(webhooks.c.workspace_id == workspace_id)
                          .values(cursor=rows[-1]["id"]))
    return made


def _attempt(url: str, secret: str, msg_id: str, body: bytes, client: httpx.Client) -> tuple[str, str, float | None]:
    """One POST: (outcome, words for the log, the receiver's retry-after). outcome: ok | retry | fail | gone."""
    try:
        check_url(url)
    except HookRefused as exc:
        return "fail", str(exc), None
    stamp = int(time.time())
    headers = {"content-type": "application/json", "user-agent": "skureel-studio-webhook/1", "webhook-id": msg_id,
               "webhook-timestamp": str(stamp), "webhook-signature": signature(secret, msg_id, stamp, body)}
    try:
        answer = client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return "retry", f"no answer ({type(exc).__name__})", None
    code = answer.status_code
    after = answer.headers.get("retry-after", "")
    wait = float(after) if after.isdigit() else None
    if 200 <= code < 300:
        return "ok", f"HTTP {code}", None
    if code == 410:
        return "gone", "HTTP 410: the receiver asked us to stop sending", None
    if code >= 500 or code in (408, 429):
        return "retry", f"HTTP {code}", wait
    return "fail", f"HTTP {code}" + (" (redirects are not followed)" if 300 <= code < 400 else ""), None


class Dispatcher:
    """Sends due deliveries once per tick; the schedule (seconds between attempts) comes from the config."""

    def __init__(self, store: Store, vault: Vault, backoff_s: tuple[float, ...], period_s: float = 1.0) -> None:
        self.store, self.vault, self.backoff_s, self.period_s = store, vault, backoff_s, period_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _loop(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.tick)
            except Exception:  # noqa: BLE001 - the outbox must outlive one bad row; the log keeps why
                traceback.print_exc()
            await asyncio.sleep(self.period_s)

    def tick(self) -> int:
        """Enqueue new events, then try every due delivery once; returns how many were attempted."""
        _enqueue(self.store)
        with self.store.engine.connect() as c:
            due = c.execute(select(deliveries, webhooks.c.url, webhooks.c.secret_enc)
                            .join(webhooks, webhooks.c.workspace_id == deliveries.c.workspace_id)
                            .where(deliveries.c.status == "pending", deliveries.c.next_at <= time.time(),
                                   webhooks.c.disabled.is_(None))
                            .order_by(deliveries.c.id).limit(50)).mappings().all()
        if not due:
            return 0
        with httpx.Client(timeout=TIMEOUT_S, follow_redirects=False) as client:
            for row in due:
                outcome, words, wait = _attempt(row["url"], self.vault.decrypt(row["secret_enc"]), row["msg_id"],
                                                row["body"].encode("utf-8"), client)
                self._record(row, outcome, words, wait)
        return len(due)

    def _record(self, row: Any, outcome: str, words: str, wait: float | None) -> None:
        attempts = int(row["attempts"]) + 1
        values: dict[str, Any] = {"attempts": attempts, "last_result": words}
        if outcome == "ok":
            values.update(status="delivered", done_at=now())
        elif outcome == "retry" and attempts <= len(self.backoff_s):
            step = self.backoff_s[attempts - 1] * (0.8 + 0.4 * random.random())  # jitter: receivers recover unherded
            values["next_at"] = time.time() + max(step, wait or 0.0)
        else:
            values.update(status="failed", done_at=now())
            if outcome == "retry":
                values["last_result"] = f"{words}; gave up after {attempts} attempts"
        with self.store.engine.begin() as c:
            c.execute(update(deliveries).where(deliveries.c.id == row["id"]).values(**values))
            if outcome == "gone":
                c.execute(update(webhooks).where(webhooks.c.workspace_id == row["workspace_id"])
                          .values(disabled=words))
                c.execute(update(deliveries).where(deliveries.c.workspace_id == row["workspace_id"],
                                                   deliveries.c.status == "pending")
                          .values(status="failed", last_result="not sent: the endpoint was disabled (410)"))
