"""The catalog refresh as plain functions: prepare (ingest, plan, diff), publish, finalize.

Prefect only sequences these (tasks.py, flows/); every step is testable without it.
"""

from __future__ import annotations

import json
import os
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from skureel.catalog import ingest
from skureel.catalog.brandkit import load_brand_kit
from skureel.domain import BrandKit, IngestReport, Product, plain_error
from skureel.exports import write_table
from skureel.keys import product_hash
from skureel.ledger import Ledger
from skureel.naming import clip_rel, sku_key
from skureel.pipeline.gate import REVIEW_STATUS, default_mode, review_outputs, stage_review_clip
from skureel.pipeline.migrate import migrate_names, relative
from skureel.pipeline.picks import adopt_picks, apply_picks, load_picks
from skureel.pipeline.work import Composed, ShotWork, SkuOutcome, SkuWork
from skureel.planning.plan import build_plan
from skureel.publish.manifest import manifest_csv, manifest_json, render_report, sidecar
from skureel.publish.storage import Target
from skureel.publish.targets.runner import annotate_manifest
from skureel.publish.targets.state import PublishState
from skureel.settings import Settings


class RunRequest(BaseModel):
    catalog: str
    brand_kit: str
    providers: list[str] = Field(default_factory=lambda: ["local"])
    formats: list[str] = Field(default_factory=lambda: ["9x16", "4x5", "1x1", "16x9"])
    out: str = "out/run"
    max_spend: float | None = None
    only: list[str] = Field(default_factory=list)
    dry_run: bool = False
    prune: bool = False
    quality: str = "final"
    include_inactive: bool = False
    languages: list[str] = Field(default_factory=list)
    force: bool = False
    feed_format: str | None = None
    sheet: str | None = None
    qa: str | None = None  # off | warn | gate; None: gate when a hosted provider is in the chain (pipeline/gate.py)
    seeds: dict[str, int] = Field(default_factory=dict)  # SKU -> seed for a re-run with a new seed (the studio)
    remap: dict[str, str] = Field(default_factory=dict)  # field -> column chosen by hand (studio remap)
    prompts: dict[str, dict[str, str]] = Field(default_factory=dict)  # sku -> shot -> edited prompt (studio)
    bases: str | None = None  # one | per-family; None: the plan chooses (planning/bases.py)
    seed_from: str | None = None  # a `skureel compare` folder whose picks pin each SKU's model and seed


class RunPlan(BaseModel):
    request: RunRequest
    settings: Settings
    ledger_url: str
    staging: str
    report: IngestReport
    brand: BrandKit
    work: list[SkuWork]
    unchanged: list[str]
    removed: list[str]
    estimate_usd: float
    lint_blocked: list[dict[str, str]]
    hashes: dict[str, str]
    notes: list[str] = Field(default_factory=list)  # what the run did besides producing (e.g. outputs moved)
    failed_skus: list[str] = Field(default_factory=list)  # SKUs a hosted shot failed for: never marked delivered


def prepare_run(request: RunRequest, settings: Settings) -> RunPlan:
    """Ingest, plan and diff against the ledger; unchanged products get no work item at all."""
    brand = load_brand_kit(request.brand_kit)
    report = ingest(request.catalog, feed_format=request.feed_format, sheet=request.sheet,
                    include_inactive=request.include_inactive, remap=request.remap or None)
    products = report.products
    if request.only:
        wanted = set(request.only)
        products = [p for p in products if p.sku in wanted or p.key in wanted]
    if request.seeds:  # a new seed changes the content key (one new paid job) and the product hash (not skipped)
        products = [p.model_copy(update={"video": p.video.model_copy(update={"seed": request.seeds[p.sku]})})
                    if p.sku in request.seeds else p for p in products]
    picks = load_picks(request.seed_from) if request.seed_from else {}
    if picks:  # `--seed-from compare`: each picked SKU on its model and seed (pipeline/picks.py)
        products = apply_picks(products, picks, request.providers)
    ledger = Ledger.for_output(request.out, settings.cache_dir, settings.ledger_url)
    plan = build_plan(products, brand, providers=request.providers, formats=request.formats,
                      languages=request.languages, price_overrides=settings.prices_override, quality=request.quality,
                      prompts=request.prompts, bases=request.bases, max_spend=request.max_spend)
    staging = settings.cache_dir / "staging" / datetime.now(UTC).strftime("%Y%m%dT%H%M%S") / str(os.getpid())
    target = Target(request.out, settings)
    notes = migrate_names(ledger, target) + adopt_picks(ledger, picks)
    by_sku: dict[str, list[ShotWork]] = {}
    blocked: list[dict[str, str]] = []
    for item in plan.shots:
        if item.blocked:
            blocked.append({"sku": item.shot.sku, "shot": item.shot.shot_id,
                            "reason": "lint: " + "; ".join(f.message for f in item.findings if f.severity == "error")})
            continue
        by_sku.setdefault(item.shot.sku, []).append(ShotWork(shot=item.shot, rendered=item.rendered, cost_usd=item.cost.usd,
                                                             family=item.family))
    work: list[SkuWork] = []
    unchanged: list[str] = []
    hashes: dict[str, str] = {}
    for product in products:
        shots = by_sku.get(product.sku)
        if not shots:
            continue
        formats = [f for f in (product.video.formats or request.formats) if f in request.formats] or request.formats
        digest_now = product_hash(product, brand, request.providers, formats, request.quality, plan.bases)
        hashes[product.sku] = digest_now
        state = ledger.product_state(product.sku)
        if not request.force and state and state["product_hash"] == digest_now and state["state"] == "delivered" \
                and _all_present(ledger, target, product.sku):
            unchanged.append(product.sku)
            continue
        work.append(SkuWork(product=product, shots=shots, formats=formats, brand=brand, settings=settings,
                            ledger_url=ledger.url, staging=str(staging), quality=request.quality, force=request.force,
                            qa=default_mode(request.providers, request.qa)))
    current = {p.sku for p in report.products}
    removed = [sku for sku in ledger.known_skus() if sku not in current] if not request.only else []
    return RunPlan(request=request, settings=settings, ledger_url=ledger.url, staging=str(staging), report=report,
                   brand=brand, work=work, unchanged=unchanged, removed=removed, estimate_usd=plan.total_usd,
                   lint_blocked=blocked, hashes=hashes, notes=notes)


