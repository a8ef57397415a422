"""Runs of part of a batch, worker side: one cell again with a new seed, only the failed rows, a paid canary of a
few SKUs, or the free local preview; and the QA gate's verdict on a cell in words.

A scope travels in the batch's `run` JSON (`run.scope`), so a worker resubmitted after a crash runs the same part
again. Every scoped run writes into the batch's own output folder and ledger (keyed by the run key), so what was
paid for before is reused and only the new seed costs money; the preview writes into a folder of its own.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from skureel.web.store import Store

REVIEWABLE = ("ready", "held", "approved", "rejected", "published")  # cells that have something to look at
NEEDS_REVIEW = "needs review"  # the QA gate's failure prefix (pipeline/gate.py NEEDS_REVIEW)
# what the flags of the QA gate mean, for a marketer (skureel.qa: one flag per failing measure)
FLAG_WORDS = {"colour": "the colours drift from the photo", "text": "the label text does not match the photo",
              "identity": "it does not look like the same product", "drift": "the product changes shape over the clip",
              "flicker": "the picture flickers", "frozen": "the picture freezes", "black": "black frames",
              "face": "a face is distorted"}


class Scope(BaseModel):
    """Which part of a batch a run covers; empty lists mean the whole batch's."""

    kind: str = "all"  # all | cell | failed | canary | preview
    skus: list[str] = Field(default_factory=list)
    formats: list[str] = Field(default_factory=list)
    seeds: dict[str, int] = Field(default_factory=dict)
    cells: list[int] = Field(default_factory=list)  # the cells a `cell` run replaces


def scope_of(batch: dict[str, Any]) -> Scope:
    return Scope.model_validate(batch["run"].get("scope") or {})


def qa_words(row: dict[str, Any]) -> str | None:
    """The failing measures of a clip in words: the gate's reasons when it gave them, else its flags."""
    reasons = [str(r) for r in row.get("qa_reasons") or [] if str(r).strip()]
    if reasons:
        return "; ".join(reasons)
    flags = [str(f) for f in row.get("qa_flags") or []]
    return "; ".join(FLAG_WORDS.get(f, f.replace("_", " ")) for f in flags) or None


def held_reason(reason: str) -> str | None:
    """The measure in words when a failure is the gate's hold ("needs review: ..."), else None."""
    text = reason.strip()
    if not text.casefold().startswith(NEEDS_REVIEW):
        return None
    return text[len(NEEDS_REVIEW):].lstrip(" :-") or "the QA check did not pass"


def deliverable_cell(row: dict[str, Any]) -> dict[str, Any] | None:
    """A manifest row as a review cell: delivered -> ready, a held clip (`needs_review`) -> held with the reason."""
    status = str(row.get("status", ""))
    if status not in ("delivered", "needs_review", "needs review"):
        return None
    held = status != "delivered"
    words = qa_words(row)
    return {"sku": row["sku"], "shot": row["shot"], "format": row["format"], "status": "held" if held else "ready",
            "reason": (f"held by the QA check: {words or 'the QA check did not pass'}" if held
                       else (f"QA warning: {words}" if words and row.get("qa_flags") else None)),
            "clip_path": row.get("uri"), "poster_path": row.get("poster_uri"), "row": json.dumps(row, default=str)}


def cells_from_run(batch: dict[str, Any], out: Path, summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Review cells from a run's manifest and summary: clips, QA holds in words, failures with their reason."""
    formats = set(batch["options"].get("formats", []))
    skus = {row["sku"] for row in batch["estimate"].get("rows", [])}
    cells: dict[tuple[str, str, str], dict[str, Any]] = {}
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8")) if (out / "manifest.json").exists() else {}
    for row in manifest.get("deliverables", []):
        cell = deliverable_cell(row)  # delivered -> ready; a clip the QA gate held -> held, in words
        if cell is None or row["sku"] not in skus or row["format"] not in formats:
            continue
        cells[(row["sku"], row["shot"], row["format"])] = cell
    # held cells come as `held` (a shot the QA gate kept back, reason "needs review: ..."), with the held clip
    # composed per format under review/ (pipeline/gate.py: watchable, approvable, never delivered by the run)
    for hold in summary.get("held", []):
        for clip in hold.get("clips") or []:
            row = {**clip, "status": "needs_review", "qa_reasons": hold.get("qa_reasons") or clip.get("qa_reasons"),
                   "qa_flags": hold.get("qa_flags") or clip.get("qa_flags")}
            cell = deliverable_cell(row)
            if cell is not None and row.get("sku") in skus and row.get("format") in formats:
                cells.setdefault((row["sku"], row["shot"], row["format"]), cell)
    # ... and without a clip (one that cannot be composed, or an older run's); older runs listed them among the
    # failures with the same reason
    for failure in [*summary.get("held", []), *summary.get("failures", [])]:
        sku, shot = str(failure.get("sku", "")), str(failure.get("shot", ""))
        if sku not in skus:
            continue
        held = held_reason(str(failure.get("reason", "")))  # "needs review: ..." without a composed clip
        for fmt in [str(failure["format"])] if failure.get("format") else sorted(formats):
            cells.setdefault((sku, shot or "-", fmt), {"sku": sku, "shot": shot or "-", "format": fmt,
                                                       "status": "held" if held else "failed",
                                                       "reason": f"held by the QA check: {held}" if held
                                                       else str(failure.get("reason", ""))})
    return list(cells.values())


def keep_decisions(store: Store, batch_id: str, cells: list[dict[str, Any]], scope: Scope) -> list[dict[str, Any]]:
    """The cells a scoped run may write: inside its scope, and not a reviewed clip that came out byte-identical
    (a canary's approved clips stay approved when the rest of the batch runs)."""
    if scope.kind != "all":
        cells = [c for c in cells if c["sku"] in scope.skus and (not scope.formats or c["format"] in scope.formats)]
    old = {(c["sku"], c["shot"], c["format"]): c for c in store.cells_of(batch_id)}
    kept = []
    for cell in cells:
        before = old.get((cell["sku"], cell["shot"], cell["format"]))
        if before and before["status"] in ("approved", "published") and cell.get("row") and before["row"]:
            if json.loads(before["row"]).get("sha256") == json.loads(cell["row"]).get("sha256"):
                continue
        kept.append(cell)
    return kept


def preview(store: Store, batch: dict[str, Any], flow: Callable[..., Any], params: dict[str, Any]) -> None:
    """The free tier: the batch's own run (sheet, remap, prompts, kit, seeds) on the local renderer at draft
    quality, into a folder of its own; the batch goes back to `estimated`, with the clips listed in its run for the
    preview screen."""
    store.update_batch(batch["id"], run={**batch["run"], "phase": "previewing"})
    summary = asyncio.run(flow(**{**params, "providers": ["local"], "quality": "draft", "qa": "off",
                                  "max_spend": None}))
    out, skus = Path(params["out"]), set(params["only"])
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8")) if (out / "manifest.json").exists() else {}
    clips = [{k: row.get(k) for k in ("sku", "shot", "format", "uri", "poster_uri", "duration_s")}
             for row in manifest.get("deliverables", []) if row.get("status") == "delivered" and row["sku"] in skus]
    failures = [{"sku": str(f.get("sku", "")), "reason": str(f.get("reason", ""))} for f in summary.get("failures", [])]
    store.claim_state(batch["id"], ("running",), "estimated", error=None,
                      run={**batch["run"], "phase": "previewed", "pid": None,
                           "preview": {"clips": clips, "failures": failures}})
    store.add_event(batch["id"], "previewed", {"clips": len(clips)})
