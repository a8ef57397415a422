"""Supplemental catalog feeds that add our clips to the products marketing already syndicates (formats.md §2):
Google Merchant Center (`id` + `video_link`, TSV) and Meta (`id` + `video[i].url` / `video[i].tag[j]`, CSV),
keyed by the variant ids the catalog tools know. A clip goes in only with a public URL (a target's, or an http(s)
output) and, for Merchant Center, only when it is 6-240 s long in 9:16, 16:9 or 1:1."""

from __future__ import annotations

import csv
import io
from typing import Any

from skureel.exports import csv_bytes, neutralise

GMC_MAX, META_MAX = 10, 10
_GMC_FORMATS = {"9x16", "16x9", "1x1"}
_URL_ORDER = ("cloudinary", "shopify", "bynder", "fsspec", "folder")


def public_url(row: dict[str, Any]) -> str:
    targets = row.get("targets") or {}
    for name in _URL_ORDER:
        entry = targets.get(name) or {}
        url = str(entry.get("url") or "")
        if entry.get("state") == "ready" and url.startswith(("https://", "http://")):
            return url
    uri = str(row.get("uri") or "")
    return uri if uri.startswith(("https://", "http://")) else ""


def feed_rows(data: dict[str, Any]) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """variant id -> [(url, row)] in manifest order, delivered clips only."""
    out: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for row in data.get("deliverables", []):
        url = public_url(row)
        if row.get("status") == "retired" or not url:
            continue
        for variant in row.get("variant_keys") or [row["sku"]]:
            out.setdefault(str(variant), []).append((url, row))
    return out


def gmc_tsv(data: dict[str, Any]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
    writer.writerow(["id", "video_link"])
    for variant, clips in feed_rows(data).items():
        links = [url.replace(",", "%2C") for url, row in clips
                 if row.get("format") in _GMC_FORMATS and 6 <= float(row.get("duration_s") or 0) <= 240][:GMC_MAX]
        if links:
            writer.writerow([neutralise(variant), ",".join(links)])
    return buffer.getvalue().encode("utf-8")


def meta_csv(data: dict[str, Any]) -> bytes:
    rows = feed_rows(data)
    width = min(META_MAX, max((len(c) for c in rows.values()), default=0))
    header = ["id"] + [f"video[{i}].{part}" for i in range(width) for part in ("url", "tag[0]", "tag[1]")]
    table: list[list[object]] = []
    for variant, clips in rows.items():
        cells: list[object] = [variant]
        for url, row in clips[:width]:
            cells += [url, row.get("format", ""), row.get("shot", "")]
        cells += [""] * (len(header) - len(cells))
        table.append(cells)
    return csv_bytes(header, table)
