"""Images: fetched once into a content-addressed cache, decoded safely, normalised, fingerprinted."""

from __future__ import annotations

import hashlib
import ipaddress
import os
import socket
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from PIL import Image

from skureel.domain import ImageAsset
from skureel.imageio import ImageProblem, decode_rgba
from skureel.settings import Settings

if TYPE_CHECKING:  # httpx (with its CLI's click, rich and pygments) costs ~0.2 s: imported when a URL is fetched
    import httpx

__all__ = ["ImageCache", "ImageProblem", "decode", "describe", "fetch_bytes"]


def _refuse_private(url: str, settings: Settings) -> None:
    """Private, loopback, link-local and reserved addresses are refused unless settings allow them (all, or listed
    networks such as 127.0.0.1/32 for a fake server or an in-house image host)."""
    parsed = urlparse(url)
    host = parsed.hostname or ""
    if parsed.scheme not in ("http", "https") or not host:
        raise ImageProblem(f"{url}: only http:// and https:// image links are fetched")
    allowed = settings.allow_private_urls
    if allowed is True:
        return
    try:
        infos = socket.getaddrinfo(host, parsed.port or (443 if parsed.scheme == "https" else 80))
    except (socket.gaierror, UnicodeError) as exc:
        raise ImageProblem(f"{url}: host {host!r} not found") from exc
    networks = [ipaddress.ip_network(n, strict=False) for n in allowed] if isinstance(allowed, list) else []
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if address.is_private or address.is_loopback or address.is_link_local or address.is_reserved \
                or address.is_multicast or address.is_unspecified:
            if any(address in network for network in networks):
                continue
            raise ImageProblem(f"{url}: refusing a private or loopback address ({address}); "
                               "allow it with SKUREEL_ALLOW_PRIVATE_URLS")


MAX_REDIRECTS = 5


def fetch_bytes(url: str, settings: Settings, client: httpx.Client | None = None) -> bytes:
    """GET with a size cap, an overall deadline, and every redirect hop checked like the first address."""
    import httpx

    own = client is None
    http = client or httpx.Client(timeout=settings.image_fetch_timeout_s, follow_redirects=False)
    deadline = time.monotonic() + settings.image_fetch_timeout_s * 2
    current = url
    try:
        for _ in range(MAX_REDIRECTS + 1):
            _refuse_private(current, settings)
            with http.stream("GET", current, timeout=settings.image_fetch_timeout_s) as response:
                if response.is_redirect and response.headers.get("location"):
                    current = str(response.url.join(response.headers["location"]))
                    continue
                if response.status_code != 200:
                    raise ImageProblem(f"{url}: the link answers HTTP {response.status_code}")
                chunks, total = [], 0
                for chunk in response.iter_bytes():
                    total += len(chunk)
                    if total > settings.image_max_bytes:
                        raise ImageProblem(f"{url}: larger than {settings.image_max_bytes // 1_000_000} MB")
                    if time.monotonic() > deadline:
                        raise ImageProblem(f"{url}: too slow (over {settings.image_fetch_timeout_s * 2:.0f} s)")
                    chunks.append(chunk)
                return b"".join(chunks)
        raise ImageProblem(f"{url}: more than {MAX_REDIRECTS} redirects")
    except httpx.TimeoutException as exc:
        raise ImageProblem(f"{url}: no answer within {settings.image_fetch_timeout_s:.0f} s") from exc
    except httpx.HTTPError as exc:
        raise ImageProblem(f"{url}: could not fetch ({_http_words(exc)})") from exc
    finally:
        if own:
            http.close()


def _http_words(exc: httpx.HTTPError) -> str:
    import httpx

    if isinstance(exc, httpx.ConnectError):
        return "the host refused the connection or is unreachable"
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError)):
        return "the connection broke off"
    return "a network error"


def decode(data: bytes, source: str, max_pixels: int) -> Image.Image:
    """Decode under the pixel limit, EXIF-rotate, convert any mode to RGBA (see skureel.imageio)."""
    try:
        return decode_rgba(data, max_pixels)[0]
    except ImageProblem as exc:
        raise ImageProblem(f"{describe(source)}: {exc}") from exc


def describe(source: str) -> str:
    """A source as a user recognises it: the file name for local paths, the link for URLs."""
    return source if "://" in source else Path(source).name


class ImageCache:
    """Content-addressed: sources/<sha256> for fetched bytes, decoded/<sha256>.png for normalised pixels."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.cache_dir / "images"
        (self.root / "decoded").mkdir(parents=True, exist_ok=True)
        (self.root / "urls").mkdir(parents=True, exist_ok=True)

    def _source_bytes(self, ref: str) -> bytes:
        if ref.startswith(("http://", "https://")):
            key = hashlib.sha256(ref.encode()).hexdigest()
            pointer = self.root / "urls" / key
            if pointer.exists():
                return pointer.read_bytes()
            data = fetch_bytes(ref, self.settings)
            tmp = pointer.with_suffix(f".{os.getpid()}-{threading.get_ident()}.tmp")
            tmp.write_bytes(data)
            tmp.replace(pointer)
            return data
        path = Path(ref)
        if not path.is_file():
            raise ImageProblem(f"{describe(ref)}: image file not found")
        if path.stat().st_size > self.settings.image_max_bytes:
            raise ImageProblem(f"{describe(ref)}: larger than {self.settings.image_max_bytes // 1_000_000} MB")
        return path.read_bytes()

    def load(self, ref: str) -> ImageAsset:
        data = self._source_bytes(ref)
        digest = hashlib.sha256(data).hexdigest()
        target = self.root / "decoded" / f"{digest}.png"
        meta = target.with_suffix(".json")
        if meta.exists() and target.exists():
            asset = ImageAsset.model_validate_json(meta.read_text())
            return asset.model_copy(update={"source": ref})
        try:  # validates first: a bad file never gets further
            image, original_format, had_alpha = decode_rgba(data, self.settings.image_max_pixels)
        except ImageProblem as exc:
            raise ImageProblem(f"{describe(ref)}: {exc}") from exc
        fingerprint = hashlib.sha256(image.tobytes()).hexdigest()[:32]
        # per thread, not per process: hosted tasks of one run load the same photo in threads at once
        tmp = target.with_suffix(f".{os.getpid()}-{threading.get_ident()}.tmp.png")
        image.save(tmp, compress_level=1)
        tmp.replace(target)
        asset = ImageAsset(source=ref, path=str(target), sha256=digest, fingerprint=fingerprint, width=image.width,
                           height=image.height, original_format=original_format, has_alpha=had_alpha)
        tmp_meta = meta.with_suffix(f".{os.getpid()}-{threading.get_ident()}.tmp")
        tmp_meta.write_text(asset.model_dump_json())
        tmp_meta.replace(meta)
        return asset