def _all_present(ledger: Ledger, target: Target, sku: str) -> bool:
    rows = [r for r in ledger.deliverables_for(sku) if r["state"] == "published"]
    return bool(rows) and all((rel := relative(r["uri"], target)) is not None and target.exists(rel) for r in rows)


def publish_outcome(run: RunPlan, outcome: SkuOutcome) -> list[dict[str, str]]:
    """Write each composed clip, poster and sidecar to the target; the ledger records intent first.

    Each deliverable is isolated: one that cannot be written becomes a failure, the others still land.
    Returns the failures; tracebacks go to `outcome.details`.
    """
    ledger = Ledger(run.ledger_url)
    target = Target(run.request.out, run.settings)
    product = next(w.product for w in run.work if w.product.sku == outcome.sku)
    failures: list[dict[str, str]] = []
    for item in outcome.composed:
        try:
            _publish_one(ledger, target, product, item)
        except Exception as exc:  # noqa: BLE001 - isolation; the ledger still says "intent", so a rerun redoes it
            failures.append({"sku": item.sku, "shot": item.shot_id, "format": item.format,
                             "reason": f"publish failed: {plain_error(exc)}"})
            outcome.details.append(f"publish {item.sku!r} {item.shot_id}/{item.format}: "
                                   + "".join(traceback.format_exception(exc)))
    for item in outcome.held:  # the QA gate's held clips, composed: beside their review sidecar, never delivered
        try:
            stage_review_clip(target, item)
        except Exception as exc:  # noqa: BLE001 - the cell stays held without a clip to watch; the log says why
            outcome.details.append(f"review clip {item.sku!r} {item.shot_id}/{item.format}: "
                                   + "".join(traceback.format_exception(exc)))
    # any failed shot keeps the product "failed", so the next run retries it instead of skipping it as unchanged
    failed = bool(outcome.failures or failures or outcome.sku in run.failed_skus)
    ledger.set_product(outcome.sku, run.hashes.get(outcome.sku, ""), "failed" if failed else "delivered")
    return failures


def _publish_one(ledger: Ledger, target: Target, product: Product, item: Composed) -> None:
    row = dict(item.row)
    version = ledger.intend_publish(item.sku, item.shot_id, item.format, row["content_key"], row["overlay_hash"])
    rel = {suffix: clip_rel(item.sku, item.shot_id, item.format, suffix) for suffix in (".mp4", ".jpg", ".json")}
    row["version"] = version
    row["name_key"] = sku_key(item.sku)
    row["uri"] = target.uri(rel[".mp4"])
    row["poster_uri"] = target.uri(rel[".jpg"])
    row["sidecar_uri"] = target.uri(rel[".json"])
    row["status"] = "delivered"
    target.put_file(Path(item.poster), rel[".jpg"])
    target.put_bytes(sidecar(row, product.source_format, [v.gtin for v in product.variants if v.gtin]), rel[".json"])
    target.put_file(Path(item.path), rel[".mp4"])  # the clip last: it is what readers look for
    ledger.mark_published(item.sku, item.shot_id, item.format, row["uri"], row["sha256"], row["bytes"], row)
    for path in (Path(item.path), Path(item.poster)):
        path.unlink(missing_ok=True)


