"""A generated hostile catalog: odd SKUs and titles on good photos, and every kind of broken image reference.

Each row says what should become of it: delivered, or reported with a reason matching a pattern.
"""

from __future__ import annotations

import csv
import io
import shutil
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
from PIL import Image

import skureel.imageio  # noqa: F401 - registers the HEIF opener used to write the .heic sample


@dataclass
class Row:
    sku: str
    image: str
    expect: str  # "ok", or a regular expression the reported reason must match
    title: str = "Field tee"


def _photo(seed: int, size: tuple[int, int] = (480, 600)) -> Image.Image:
    """A product on a light backdrop: a coloured rounded block with texture, so the cut-out finds it."""
    rng = np.random.default_rng(seed)
    w, h = size
    arr = np.full((h, w, 3), 238, np.uint8)
    colour = rng.integers(30, 200, 3)
    y0, y1, x0, x1 = h // 6, h - h // 6, w // 5, w - w // 5
    arr[y0:y1, x0:x1] = colour
    arr[y0:y1, x0:x1] += rng.integers(0, 25, (y1 - y0, x1 - x0, 1), dtype=np.uint8)
    return Image.fromarray(arr)


def _png_header_only(width: int, height: int, bit_depth: int = 1, colour_type: int = 0) -> bytes:
    """A PNG that declares a huge canvas (a decompression bomb) in a few bytes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def _save(image: Image.Image, path: Path, **options: object) -> None:
    image.save(path, **options)  # type: ignore[arg-type]


SAMPLE_IMAGES = Path(__file__).resolve().parents[1] / "catalogs" / "sample" / "images"


def write_images(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    samples = sorted(SAMPLE_IMAGES.glob("*.jpg"))  # real-looking packshots, so every good row has a product
    for i in range(24):
        shutil.copy(samples[i % len(samples)], folder / f"good{i}.jpg")
    def sample(k: int, size: tuple[int, int] = (480, 600)) -> Image.Image:
        with Image.open(samples[k % len(samples)]) as image:
            return image.convert("RGB").resize(size)

    rotated = sample(0, (600, 480)).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW on display: stored landscape, shown portrait
    _save(rotated, folder / "exif.jpg", exif=exif.tobytes())
    _save(sample(1).convert("CMYK"), folder / "cmyk.jpg")
    deep = (np.asarray(sample(2).convert("L"), dtype=np.uint16) * 257).astype(np.uint16)
    Image.fromarray(deep).save(folder / "deep16.png")
    frames = [sample(3 + k) for k in range(3)]
    frames[0].save(folder / "anim.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    _save(sample(6), folder / "photo.avif", quality=80)
    _save(sample(7), folder / "photo.heic", quality=80)
    (folder / "bomb.png").write_bytes(_png_header_only(30000, 30000))
    jpeg = io.BytesIO()
    _save(_photo(58), jpeg, format="JPEG", quality=90)
    (folder / "truncated.jpg").write_bytes(jpeg.getvalue()[: len(jpeg.getvalue()) // 3])
    (folder / "notes.png").write_bytes(b"these are my notes, not a picture\n" * 20)
    (folder / "drawing.png").write_bytes(b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="400" '
                                         b'height="400"><rect width="400" height="400" fill="red"/></svg>')
    Image.new("RGB", (1, 1), (200, 0, 0)).save(folder / "pixel.png")
    Image.new("RGB", (5400, 200), (200, 100, 0)).save(folder / "strip.png")
    _save(_photo(59, (40, 40)), folder / "tiny.jpg")
    _save(_photo(60, (8000, 300)), folder / "banner.jpg", quality=70)


class _Handler(BaseHTTPRequestHandler):
    images: Path

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path == "/good.jpg":
            body = (self.images / "good20.jpg").read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/moved.jpg":
            self.send_response(302)
            self.send_header("Location", "/good.jpg")
            self.end_headers()
        elif self.path == "/to-metadata.jpg":  # a redirect into the cloud metadata service
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()
        elif self.path == "/slow.jpg":
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.end_headers()
            for _ in range(8):
                time.sleep(0.5)
                try:
                    self.wfile.write(b"\xff")
                    self.wfile.flush()
                except OSError:
                    return
        elif self.path == "/huge.jpg":
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.end_headers()
            try:
                for _ in range(40):
                    self.wfile.write(b"\xff" * 65536)
            except OSError:
                return
        else:
            self.send_response(404)
            self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def image_server(images: Path) -> Iterator[str]:
    handler = type("Handler", (_Handler,), {"images": images})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def rows(base_url: str) -> list[Row]:
    good = iter(f"images/good{i}.jpg" for i in range(24))
    odd_skus = [
        "Ünïcödé-Ñ-001", "\u202eevil-rtl-override", "👟-sneaker-🔥", "L" * 300, "../../escape", "AB/1", "AB-1",
        "AB-1/AB-1", "back\\slash\\sku", ".hidden", "CON", "nul.txt", "{{ 7*7 }}", "=HYPERLINK(\"http://x\")",
        "<script>alert(1)</script>", "Tee 001", "Tee-001", "nul\x00byte", "-leading-dash", "   spaced   out   ",
    ]
    out = [Row(sku, next(good), "ok") for sku in odd_skus]
    out[12].title = "{% for x in range(99999999) %}loop{% endfor %} {{ config }}"
    out[13].title = "+cmd|' /C calc'!A0"
    out[14].title = "<img src=x onerror=alert(1)> Tee"
    out += [
        Row("IMG-EXIF", "images/exif.jpg", "ok"),
        Row("IMG-CMYK", "images/cmyk.jpg", "ok"),
        Row("IMG-16BIT", "images/deep16.png", "ok"),
        Row("IMG-GIF", "images/anim.gif", "ok"),
        Row("IMG-AVIF", "images/photo.avif", "ok"),
        Row("IMG-HEIC", "images/photo.heic", "ok"),
        Row("URL-GOOD", f"{base_url}/good.jpg", "ok"),
        Row("URL-REDIRECT", f"{base_url}/moved.jpg", "ok"),
        Row("BAD-BOMB", "images/bomb.png", r"image too large: 900 MP"),
        Row("BAD-TRUNC", "images/truncated.jpg", r"truncated image"),
        Row("BAD-BYTES", "images/notes.png", r"not an image file"),
        Row("BAD-SVG", "images/drawing.png", r"SVG drawing"),
        Row("BAD-1PX", "images/pixel.png", r"1x1 px.*at least 200 px"),
        Row("BAD-STRIP", "images/strip.png", r"27:1\), a banner"),
        Row("BAD-TINY", "images/tiny.jpg", r"40x40 px.*at least 200 px"),
        Row("BAD-BANNER", "images/banner.jpg", r"8000x300 px"),
        Row("BAD-PRIVATE", "http://10.0.0.1/image.jpg", r"private or loopback address \(10\.0\.0\.1\)"),
        Row("BAD-LINKLOCAL", "http://169.254.169.254/latest/meta-data/", r"private or loopback address"),
        Row("BAD-LOOPBACK", "http://127.0.0.2:9/x.jpg", r"private or loopback address \(127\.0\.0\.2\)"),
        Row("BAD-V6", "http://[::1]:9/x.jpg", r"private or loopback address \(::1\)"),
        Row("BAD-REDIRECT", f"{base_url}/to-metadata.jpg", r"private or loopback address \(169\.254"),
        Row("BAD-SLOW", f"{base_url}/slow.jpg", r"too slow|no answer within"),
        Row("BAD-HUGE", f"{base_url}/huge.jpg", r"larger than 1 MB"),
        Row("BAD-404", f"{base_url}/gone.jpg", r"answers HTTP 404"),
        Row("BAD-FILEURL", "file:///etc/passwd", r"outside the catalog's folder"),
        Row("BAD-ABS", "/etc/passwd", r"outside the catalog's folder"),
        Row("BAD-DOTDOT", "../outside.jpg", r"outside the catalog's folder"),
        Row("BAD-SCHEME", "javascript:alert(1)", r"links starting with javascript: are not read"),
        Row("BAD-MISSING", "images/never-uploaded.jpg", r"image file not found"),
    ]
    return out


def write_catalog(folder: Path, base_url: str) -> tuple[Path, list[Row]]:
    write_images(folder / "images")
    _photo(99).save(folder.parent / "outside.jpg")  # a real file just outside the catalog's folder
    table = rows(base_url)
    path = folder / "hostile.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["SKU", "Title", "Price", "Currency", "Image", "Shots", "Duration", "Material"])
        for row in table:
            writer.writerow([row.sku, row.title, "19.90", "EUR", row.image, "hero", "2", "cotton"])
    return path, table
