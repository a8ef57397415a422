"""What a batch knows, as plain functions over the store: validation report, estimate, run key, delivery.

Pages and the JSON API both call these, so a screen and the API can never disagree (Datasette's rule).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, field_validator

from skureel.domain import Product, RowIssue, UnusableInput
from skureel.exports import csv_bytes
from skureel.formats import PRESETS
from skureel.naming import clip_stem
from skureel.providers.capabilities import parse_chain
from skureel.web import kits
from skureel.web.config import StudioConfig
from skureel.web.store import Store

MAX_PROBLEMS = 5000
# measured on 2 cores with the local renderer (seconds of wall time per clip per format, draft / final quality)
LOCAL_SECONDS_PER_CLIP = {"draft": 6.0, "final": 30.0}
HOSTED_SECONDS_PER_CLIP = 120.0


class RunOptions(BaseModel):
    """What a user picks on the estimate screen (or sends to the API); validated before anything is planned."""

    brand_kit: str
    providers: list[str] = Field(default_factory=lambda: ["local"])
    formats: list[str] = Field(default_factory=lambda: ["9x16"])
    max_spend: float | None = None
    only: list[str] = Field(default_factory=list)
    quality: str = "draft"
    prompts: dict[str, dict[str, str]] = Field(default_factory=dict)  # sku -> shot -> edited prompt (web/prompts.py)

    @field_validator("providers")
    @classmethod
    def _providers(cls, value: list[str]) -> list[str]:
        """The same chain rules as the CLI: `provider` or `provider:model`, retired providers refused."""
        try:
            return [str(choice) for choice in parse_chain(value)]
        except UnusableInput as exc:
            raise ValueError(str(exc)) from exc

    @field_validator("formats")
    @classmethod
    def _formats(cls, value: list[str]) -> list[str]:
        value = [v.replace(":", "x") for v in value]
        unknown = [f for f in value if f not in PRESETS]
        if unknown or not value:
            raise ValueError(f"unknown format {', '.join(unknown) or '(none)'}; choose from {', '.join(PRESETS)}")
        return value

    @field_validator("quality")
    @classmethod
    def _quality(cls, value: str) -> str:
        if value not in ("draft", "final"):
            raise ValueError("quality must be draft or final")
        return value

    @field_validator("max_spend")
    @classmethod
    def _max_spend(cls, value: float | None) -> float | None:
        if value is not None and value < 0:
            raise ValueError("max_spend must be zero or more")
        return value


def brand_kits(config: StudioConfig, workspace_id: int | None = None) -> list[str]:
    return kits.kit_names(config, workspace_id)


def kit_path(config: StudioConfig, name: str, workspace_id: int | None = None) -> Path:
    """The kit's folder: the workspace's edited copy (web/kits.py) or the bundled kit; a name, never a path."""
    return kits.kit_folder(config, name, workspace_id)


def escaping_images(product: Product, root: Path) -> list[str]:
    """Local image paths of a product that resolve outside the upload's folder `root` (resolved by the caller,
    once per sheet rather than once per image); refused: never read."""
    bad = []
    for ref in product.images:
        resolved = product.resolve_image(ref)
        if "://" in resolved:
            continue  # URLs go through the image cache's SSRF rules
        if not Path(resolved).resolve().is_relative_to(root):
            bad.append(ref)
    return bad


def confined(products: list[Product], sheet: Path) -> tuple[list[Product], list[RowIssue]]:
    """Products whose images all stay inside the upload, and a row issue for each one that does not."""
    keep, issues = [], []
    root = sheet.parent.resolve()
    for product in products:
        bad = escaping_images(product, root)
        if bad:
            issues.append(RowIssue(file=str(sheet), row=product.source_row, column="image", sku=product.sku,
                                   reason=f"image path {bad[0]!r} points outside the upload; put the images in "
                                          "the images zip and refer to them by their path inside it"))
        else:
            keep.append(product)
    return keep, issues


def validation_report(sheet: Path, remap: dict[str, str] | None = None) -> dict[str, Any]:
    """Ingest the stored sheet: detected format, column mapping with sample values, problems in the user's rows.

    `remap` is the user's own column choice (field -> column, web/mapping.py); ingest applies it."""
    from skureel.catalog import ingest, load_table
    from skureel.catalog.columns import Columns, aliases_for, remap_table

    try:
        report = ingest(sheet, remap=remap or None)
    except UnusableInput as exc:  # the message names our generated path; say it in the user's terms instead
        return {"usable": False, "error": str(exc).replace(str(sheet), "the sheet").replace(sheet.name, "the sheet"),
                "problems": [], "mapping": [], "products": 0, "skus": [], "remap": remap or {}}
    products, escaping = confined(report.products, sheet)
    report.issues.extend(escaping)
    table, _ = load_table(sheet)
    aliases = aliases_for(report.format)
    original = table.header
    if remap:
        table = remap_table(table, remap, aliases)
    columns = Columns(table, aliases)
    mapping = []
    for field, positions in columns.positions.items():
        pos = positions[0]
        samples = [r[pos][:60] for r in table.rows if pos < len(r) and r[pos].strip()][:3]
        mapping.append({"field": field, "column": original[pos], "samples": samples})
    problems = [{"row": i.row, "column": i.column, "sku": i.sku, "reason": i.reason, "severity": i.severity}
                for i in sorted(report.issues, key=lambda i: i.row or 0)[:MAX_PROBLEMS]]
    errors = sum(1 for i in report.issues if i.severity == "error")
    return {"usable": bool(products), "format": report.format, "sheet": report.sheet,
            "rows_read": report.rows_read, "products": len(products), "variants": report.variant_count,
            "skipped": dict(report.skipped), "errors": errors,
            "warnings": len(report.issues) - errors, "problems": problems, "mapping": mapping,
            "skus": [p.sku for p in products][:MAX_PROBLEMS], "header": original, "fields": list(aliases),
            "remap": remap or {}, "error": None if products else "no usable product rows in the sheet"}