def finalize(run: RunPlan, outcomes: list[SkuOutcome], spend_usd: float = 0.0,
             left_by_budget: list[str] | None = None, composed_elsewhere: int = 0,
             reused_elsewhere: int = 0) -> dict[str, Any]:
    """Retire what left the catalog, then write manifest.json, manifest.csv, report.html and errors.csv."""
    ledger = Ledger(run.ledger_url)
    target = Target(run.request.out, run.settings)
    target.sweep_temporaries()
    retired = 0
    for sku in run.removed:
        if run.request.prune:
            for row in ledger.deliverables_for(sku):
                rel = relative(row["uri"] or "", target)
                if row["state"] == "published" and rel:
                    stem = rel.removesuffix(".mp4")
                    for suffix in (".mp4", ".jpg", ".json"):
                        target.remove(stem + suffix)
        retired += ledger.retire(sku)
    failures = [f for o in outcomes for f in o.failures] + run.lint_blocked
    failures += [{"sku": sku, "shot": "", "reason": "left: --max-spend reached"} for sku in (left_by_budget or [])]
    sheet_rows = {p.sku: p.source_row for p in run.report.products}
    ingest_reasons: dict[str, list[str]] = {}
    for issue in run.report.issues:
        if issue.sku and issue.severity == "error":
            ingest_reasons.setdefault(issue.sku, []).append(issue.reason)
    for failure in failures:  # in the user's coordinates: the sheet row beside the SKU, and why its images went
        sku = failure.get("sku", "")
        if sku in sheet_rows and not failure.get("row"):
            failure["row"] = str(sheet_rows[sku])
        reason = failure.get("reason", "")
        if ("the row has none" in reason or "no usable image" in reason) and ingest_reasons.get(sku):
            failure["reason"] = "no usable product image (" + "; ".join(ingest_reasons[sku]) + ")"
    held = [f for f in failures if f.get("status") == REVIEW_STATUS]  # held by the QA gate: not failures (gate.py)
    failures = [f for f in failures if f.get("status") != REVIEW_STATUS]
    rows: list[dict[str, Any]] = []
    for record in ledger.all_deliverables():
        if record["state"] not in ("published", "retired") or not record["row"]:
            continue
        if record["state"] == "retired" and run.request.prune:
            continue
        row = json.loads(record["row"])
        row["status"] = "retired" if record["state"] == "retired" else "delivered"
        rows.append(row)
    delivered_now = sum(len(o.composed) for o in outcomes) + composed_elsewhere  # + by chunk runs on workers
    summary = {
        "catalog": run.request.catalog, "format": run.report.format, "products": len(run.report.products),
        "products_delivered": len({r["sku"] for r in rows if r["status"] == "delivered"}),
        "delivered": len([r for r in rows if r["status"] == "delivered"]), "composed_this_run": delivered_now,
        "reused_this_run": sum(len(o.reused) for o in outcomes) + reused_elsewhere, "skipped_unchanged": len(run.unchanged),
        "failed": len(failures), "needs_review": len(held), "retired": retired, "row_errors": len(run.report.errors),
        "spend_usd": round(spend_usd, 4), "estimate_usd": run.estimate_usd, "providers": run.request.providers,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    rows = annotate_manifest({"deliverables": rows}, PublishState(ledger.url))["deliverables"]  # targets' ids stay
    summary["failures"] = failures
    summary["held"] = held_rows = review_outputs(ledger, target, held, {p.sku: p.title for p in run.report.products},
                                                 run.request.formats)
    summary["notes"] = run.notes + [f"SKU {o.sku!r}: {note}" for o in outcomes for note in o.notes if not o.failures]
    target.put_bytes(manifest_json(rows, summary), "manifest.json")
    target.put_bytes(manifest_csv(rows + held_rows), "manifest.csv")  # held rows: status needs_review
    root = str(target.root) if target.local else target.out
    target.put_bytes(render_report(rows, failures, summary, root), "report.html")
    if run.report.errors:
        errors = [[Path(i.file).name, i.row, i.column, i.sku, i.reason] for i in run.report.errors]
        tmp = Path(run.staging) / "errors.csv"
        tmp.parent.mkdir(parents=True, exist_ok=True)
        write_table(tmp, ["file", "row", "column", "sku", "reason"], errors)
        target.put_file(tmp, "errors.csv")
    if run.settings.webhook_url:
        from skureel.publish.webhook import notify

        problem = notify(run.settings.webhook_url, run.settings.webhook_secret, {
            # Standard Webhooks shape (type, timestamp); "event" stays for receivers written against the first version
            "type": "batch.finished", "timestamp": summary["finished_at"], "event": "skureel.run.published",
            "summary": summary, "manifest": target.uri("manifest.json"),
            "deliverables": [{k: r.get(k) for k in ("sku", "shot", "format", "uri", "sha256", "status", "version",
                                                    "content_key", "tags")} for r in rows]})
        if problem:
            failures.append({"sku": "", "shot": "", "reason": problem})
    return summary
