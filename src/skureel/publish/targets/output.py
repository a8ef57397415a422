"""Publish an existing run's output (its manifest.json) to named targets: what `skureel publish` and
`skureel run --publish` both call. The manifest is rewritten (atomically) with each target's remote id and URL."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from skureel.exports import atomic_write_bytes
from skureel.ledger import Ledger
from skureel.publish.storage import Target as Storage
from skureel.publish.targets.base import ClipRef, Deliverable, PublishTarget, SecretLookup, TargetConfigError
from skureel.publish.targets.config import load_targets, options_for
from skureel.publish.targets.feeds import feed_rows, gmc_tsv, meta_csv
from skureel.publish.targets.provenance import Provenance
from skureel.publish.targets.registry import build
from skureel.publish.targets.runner import (
    Prepare,
    PublishReport,
    annotate_manifest,
    deliverables_from_manifest,
    publish_all,
)
from skureel.publish.targets.state import PublishState
from skureel.settings import Settings


def split_out(out_or_manifest: str) -> str:
    """A folder (or fsspec URL) holding manifest.json, or the manifest.json itself -> the folder."""
    text = out_or_manifest.rstrip("/")
    return text[: -len("/manifest.json")] if text.endswith("/manifest.json") else text


def target_names(text: str, brand_kit: str | Path | None) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        names = load_targets(brand_kit).default
    if not names:
        raise TargetConfigError("name the targets (--to shopify,cloudinary) or list `default:` in targets.yaml")
    return list(dict.fromkeys(names))


def build_targets(names: list[str], brand_kit: str | Path | None, lookup: SecretLookup | None) -> list[PublishTarget]:
    config = load_targets(brand_kit)
    return [build(name, options_for(name, config), lookup) for name in names]


def publish_output(out_or_manifest: str, names: list[str], *, brand_kit: str | Path | None = None,
                   settings: Settings | None = None, lookup: SecretLookup | None = None,
                   concurrency: int = 4) -> PublishReport:
    settings = settings or Settings()
    out = split_out(out_or_manifest)
    if "://" not in out and not (Path(out) / "manifest.json").exists():
        raise TargetConfigError(f"{out}: no manifest.json there (run `skureel run ... --out {out}` first)")
    storage = Storage(out, settings)
    try:
        data: dict[str, Any] = json.loads(storage.read_bytes("manifest.json"))
    except (OSError, ValueError) as exc:
        raise TargetConfigError(f"{out}/manifest.json: unreadable ({type(exc).__name__})") from exc
    root = storage.root if storage.local else Path(".")
    items, retired = deliverables_from_manifest(data, root)
    targets = build_targets(names, brand_kit, lookup)  # every target configured before anything is sent
    ledger = Ledger.for_output(out, settings.cache_dir, settings.ledger_url)
    state = PublishState(ledger.url)
    kit = Path(brand_kit) if brand_kit is not None else None
    provenance = Provenance(load_targets(brand_kit).provenance, kit, settings.cache_dir / "provenance", lookup)
    report = asyncio.run(_publish(items, retired, targets, state, concurrency, storage.uri("manifest.json"),
                                  provenance.prepare, ledger))
    annotated = annotate_manifest(data, state)
    _keep_provenance(annotated, items, provenance, {t.name for t in targets if getattr(t, "reencodes", False)})
    storage.put_bytes(json.dumps(annotated, indent=2, ensure_ascii=False, default=str).encode(), "manifest.json")
    if feed_rows(annotated):  # clips with a public URL: the catalog tools can pick them up
        report.feeds = [storage.put_bytes(gmc_tsv(annotated), "feeds/gmc_video_supplemental.tsv"),
                        storage.put_bytes(meta_csv(annotated), "feeds/meta_video_supplemental.csv")]
    return report


async def _publish(items: list[Deliverable], retired: list[ClipRef], targets: list[PublishTarget],
                   state: PublishState, concurrency: int, manifest_uri: str, prepare: Prepare,
                   claims: Ledger) -> PublishReport:
    try:
        return await publish_all(items, targets, state, retire=retired, concurrency=concurrency,
                                 summary={"manifest": manifest_uri}, prepare=prepare, claims=claims)
    finally:
        for target in targets:
            await target.aclose()


def _keep_provenance(data: dict[str, Any], items: list[Deliverable], provenance: Provenance, reencoders: set[str]) -> None:
    """A target that re-encodes (Shopify, Cloudinary renditions) drops the embedded C2PA manifest: the sidecar keeps
    the signed original's manifest, and the manifest row says which targets re-encode."""
    by_key = {(i.sku, i.shot, i.format): i for i in items}
    for row in data.get("deliverables", []):
        item = by_key.get((str(row["sku"]), str(row["shot"]), str(row["format"])))
        targets = row.get("targets") or {}
        for name in reencoders & set(targets):
            targets[name]["provenance"] = "re-encoded by the target; the signed original's C2PA manifest is in the sidecar"
        sidecar = Path(str(row.get("sidecar_uri") or ""))
        summary = provenance.summary(item) if item is not None else None
        if summary is None or "://" in str(row.get("sidecar_uri") or "") or not sidecar.is_file():
            continue
        try:
            content = json.loads(sidecar.read_text(encoding="utf-8"))
        except ValueError:
            continue
        content.setdefault("provenance", {})["c2pa"] = {**summary, "reencoded_by": sorted(reencoders & set(targets))}
        atomic_write_bytes(sidecar, json.dumps(content, indent=2, ensure_ascii=False, default=str).encode())