def estimate(config: StudioConfig, sheet: Path, options: RunOptions, *, workspace_id: int | None = None,
             remap: dict[str, str] | None = None) -> dict[str, Any]:
    """Plan with the real planner: cost per row and per batch, a time estimate, lint findings, prompts
    (with the user's edited prompts), and each row's keys for the diff against the last batch (web/diff.py)."""
    from skureel.catalog import ingest
    from skureel.catalog.brandkit import load_brand_kit
    from skureel.planning.plan import build_plan
    from skureel.settings import load_settings
    from skureel.web.diff import fingerprints

    folder = kit_path(config, options.brand_kit, workspace_id)
    kit = load_brand_kit(folder)
    report = ingest(sheet, remap=remap or None)
    products, _ = confined(report.products, sheet)
    if options.only:
        wanted = set(options.only)
        products = [p for p in products if p.sku in wanted]
        missing = wanted - {p.sku for p in products}
        if missing:
            raise UnusableInput(f"not in the sheet: {', '.join(sorted(missing))}")
    plan = build_plan(products, kit, providers=options.providers, formats=options.formats,
                      price_overrides=load_settings().prices_override, prompts=options.prompts)
    keys = fingerprints(plan, products, kit, options.providers, options.formats, options.quality)
    rows: dict[str, dict[str, Any]] = {}
    for item in plan.shots:
        row = rows.setdefault(item.shot.sku, {"sku": item.shot.sku, "usd": 0.0, "shots": [], "findings": []})
        row["usd"] = round(row["usd"] + item.cost.usd, 4)
        row["shots"].append({"shot": item.shot.shot_id, "kind": item.shot.kind, "prompt": item.rendered.prompt,
                             "edited": bool(options.prompts.get(item.shot.sku, {}).get(item.shot.shot_id)),
                             "seconds": item.rendered.duration_s, "usd": item.cost.usd, "provider": item.cost.provider,
                             "blocked": item.blocked})
        row["findings"] += [{"severity": f.severity, "text": f"{f.shot_id} {f.field}: {f.message}"} for f in item.findings]
    clips = len(plan.shots) * len(options.formats)
    provider = options.providers[0]
    per_clip = LOCAL_SECONDS_PER_CLIP[options.quality] if provider == "local" else HOSTED_SECONDS_PER_CLIP
    seconds = 15 + clips * per_clip / max(1, min(2, os.cpu_count() or 1))  # + Prefect start-up
    total = round(plan.total_usd, 4)
    blocked = options.max_spend is not None and total > options.max_spend
    return {"total_usd": total, "provider": provider, "formats": options.formats, "skus": len(rows),
            "shots": len(plan.shots), "clips": clips, "seconds": round(seconds), "rows": list(rows.values()),
            "confirmed_prices": all(s.cost.confirmed for s in plan.shots),
            "over_budget": blocked, "max_spend": options.max_spend,
            "lint_errors": sum(1 for s in plan.shots if s.blocked),
            "kit_dir": str(folder.resolve()), "at": datetime.now(UTC).isoformat(),
            "fingerprints": keys}  # stored apart from the batch by the caller (web/diff.py): only the diff reads them


def file_digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            sha.update(chunk)
    return sha.hexdigest()


def run_key(batch: dict[str, Any], options: RunOptions, config: StudioConfig) -> str:
    """Same sheet + images + detected mapping + brand kit + options = same run (and the same output folder)."""
    upload = Path(batch["upload_dir"]) / "files"
    parts = [file_digest(Path(batch["sheet_file"]))]
    for path in sorted(p for p in upload.rglob("*") if p.is_file() and p != Path(batch["sheet_file"])):
        parts.append(f"{path.relative_to(upload).as_posix()}:{file_digest(path)}")
    kit = kit_path(config, options.brand_kit, batch["workspace_id"])
    for path in sorted(p for p in kit.rglob("*") if p.is_file()):
        parts.append(f"kit/{path.relative_to(kit).as_posix()}:{file_digest(path)}")
    parts.append(json.dumps({"workspace": batch["workspace_id"], "format": batch["report"].get("format"),
                             "mapping": batch["report"].get("mapping"), "remap": batch["report"].get("remap") or {},
                             **options.model_dump()}, sort_keys=True))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def deliverables(store: Store, batch_id: str, url_prefix: str) -> list[dict[str, Any]]:
    out = []
    for cell in store.cells_of(batch_id):
        has_clip = bool(cell["clip_path"]) and Path(cell["clip_path"]).exists()
        out.append({"id": cell["id"], "sku": cell["sku"], "shot": cell["shot"], "format": cell["format"],
                    "status": cell["status"], "reason": cell["reason"],
                    "url": f"{url_prefix}/clips/{cell['id']}" if has_clip else None,
                    "poster_url": f"{url_prefix}/posters/{cell['id']}" if has_clip and cell["poster_path"] else None})
    return out


