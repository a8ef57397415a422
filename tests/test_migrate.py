"""Outputs published before the naming function are found and moved where it now puts them, each with a note."""

from __future__ import annotations

import json
from pathlib import Path

from skureel.ledger import Ledger
from skureel.naming import clip_rel
from skureel.pipeline.migrate import migrate_names
from skureel.publish.storage import Target
from skureel.settings import Settings


def _publish_old_style(ledger: Ledger, out: Path, sku: str, rel_stem: str) -> None:
    for suffix, body in ((".mp4", b"mp4:" + sku.encode()), (".jpg", b"jpg"), (".json", b"")):
        path = out / (rel_stem + suffix)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    uri = str(out / (rel_stem + ".mp4"))
    (out / (rel_stem + ".json")).write_text(json.dumps({"uri": uri}))
    ledger.intend_publish(sku, "hero", "9x16", "key-" + sku, "overlay")
    ledger.mark_published(sku, "hero", "9x16", uri, "sha", 10, {"sku": sku, "uri": uri})


def test_old_names_are_moved_or_remade_and_each_is_said(tmp_path: Path) -> None:
    out = tmp_path / "out"
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    target = Target(str(out), Settings(cache_dir=tmp_path / "cache"))
    _publish_old_style(ledger, out, "AB/1", "clips/AB-1/1__hero__9x16")  # the old slug nested it in AB-1's folder
    _publish_old_style(ledger, out, "AUR-TEE", "clips/AUR-TEE/AUR-TEE__hero__9x16")  # already where it belongs
    _publish_old_style(ledger, out, "X 1", "clips/X-1/X 1__hero__9x16")
    ledger.intend_publish("X-1", "hero", "9x16", "key-x", "overlay")  # another SKU overwrote the same file
    ledger.mark_published("X-1", "hero", "9x16", str(out / "clips/X-1/X 1__hero__9x16.mp4"), "sha", 10, {})

    notes = migrate_names(ledger, target)

    moved = out / clip_rel("AB/1", "hero", "9x16", ".mp4")
    assert moved.read_bytes() == b"mp4:AB/1" and not (out / "clips/AB-1/1__hero__9x16.mp4").exists()
    record = ledger.deliverable("AB/1", "hero", "9x16")
    assert record and record["uri"] == str(moved) and record["state"] == "published"
    assert json.loads(moved.with_suffix(".json").read_text())["uri"] == str(moved)
    assert (out / "clips/AUR-TEE/AUR-TEE__hero__9x16.mp4").exists()
    assert ledger.deliverable("AUR-TEE", "hero", "9x16")["uri"].endswith("AUR-TEE__hero__9x16.mp4")  # type: ignore[index]
    for sku in ("X 1", "X-1"):  # the shared file cannot be trusted for either: both are made again
        assert ledger.deliverable(sku, "hero", "9x16")["state"] == "intent"  # type: ignore[index]
    assert len(notes) == 3 and any("moved from clips/AB-1/1__hero__9x16.mp4" in n for n in notes)
    assert sum("made again" in n for n in notes) == 2
    assert migrate_names(ledger, target) == []  # idempotent
