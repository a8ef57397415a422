"""The one place where catalog values become file names, object keys, ledger keys and remote ids.

A key is a readable ASCII slug of the raw value. Whenever the slug differs from the raw value (characters
replaced, cut to length, a reserved name), a short hash of the raw value is appended after a double dash.
A raw value is kept as it is only when it is already a clean slug, and clean slugs never contain `--`, so a
hashed key can never equal another SKU's plain key: distinct raw values give distinct keys. Keys are never empty,
never `.`/`..`, free of separators and Windows reserved names, and depend on nothing but the raw value.
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from pathlib import PurePosixPath

MAX_SLUG = 64  # keeps <key>__<shot>__<format>.json well under every file system's 255-byte name limit
HASH_CHARS = 10  # 50 bits: no collision expected below a billion hashed SKUs
_CLEAN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|[._-](?=[A-Za-z0-9]))*")  # no runs or ends of . _ -
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
_FORMAT = re.compile(r"\d{1,2}x\d{1,2}")


def short_hash(raw: str) -> str:
    digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:HASH_CHARS]


def _ascii_slug(raw: str) -> str:
    # NFKD splits accents off letters (é -> e), so European SKUs stay readable
    text = unicodedata.normalize("NFKD", raw)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", text)
    text = re.sub(r"[._-]*([._-])[._-]*", r"\1", text)  # one separator between words, never `..` or `--`
    return text.strip("._-")


def _reserved(slug: str) -> bool:
    return slug.split(".")[0].casefold() in _RESERVED


def key(raw: str, fallback: str = "sku") -> str:
    """A path- and id-safe key for one raw catalog value (a SKU, a shot id)."""
    slug = _ascii_slug(raw)
    if slug == raw and _CLEAN.fullmatch(slug) and len(slug) <= MAX_SLUG and not _reserved(slug):
        return slug
    slug = slug[:MAX_SLUG].rstrip("._-") or fallback
    if _reserved(slug):  # Windows reserves CON.anything too: no dot may follow a reserved stem
        slug = slug.replace(".", "-")
    return f"{slug}--{short_hash(raw)}"


def sku_key(sku: str) -> str:
    return key(sku, "sku")


def shot_key(shot_id: str) -> str:
    return key(shot_id, "shot")


def format_key(fmt: str) -> str:
    if not _FORMAT.fullmatch(fmt):  # formats come from our presets; anything else is a bug, not a catalog value
        raise ValueError(f"not a format name: {fmt!r}")
    return fmt


def clip_stem(sku: str, shot_id: str, fmt: str) -> str:
    """`<sku>__<shot>__<format>`: keys never contain `__`, so the stem splits back unambiguously."""
    return f"{sku_key(sku)}__{shot_key(shot_id)}__{format_key(fmt)}"


def clip_rel(sku: str, shot_id: str, fmt: str, suffix: str) -> str:
    """Where a deliverable lives under an output root: clips/<sku>/<stem><suffix>."""
    return str(PurePosixPath("clips", sku_key(sku), clip_stem(sku, shot_id, fmt) + suffix))


def public_id(prefix: str, sku: str, shot_id: str, fmt: str) -> str:
    """A remote id for a DAM (Cloudinary public_id, Bynder name): the same key as the file, under a prefix."""
    safe_prefix = "/".join(key(part, "x") for part in prefix.split("/") if part)
    stem = clip_stem(sku, shot_id, fmt)
    return f"{safe_prefix}/{sku_key(sku)}/{stem}" if safe_prefix else f"{sku_key(sku)}/{stem}"
