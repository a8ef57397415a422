"""The workspace's signed outgoing webhook: set on the admin screen (secret shown once, URL under the SSRF rules),
batch events delivered as Standard Webhooks to a real HTTP receiver on 127.0.0.1 that verifies each signature,
retried with backoff under the same webhook-id, logged for admins, and stopped by a 410."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.test_studio_helpers import Live, csrf_of, live_studio, sample_upload, sign_in
from tests.test_studio_keys import db_holds

from skureel.publish.webhook import WebhookVerificationError, verify


class Receiver:
    """A webhook endpoint: records every request and answers with the next queued status (then 200)."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.answers: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                outer.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                code = outer.answers.pop(0) if outer.answers else 200
                self.send_response(code)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/skureel"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            assert time.monotonic() < deadline, f"{len(self.requests)} of {count} webhook requests arrived"
            time.sleep(0.1)


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    yield hook
    hook.server.shutdown()


@pytest.fixture()
def live(tmp_path: Path) -> Iterator[Live]:
    with live_studio(tmp_path / "data", webhook_backoff_s=(0.5, 0.5, 0.5)) as server:
        server.add_user("ann@example.com", "aurora", "admin")
        server.add_user("vic@example.com", "aurora", "viewer")
        server.add_user("bob@example.com", "nordlys", "admin")
        yield server


def _workspace(client: httpx.Client) -> str:
    return client.get("/", follow_redirects=False).headers["location"]


def _cancelled_run(api: httpx.Client, batch_id: str) -> None:
    assert api.post(f"/api/v1/batches/{batch_id}/run").status_code == 202
    assert api.post(f"/api/v1/batches/{batch_id}/cancel").status_code == 200


def test_signed_batch_events_reach_a_verifying_receiver(live: Live, receiver: Receiver, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    ann = sign_in(live.url, "ann@example.com")
    settings = _workspace(ann) + "/settings"
    page = ann.get(settings)
    assert page.status_code == 200 and "No webhook yet" in page.text
    assert sign_in(live.url, "vic@example.com").get(settings).status_code == 403  # admins only
    assert sign_in(live.url, "bob@example.com").get(settings).status_code == 404  # another workspace

    monkeypatch.delenv("SKUREEL_ALLOW_PRIVATE_URLS", raising=False)
    refused = ann.post(settings + "/webhook", data={"url": receiver.url, "csrf": csrf_of(page.text)})
    assert refused.status_code == 422 and "refusing a private or loopback address" in refused.text
    assert ann.post(settings + "/webhook", data={"url": receiver.url}).status_code == 403  # no CSRF token
    monkeypatch.setenv("SKUREEL_ALLOW_PRIVATE_URLS", "127.0.0.1/32")  # the existing SSRF switch, for loopback
    saved = ann.post(settings + "/webhook", data={"url": receiver.url, "csrf": csrf_of(page.text)})
    assert saved.status_code == 200, saved.text
    start = saved.text.index('id="webhook-secret">') + len('id="webhook-secret">')
    secret = saved.text[start:saved.text.index("<", start)]
    assert secret.startswith("whsec_")
    again = ann.get(settings)
    assert secret not in again.text and receiver.url in again.text  # shown once
    assert not db_holds(live.data, [secret, secret.removeprefix("whsec_")])  # encrypted at rest

    sheet, images = sample_upload(tmp_path / "upload")
    token = live.token("aurora")
    api = httpx.Client(base_url=live.url, headers={"authorization": f"Bearer {token}"}, timeout=60)
    created = api.post("/api/v1/batches", data={"brand_kit": "aurora", "formats": "9x16", "quality": "draft"},
                       files={"sheet": ("catalog.xlsx", sheet.read_bytes()), "images": ("i.zip", images.read_bytes())})
    batch_id = created.json()["id"]
    receiver.answers = [500]  # the first attempt fails: the same message comes again after the backoff
    _cancelled_run(api, batch_id)
    deadline = time.monotonic() + 30
    while not [r for r in receiver.requests if json.loads(r[1])["type"] == "batch.cancelled"][1:]:
        assert time.monotonic() < deadline, [json.loads(b)["type"] for _, b in receiver.requests]
        time.sleep(0.2)
    cancelled = [(h, b) for h, b in receiver.requests if json.loads(b)["type"] == "batch.cancelled"]
    first, second = cancelled[:2]
    assert first[0]["webhook-id"] == second[0]["webhook-id"] and first[1] == second[1]  # idempotency key, same bytes
    assert int(second[0]["webhook-timestamp"]) >= int(first[0]["webhook-timestamp"])
    for headers, body in cancelled:
        payload = verify(secret, headers, body)  # what a Standard Webhooks receiver does
        assert payload["data"]["batch_id"] == batch_id and payload["data"]["workspace"] == "aurora"
        assert payload["timestamp"].endswith("Z")
    with pytest.raises(WebhookVerificationError):
        verify("whsec_" + "A" * 44, first[0], first[1])
    tampered = first[1].replace(batch_id.encode(), b"0" * len(batch_id))
    with pytest.raises(WebhookVerificationError):
        verify(secret, first[0], tampered)

    log = ann.get(settings).text
    assert "batch.cancelled" in log and "delivered" in log and "HTTP 200" in log

    receiver.answers = [410, 410, 410]  # the receiver is gone: sending stops, and the screen says so
    before = len(receiver.requests)
    _cancelled_run(api, batch_id)
    receiver.wait_for(before + 1)
    deadline = time.monotonic() + 10
    while 'id="webhook-disabled"' not in (page_text := ann.get(settings).text):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert "HTTP 410" in page_text
    sent = len(receiver.requests)
    _cancelled_run(api, batch_id)
    time.sleep(2)
    assert len(receiver.requests) == sent  # nothing more goes to a disabled endpoint
