"""Images: fetched once into a content-addressed cache, decoded safely, normalised, fingerprinted."""

from __future__ import annotations

import hashlib
import io
import ipaddress
import os
import socket
import warnings
from pathlib import Path
from urllib.parse import urlparse

import httpx
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from skureel.domain import ImageAsset, SkureelError
from skureel.settings import Settings

ALLOWED_FORMATS = ["JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF"]


class ImageProblem(SkureelError):
    """One image could not be used; the product is reported, the run goes on."""


def _refuse_private(url: str, settings: Settings) -> None:
    host = urlparse(url).hostname or ""
    if settings.allow_private_urls:
        return
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror as exc:
        raise ImageProblem(f"{url}: host {host!r} not found") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if address.is_private or address.is_loopback or address.is_link_local or address.is_reserved:
            raise ImageProblem(f"{url}: refusing a private or loopback address ({address}); allow it in settings")


def fetch_bytes(url: str, settings: Settings, client: httpx.Client | None = None) -> bytes:
    _refuse_private(url, settings)
    own = client is None
    http = client or httpx.Client(timeout=settings.image_fetch_timeout_s, follow_redirects=False)
    try:
        with http.stream("GET", url, timeout=settings.image_fetch_timeout_s) as response:
            if response.status_code != 200:
                raise ImageProblem(f"{url}: HTTP {response.status_code}")
            chunks, total = [], 0
            for chunk in response.iter_bytes():
                total += len(chunk)
                if total > settings.image_max_bytes:
                    raise ImageProblem(f"{url}: larger than {settings.image_max_bytes // 1_000_000} MB")
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.HTTPError as exc:
        raise ImageProblem(f"{url}: could not fetch ({type(exc).__name__})") from exc
    finally:
        if own:
            http.close()


def decode(data: bytes, source: str, max_pixels: int) -> Image.Image:
    """Decode under the pixel limit, EXIF-rotate, convert any mode to RGBA (clean transparent pixels)."""
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
            if image.width * image.height > max_pixels:
                raise ImageProblem(f"{source}: {image.width}x{image.height} is over the {max_pixels // 1_000_000} MP limit")
            image.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning, OSError, SyntaxError) as exc:
        raise ImageProblem(f"{source}: not a usable image ({type(exc).__name__}: {exc})") from exc
    image = ImageOps.exif_transpose(image) or image
    if image.mode in ("I;16", "I;16B", "I", "F"):
        arr = np.asarray(image, dtype=np.float32)
        peak = float(arr.max()) or 1.0
        image = Image.fromarray(np.clip(arr / peak * 255.0, 0, 255).astype(np.uint8), "L")
    if image.mode == "CMYK":
        image = image.convert("RGB")
    rgba = image.convert("RGBA")
    arr = np.array(rgba)
    # fully transparent pixels are often black: make them neutral so resampling leaves no dark fringe
    clear = arr[..., 3] == 0
    if clear.any():
        arr[clear, :3] = 255
    return Image.fromarray(arr)


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
            tmp = pointer.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(data)
            tmp.replace(pointer)
            return data
        path = Path(ref)
        if not path.is_file():
            raise ImageProblem(f"{ref}: image file not found")
        if path.stat().st_size > self.settings.image_max_bytes:
            raise ImageProblem(f"{ref}: larger than {self.settings.image_max_bytes // 1_000_000} MB")
        return path.read_bytes()

    def load(self, ref: str) -> ImageAsset:
        data = self._source_bytes(ref)
        digest = hashlib.sha256(data).hexdigest()
        target = self.root / "decoded" / f"{digest}.png"
        meta = target.with_suffix(".json")
        if meta.exists() and target.exists():
            asset = ImageAsset.model_validate_json(meta.read_text())
            return asset.model_copy(update={"source": ref})
        image = decode(data, ref, self.settings.image_max_pixels)  # validates first: a bad file never gets further
        with Image.open(io.BytesIO(data)) as probe_img:
            original_format = probe_img.format or "unknown"
            had_alpha = probe_img.mode in ("RGBA", "LA", "PA") or "transparency" in probe_img.info
        fingerprint = hashlib.sha256(image.tobytes()).hexdigest()[:32]
        tmp = target.with_suffix(f".{os.getpid()}.tmp.png")
        image.save(tmp, compress_level=1)
        tmp.replace(target)
        asset = ImageAsset(source=ref, path=str(target), sha256=digest, fingerprint=fingerprint, width=image.width,
                           height=image.height, original_format=original_format, has_alpha=had_alpha)
        tmp_meta = meta.with_suffix(f".{os.getpid()}.tmp")
        tmp_meta.write_text(asset.model_dump_json())
        tmp_meta.replace(meta)
        return asset
