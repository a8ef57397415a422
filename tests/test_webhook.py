"""The DAM/CMS webhook: a signed POST a receiver can verify, retried on server errors."""

from __future__ import annotations

import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from skureel.publish.webhook import notify, sign


def test_signed_webhook_is_verifiable_and_retried() -> None:
    received: list[tuple[dict[str, str], bytes]] = []
    answers = [503, 200]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            self.send_response(answers.pop(0))
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        assert notify(url, "s3cret", {"event": "x", "n": 1}) is None
    finally:
        server.shutdown()
    assert len(received) == 2
    headers, body = received[-1]
    expected = "sha256=" + sign("s3cret", headers["X-Skureel-Timestamp"], body)
    assert hmac.compare_digest(headers["X-Skureel-Signature"], expected)
    assert json.loads(body) == {"event": "x", "n": 1} and "s3cret" not in body.decode()
    assert notify("http://127.0.0.1:9/none", None, {}, attempts=1, timeout_s=1) is not None