def publish(config: StudioConfig, store: Store, batch: dict[str, Any]) -> list[dict[str, Any]]:
    """Copy approved cells to the batch's folder target under stable names, with a manifest of what went out."""
    target = config.published_dir / str(batch["workspace_id"]) / batch["id"]
    published = []
    for cell in store.cells_of(batch["id"]):
        if cell["status"] not in ("approved", "published") or not cell["clip_path"]:
            continue
        stem = clip_stem(cell["sku"], cell["shot"], cell["format"])
        dest = target / cell["format"] / f"{stem}.mp4"
        if cell["status"] == "approved" or not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f".{dest.name}.tmp")
            shutil.copyfile(cell["clip_path"], tmp)
            tmp.replace(dest)
            store.mark_published(cell["id"], str(dest))
        row = json.loads(cell["row"] or "{}")
        published.append({**row, "status": "published", "uri": str(dest), "sku": cell["sku"], "shot": cell["shot"],
                          "format": cell["format"], "approved_by": cell["decided_by"]})
    if published:
        manifest = {"batch": batch["id"], "sheet": batch["sheet_name"], "deliverables": published}
        (target / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
    return published


def format_zip(store: Store, batch_id: str, fmt: str) -> bytes:
    """A zip of one format's published clips, named `<sku>__<shot>__<format>.mp4` (stable across runs)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # MP4 does not compress further
        for cell in store.cells_of(batch_id):
            if cell["format"] == fmt and cell["status"] == "published" and cell["published_uri"]:
                archive.write(cell["published_uri"], f"{clip_stem(cell['sku'], cell['shot'], fmt)}.mp4")
    return buffer.getvalue()


def manifest(store: Store, batch: dict[str, Any]) -> dict[str, Any]:
    rows = []
    for cell in store.cells_of(batch["id"]):
        row = json.loads(cell["row"] or "{}")
        rows.append({**{k: row.get(k) for k in ("title", "kind", "width", "height", "duration_s", "provider", "model",
                                                 "seed", "prompt", "content_key", "sha256", "bytes", "cost_usd")},
                     "sku": cell["sku"], "shot": cell["shot"], "format": cell["format"], "status": cell["status"],
                     "reason": cell["reason"], "reviewed_by": cell["decided_by"], "uri": cell["published_uri"]})
    return {"batch": batch["id"], "sheet": batch["sheet_name"], "state": batch["state"], "deliverables": rows}


def annotated_sheet(store: Store, batch: dict[str, Any], clip_url: str) -> bytes:
    """The original rows plus `status`, `problem` and `video_url` (CSV, formula-safe)."""
    from skureel.catalog import ingest, load_table

    sheet = Path(batch["sheet_file"])
    table, _ = load_table(sheet)
    row_sku: dict[int, str] = {}
    try:
        for product in ingest(sheet, remap=batch["report"].get("remap") or None).products:
            row_sku[product.source_row] = product.sku
            for variant in product.variants:
                if variant.row:
                    row_sku[variant.row] = product.sku
    except UnusableInput:
        pass
    problems: dict[int, list[str]] = {}
    invalid: set[int] = set()
    for p in batch["report"].get("problems", []):
        if p.get("row"):
            problems.setdefault(int(p["row"]), []).append(f"{p.get('column') or ''}: {p['reason']}".strip(": "))
            if p.get("severity") == "error":
                invalid.add(int(p["row"]))
    videos: dict[str, list[str]] = {}
    states: dict[str, set[str]] = {}
    for cell in store.cells_of(batch["id"]):
        states.setdefault(cell["sku"], set()).add(cell["status"])
        if cell["status"] == "published":
            videos.setdefault(cell["sku"], []).append(f"{clip_url}/{cell['id']}")
    rows = []
    for number, values in zip(table.row_numbers, table.rows, strict=True):
        sku = row_sku.get(number)
        if sku and "published" in states.get(sku, set()):
            status = "published"
        elif number in invalid:
            status = "invalid"
        elif sku and "failed" in states.get(sku, set()):
            status = "failed"
        else:
            status = "valid" if sku else "skipped"
        rows.append([*values, status, "; ".join(problems.get(number, [])), " ".join(videos.get(sku or "", []))])
    return csv_bytes([*table.header, "status", "problem", "video_url"], rows)
