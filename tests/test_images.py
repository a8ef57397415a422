"""Image URLs over real HTTP on 127.0.0.1: cached by content, capped, private hosts refused unless allowed."""

from __future__ import annotations

import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skureel.catalog.images import ImageCache, ImageProblem
from skureel.settings import Settings


def _png(mode: str = "RGBA") -> bytes:
    arr = np.zeros((64, 48, 4), np.uint8)
    arr[8:40, 8:40] = (200, 30, 30, 255)
    out = io.BytesIO()
    Image.fromarray(arr).convert(mode).save(out, format="WEBP" if mode == "RGB" else "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def image_server():  # noqa: ANN201
    hits: dict[str, int] = {}
    files = {"/a.png": _png(), "/webp-named.jpg": _png("RGB"), "/big.png": b"\x89PNG" + b"0" * 3_000_000,
             "/text.png": b"<html>not an image</html>"}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            hits[self.path] = hits.get(self.path, 0) + 1
            body = files.get(self.path)
            self.send_response(200 if body else 404)
            self.end_headers()
            if body:
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()


def test_urls_are_fetched_once_validated_and_capped(image_server, tmp_path: Path) -> None:  # noqa: ANN001
    base, hits = image_server
    cache = ImageCache(Settings(cache_dir=tmp_path, allow_private_urls=True, image_max_bytes=1_000_000))
    asset = cache.load(f"{base}/a.png")
    again = cache.load(f"{base}/a.png")
    assert hits["/a.png"] == 1 and asset.sha256 == again.sha256 and asset.has_alpha and (asset.width, asset.height) == (48, 64)
    webp = cache.load(f"{base}/webp-named.jpg")  # WebP bytes behind a .jpg name are fine
    assert webp.original_format == "WEBP"
    with pytest.raises(ImageProblem, match="larger than"):
        cache.load(f"{base}/big.png")
    with pytest.raises(ImageProblem, match="text.png: a web page, not an image"):
        cache.load(f"{base}/text.png")
    with pytest.raises(ImageProblem, match="HTTP 404"):
        cache.load(f"{base}/missing.png")


def test_private_and_loopback_hosts_are_refused_by_default(image_server, tmp_path: Path) -> None:  # noqa: ANN001
    base, hits = image_server
    cache = ImageCache(Settings(cache_dir=tmp_path))
    before = dict(hits)
    with pytest.raises(ImageProblem, match="private or loopback"):
        cache.load(f"{base}/a.png")
    assert hits == before  # nothing was requested


def test_pixel_limit_is_kept(tmp_path: Path) -> None:
    big = tmp_path / "huge.png"
    Image.new("L", (6000, 5000)).save(big)
    cache = ImageCache(Settings(cache_dir=tmp_path / "c", image_max_pixels=20_000_000))
    with pytest.raises(ImageProblem, match=r"image too large: 30 MP \(6000x5000\), limit 20 MP"):
        cache.load(str(big))


def test_a_bad_private_network_setting_is_one_line_at_start(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from tests.conftest import SAMPLE

    done = subprocess.run([sys.executable, "-m", "skureel", "validate", str(SAMPLE)], capture_output=True, text=True,
                          env={**os.environ, "SKUREEL_ALLOW_PRIVATE_URLS": "10.0.0.0/33"}, timeout=120)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2 and "SKUREEL_ALLOW_PRIVATE_URLS" in done.stderr and "Traceback" not in done.stderr
    assert len(" ".join(lines)) < 200, done.stderr
    assert Settings(allow_private_urls="127.0.0.1/32").allow_private_urls == ["127.0.0.1/32"]
