"""What a run of a batch is made of, without Prefect: its inputs at stable paths, the flow's arguments, and its
result as review cells. Shared by the app's own workers and deployment runs (web/runs.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from skureel.web import scopes
from skureel.web.store import Store


def stable_inputs(batch: dict[str, Any], run_dir: Path) -> Path:
    """The run's own copy of the sheet and images, at paths that depend only on their content.

    Product hashes include where images live, so a second upload of the same files (another batch folder) must
    run from the same place to be recognised as unchanged.
    """
    import hashlib
    import shutil

    inputs = run_dir / "input"
    source = Path(batch["sheet_file"])
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    if not inputs.exists():
        tmp = run_dir / f".input-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(source.parent, tmp, ignore=shutil.ignore_patterns(source.name))
        name = f"sheet-{digest}{source.suffix}"
        while (tmp / name).exists():  # an images zip entry took the name: step aside, deterministically
            name = "_" + name
        shutil.copyfile(source, tmp / name)
        tmp.rename(inputs)
    return next(p for p in sorted(inputs.iterdir(), key=lambda p: len(p.name))
                if p.name.endswith(f"sheet-{digest}{source.suffix}"))


def flow_arguments(batch: dict[str, Any], sheet: Path, out: Path, kits_dir: Path, skus: list[str],
                   formats: list[str]) -> dict[str, Any]:
    """The catalog-refresh flow's parameters for a batch (or the part of it its scope names)."""
    options, scope = batch["options"], scopes.scope_of(batch)
    # the kit folder the estimate used: the workspace's edited copy when it has one (web/kits.py)
    kit_dir = batch["estimate"].get("kit_dir") or str(kits_dir / options["brand_kit"])
    return {"catalog": str(sheet), "brand_kit": kit_dir, "remap": batch["report"].get("remap") or None,
            "prompts": options.get("prompts") or None, "providers": options["providers"], "formats": formats,
            "out": str(out), "max_spend": options.get("max_spend"), "only": skus, "quality": options["quality"],
            "seeds": {**options.get("seeds", {}), **scope.seeds} or None}


def finish(store: Store, batch: dict[str, Any], out: Path, summary: dict[str, Any]) -> None:
    """The run's manifest and summary into review cells; the batch to review (or failed when nothing came out)."""
    batch_id, scope = batch["id"], scopes.scope_of(batch)
    cells = scopes.keep_decisions(store, batch_id, scopes.cells_from_run(batch, out, summary), scope)
    store.set_cells(batch_id, cells)
    for cell in store.cells_of(batch_id):
        if cell["status"] in ("queued", "rendering", "composed"):
            store.set_cells(batch_id, [{"sku": cell["sku"], "shot": cell["shot"], "format": cell["format"],
                                        "status": "failed", "reason": "no clip came out of the run"}])
    # a clip reviewed before and made byte-identical again (keep_decisions) counts: its decision stands
    ready = any(c["status"] in ("ready", "held") for c in cells) or any(
        c["status"] in scopes.REVIEWABLE for c in store.cells_of(batch_id))
    brief = {k: summary.get(k) for k in ("composed_this_run", "reused_this_run", "skipped_unchanged", "spend_usd",
                                         "delivered", "failed")}
    # from running only: a batch cancelled meanwhile stays cancelled
    store.claim_state(batch_id, ("running",), "review" if ready else "failed",
                       error=None if ready else "no clip was produced; see each row's reason",
                       run={**store.batch(batch_id)["run"], "phase": "finished", "pid": None, "summary": brief})  # type: ignore[index]
    store.add_event(batch_id, "finished", brief)
