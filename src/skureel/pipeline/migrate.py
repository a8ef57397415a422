"""Outputs made before the naming function (skureel.naming) moved to where it now puts them, with a note each."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from skureel.ledger import Ledger
from skureel.naming import clip_rel
from skureel.publish.storage import Target

SUFFIXES = (".mp4", ".jpg", ".json")


def relative(uri: str, target: Target) -> str | None:
    """The deliverable's path under the target root, or None when it lies elsewhere (another output)."""
    if target.local:
        try:
            return str(Path(uri).resolve().relative_to(target.root))
        except ValueError:
            return None
    prefix = target.out + "/"
    return uri[len(prefix):] if uri.startswith(prefix) else None


def migrate_names(ledger: Ledger, target: Target) -> list[str]:
    """Move each published deliverable whose file name predates the naming function; return what was done."""
    notes: list[str] = []
    records = [r for r in ledger.all_deliverables() if r["state"] == "published" and r["uri"]]
    shared = Counter(r["uri"] for r in records)
    for record in records:
        sku, shot, fmt = record["sku"], record["shot_id"], record["format"]
        wanted = clip_rel(sku, shot, fmt, ".mp4")
        current = relative(record["uri"], target)
        if current == wanted:
            continue
        if current is None or shared[record["uri"]] > 1 or not target.exists(current):
            # another SKU's clip overwrote this one under the old names (or it is gone): make it again
            ledger.forget_deliverable(sku, shot, fmt)
            notes.append(f"SKU {sku!r} {shot}/{fmt}: its earlier clip was missing or shared with another SKU; "
                         "it will be made again")
            continue
        old_stem, new_stem = current.removesuffix(".mp4"), wanted.removesuffix(".mp4")
        row = json.loads(record["row"] or "{}")
        for suffix in SUFFIXES:
            if target.exists(old_stem + suffix) and suffix != ".json":
                target.move(old_stem + suffix, new_stem + suffix)
        for key, suffix in (("uri", ".mp4"), ("poster_uri", ".jpg"), ("sidecar_uri", ".json")):
            row[key] = target.uri(new_stem + suffix)
        if target.exists(old_stem + ".json"):
            text = target.read_bytes(old_stem + ".json").decode("utf-8", "replace")
            text = text.replace(json.dumps(record["uri"])[1:-1], json.dumps(row["uri"])[1:-1])
            target.put_bytes(text.encode("utf-8"), new_stem + ".json")
            target.remove(old_stem + ".json")
        ledger.mark_published(sku, shot, fmt, row["uri"], record["sha256"] or "", int(record["bytes"] or 0), row)
        notes.append(f"SKU {sku!r} {shot}/{fmt}: moved from {current} to {wanted} (new naming)")
    return notes
