"""The QA gate around hosted generation: each base clip is held against the SKU's own photo before composing.

gate:  a failing clip is regenerated once with a new seed (a new content key: paid once more, recorded in the
       ledger, inside the run's budget); a second failure holds the cell for review (not composed, not published,
       reported with the failing measure in words, status `needs_review`). The hold is in the ledger (`reviews`):
       a rerun answers from it, paying and scoring nothing, until the photo, prompt or provider changes (a new
       first clip) or templates/qa.yaml does (both paid clips are scored again, for free).
retry: as gate, and a held cell buys one more clip with a seed of its own (`skureel run --qa retry`).
warn:  a failing clip is used anyway; its flags travel into the sidecar and manifest.
off:   no check.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from skureel.domain import Product, ShotSpec, UnusableInput, plain_error
from skureel.ledger import Ledger
from skureel.pipeline.hosted import HostedContext, HostedResult, generate_shot
from skureel.pipeline.work import Composed, ShotWork, SkuWork
from skureel.publish.storage import Target
from skureel.qa import QaReport, Reference, from_cutout, load_thresholds, score_clip
from skureel.qa.thresholds import Thresholds
from skureel.render.compose import Prepared

QaMode = Literal["off", "warn", "gate", "retry"]
QA_MODES: tuple[str, ...] = ("off", "warn", "gate", "retry")
NEEDS_REVIEW = "needs review"
REVIEW_STATUS = "needs_review"  # the cell's status in the manifest, the run summary and the review sidecar

_refs: dict[tuple[str, bool], Reference] = {}
_refs_lock = threading.Lock()


def default_mode(providers: list[str], requested: str | None) -> QaMode:
    """gate when any hosted provider is in the chain, warn for local-only runs (local clips are the photo itself)."""
    if requested in QA_MODES:
        return requested  # type: ignore[return-value]
    return "warn" if all(p.partition(":")[0] == "local" for p in providers) else "gate"


def retry_seed(seed: int, round_: int = 1) -> int:
    """A new seed that is the same on every rerun, so a rerun reuses the paid retry instead of buying a third clip;
    round 2, 3 ... are the explicit retries of a held cell (`--qa retry`)."""
    tag = "qa-retry" if round_ == 1 else f"qa-retry-{round_}"
    return int(hashlib.sha256(f"{seed}:{tag}".encode()).hexdigest()[:8], 16) % 2_147_483_647


def thresholds_digest() -> str:
    """Which thresholds a verdict was reached under: a held cell is judged again once templates/qa.yaml changes."""
    return hashlib.sha256(load_thresholds().model_dump_json().encode()).hexdigest()[:16]


def reference_for(source: Prepared, limits: Thresholds, avatar: bool) -> Reference:
    """The photo prepared for the gate once per image (features, colours and OCR are the costly part)."""
    key = (source.asset.sha256, avatar)
    with _refs_lock:
        cached = _refs.get(key)
    if cached is not None:
        return cached
    ref = from_cutout(source.asset.source, source.rgba, source.mask, source.cutout.bbox, limits, avatar=avatar)
    with _refs_lock:
        if len(_refs) > 256:
            _refs.clear()
        _refs[key] = ref
    return ref


def check(clip_path: Path, source: Prepared, kind: str, *, until_s: float | None = None) -> QaReport:
    """The clip against the photo, with the thresholds of its shot kind (templates/qa.yaml `kinds`)."""
    limits = load_thresholds().for_kind(kind)
    avatar = kind == "avatar"
    return score_clip(clip_path, reference_for(source, limits, avatar), limits, avatar=avatar, until_s=until_s)


def check_local(clip_path: Path, hero: Prepared, shot: ShotSpec) -> dict[str, Any]:
    """A local render, checked once per shot and only recorded (warn): it is made from the photo itself, so a new
    seed would not change it. The end card is left out. Never fails the deliverable."""
    try:
        return qa_fields(check(clip_path, hero, shot.kind, until_s=shot.duration_s), 1)
    except Exception as exc:  # noqa: BLE001 - a check that only records must never cost the clip
        return {"qa_error": plain_error(exc)}


def qa_fields(report: QaReport, attempts: int) -> dict[str, Any]:
    """What the deliverable's sidecar and manifest row carry about the check."""
    return {"qa_score": report.score, "qa_flags": report.flags, "qa_reasons": report.reasons,
            "qa_attempts": attempts, "qa_seconds": report.seconds}


async def _score(result: HostedResult, source: Prepared, kind: str) -> QaReport | str:
    """The verdict, or a sentence when the downloaded clip is unusable (that too is a failure of the clip)."""
    assert result.clip is not None
    try:
        return await asyncio.to_thread(check, Path(str(result.clip["path"])), source, kind)
    except UnusableInput as exc:
        return f"the clip cannot be checked: {exc}"


def _reasons(verdict: QaReport | str) -> str:
    return verdict if isinstance(verdict, str) else "; ".join(verdict.reasons)


def _hold(result: HostedResult, verdict: QaReport | str, paid: float) -> HostedResult:
    """Not composed, not published: the cell waits for a person, with the failing measure in words."""
    result.failure = f"{NEEDS_REVIEW}: {_reasons(verdict)}"
    result.review = {"status": REVIEW_STATUS, "qa_score": f"{verdict.score:g}" if isinstance(verdict, QaReport) else "0",
                     "qa_flags": " ".join(verdict.flags) if isinstance(verdict, QaReport) else "unusable"}
    # composed into review/ for a person to watch, never published; a clip that could not even be checked is not
    result.held_clip = _composable(result.clip) if isinstance(verdict, QaReport) else None
    result.clip = None
    result.qa_spent_usd = paid
    return result


def _record_hold(ctx: HostedContext, item: ShotWork, first_key: str, rounds: int, held: HostedResult,
                 tried: list[dict[str, Any]]) -> None:
    """The hold in the ledger: what a rerun answers from, and what the review sidecar and the studio show."""
    last = tried[-1]
    ctx.ledger.hold(held.sku, item.shot.shot_id, first_key, rounds, {
        "reason": held.failure, **held.review, "qa_reasons": last.get("qa_reasons", []),
        "attempts": len(tried), "content_keys": [c["content_key"] for c in tried],
        "seeds": [c.get("qa_seed", item.shot.seed) for c in tried], "provider": held.provider,
        "model": last.get("model"), "kind": item.shot.kind, "clip_path": last.get("path"),
        "cost_usd": round(held.qa_spent_usd, 4), "thresholds": thresholds_digest(), "clip": held.held_clip})


def _composable(clip: dict[str, Any] | None) -> dict[str, Any] | None:
    """What composing a held clip needs (production.py reads a hosted clip the same way); None when unusable."""
    if clip is None or not clip.get("path") or not Path(str(clip["path"])).is_file():
        return None
    return {k: v for k, v in clip.items() if k in ("content_key", "path", "duration_s", "product_box", "cost_usd",
                                                    "model") or k.startswith("qa_")}


def _still_held(result: HostedResult, hold: dict[str, Any]) -> HostedResult:
    row = hold["row"]
    result.held_clip = _composable(row.get("clip"))  # the held clip again (cached, paid once): composed for review
    result.failure, result.clip = str(row.get("reason") or NEEDS_REVIEW), None
    result.review = {k: str(row.get(k, "")) for k in ("status", "qa_score", "qa_flags")}
    result.qa_spent_usd = float(row.get("cost_usd") or 0.0)  # what the held clips cost, as a reused clip counts
    result.notes.append("qa: still held for review from an earlier run (nothing paid); --qa retry buys one more clip")
    return result


async def generate_gated(product: Product, item: ShotWork, hero: Prepared | None, chain: list[str],
                         ctx: HostedContext, presenter: Prepared | None = None, gallery: Sequence[Prepared] = (),
                         *, mode: QaMode = "gate") -> HostedResult:
    first = await generate_shot(product, item, hero, chain, ctx, presenter, gallery)  # a paid clip is reused
    avatar = item.shot.kind == "avatar"
    source = presenter if avatar else hero
    if mode == "off" or first.clip is None or first.provider is None:
        return first
    if source is None:
        first.notes.append("qa: not checked, there is no photo to hold the clip against")
        return first
    first_key = str(first.clip["content_key"])
    hold = ctx.ledger.held(product.sku, item.shot.shot_id) if mode in ("gate", "retry") else None
    if hold is not None and hold["content_key"] != first_key:
        hold = None  # the photo, prompt or provider changed since: a new first clip, judged afresh
    # the ledger decides: nothing paid, nothing scored again; unless the automatic retry never happened (the budget
    # ran out before it) or the thresholds changed since the verdict
    if hold is not None and mode == "gate" and int(hold["row"].get("attempts") or 0) >= 2 \
            and hold["row"].get("thresholds") == thresholds_digest():
        return _still_held(first, hold)
    verdict = await _score(first, source, item.shot.kind)
    if isinstance(verdict, QaReport):
        first.clip.update(qa_fields(verdict, 1))
        if verdict.passed:
            ctx.ledger.release_hold(product.sku, item.shot.shot_id)
            return first
    if mode == "warn":
        first.notes.append(f"qa (warn only): {_reasons(verdict)}")
        return first
    paid = float(first.clip.get("cost_usd") or 0.0)
    done_rounds = int(hold["rounds"] or 0) if hold is not None else 0
    # round 1 is the automatic retry (paid once, reused by every rerun); `--qa retry` on a held cell adds one round
    rounds = [1] + ([done_rounds + 2] if mode == "retry" and hold is not None else [])
    current, tried = first, [first.clip]
    for round_ in rounds:
        seed = retry_seed(item.shot.seed, round_)
        retry = item.model_copy(update={"shot": item.shot.model_copy(update={"seed": seed})})
        again = await generate_shot(product, retry, hero, chain, ctx, presenter, gallery)
        if again.fallback_local:  # the chain ends in `local` and no hosted provider could retry: the studio composite
            again.notes.insert(0, f"qa: rendered locally instead after: {_reasons(verdict)}")
            again.qa_spent_usd = paid
            return again
        if again.clip is None or again.provider is None:  # no further try possible (budget, provider): hold
            held = _hold(current, verdict, paid)
            held.failure = f"{held.failure} (not regenerated: {again.failure or 'no provider could take it'})"
            _record_hold(ctx, item, first_key, done_rounds + (round_ > 1), held, tried)
            return held
        again.notes.insert(0, f"qa: regenerated with seed {seed} after: {_reasons(verdict)}")
        again.qa_spent_usd = paid  # the rejected clips were paid too
        again.clip["qa_seed"] = seed  # the seed that made this clip
        verdict = await _score(again, source, item.shot.kind)
        tried.append(again.clip)
        if isinstance(verdict, QaReport):
            again.clip.update(qa_fields(verdict, len(tried)))
            if verdict.passed:
                ctx.ledger.release_hold(product.sku, item.shot.shot_id)
                return again
        paid += float(again.clip.get("cost_usd") or 0.0)
        current = again
    held = _hold(current, verdict, paid)
    _record_hold(ctx, item, first_key, done_rounds + (len(rounds) > 1), held, tried)
    return held


async def generate_gated_group(product: Product, items: Sequence[ShotWork], hero: Prepared | None, chain: list[str],
                               ctx: HostedContext, gallery: Sequence[Prepared] = (), *,
                               mode: QaMode = "gate") -> list[HostedResult]:
    """Several shots of one SKU: one storyboard generation when the model takes one (Kling 3.0 multi-shot, paid
    once for all of them), each cut held against the photo like any clip; a cut that fails, or shots that cannot
    share a storyboard, go through generate_gated one by one."""
    from skureel.pipeline.storyboard import generate_storyboard

    board = await generate_storyboard(product, items, hero, chain, ctx, gallery) if len(items) > 1 else None
    if board is None:
        return list(await asyncio.gather(*[generate_gated(product, item, hero, chain, ctx, None, gallery, mode=mode)
                                           for item in items]))
    results: list[HostedResult] = []
    for item, cut in zip(items, board, strict=True):
        if mode == "off" or cut.clip is None or hero is None:
            results.append(cut)
            continue
        verdict = await _score(cut, hero, item.shot.kind)
        if isinstance(verdict, QaReport):
            cut.clip.update(qa_fields(verdict, 1))
            if verdict.passed:
                results.append(cut)
                continue
        if mode == "warn":
            cut.notes.append(f"qa (warn only): {_reasons(verdict)}")
            results.append(cut)
            continue
        alone = await generate_gated(product, item, hero, chain, ctx, None, gallery, mode=mode)
        alone.notes.insert(0, f"qa: the storyboard's cut was rejected ({_reasons(verdict)}); made on its own")
        alone.qa_spent_usd += float(cut.clip.get("cost_usd") or 0.0)  # its share of the storyboard was paid
        results.append(alone)
    return results


def review_rel(sku: str, shot_id: str) -> str:
    """Where a held cell's review sidecar lives: review/<sku>/<sku>__<shot>.json, apart from the published clips."""
    from skureel.naming import shot_key, sku_key

    return f"review/{sku_key(sku)}/{sku_key(sku)}__{shot_key(shot_id)}.json"


def review_clip_rel(sku: str, shot_id: str, fmt: str, suffix: str) -> str:
    """Where a held clip composed for review lives: review/<sku>/<sku>__<shot>__<format><suffix>, never under clips/."""
    from skureel.naming import clip_stem, sku_key

    return f"review/{sku_key(sku)}/{clip_stem(sku, shot_id, fmt)}{suffix}"


def stage_review_clip(target: Target, item: Composed) -> None:
    """A held clip composed like a deliverable, written beside its review sidecar with its row (for the studio's
    review grid and a later approval); the ledger records no publication, and no manifest lists it as delivered."""
    import json

    rel = {suffix: review_clip_rel(item.sku, item.shot_id, item.format, suffix) for suffix in (".mp4", ".jpg", ".json")}
    row = {**item.row, "status": REVIEW_STATUS, "uri": target.uri(rel[".mp4"]), "poster_uri": target.uri(rel[".jpg"])}
    target.put_file(Path(item.poster), rel[".jpg"])
    target.put_file(Path(item.path), rel[".mp4"])
    target.put_bytes(json.dumps(row, indent=2, ensure_ascii=False, default=str).encode(), rel[".json"])  # last
    for path in (Path(item.path), Path(item.poster)):
        path.unlink(missing_ok=True)


def reviewed_formats(target: Target, work: SkuWork, item: ShotWork, clip: dict[str, Any]) -> list[str]:
    """The formats this held clip is composed for review in already (the same clip under the same overlays): a
    rerun composes them again for nothing, and an approved clip must stay byte-identical (web/scopes.py)."""
    import json

    from skureel.keys import overlay_hash
    from skureel.pipeline.bases import formats_of

    done = []
    for fmt in formats_of(work, item):
        rel = review_clip_rel(work.product.sku, item.shot.shot_id, fmt, ".json")
        if not (target.exists(rel) and target.exists(review_clip_rel(work.product.sku, item.shot.shot_id, fmt, ".mp4"))):
            continue
        row = json.loads(target.read_bytes(rel))
        if row.get("content_key") == clip.get("content_key") and \
                row.get("overlay_hash") == overlay_hash(work.product, work.brand, fmt, item.shot.language):
            done.append(fmt)
    return done


def _review_clips(target: Target, sku: str, shot: str, content_key: str, formats: Sequence[str]) -> list[dict[str, Any]]:
    """The held clip's composed formats on the target (this run's or an earlier run's of the same clip)."""
    import json

    found = []
    for fmt in formats:
        rel = review_clip_rel(sku, shot, fmt, ".json")
        if target.exists(rel) and target.exists(review_clip_rel(sku, shot, fmt, ".mp4")):
            row = json.loads(target.read_bytes(rel))
            if row.get("content_key") == content_key:
                found.append(row)
    return found


def review_outputs(ledger: Ledger, target: Target, held: Sequence[dict[str, str]],
                   titles: dict[str, str], formats: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The run's held cells as manifest rows (status needs_review, qa_score, qa_flags), each with a review sidecar
    written and `clips`, the held clip composed per format for a person to watch; the sidecars and clips of cells
    released since (a later clip passed) are removed."""
    import json

    holds = {(r["sku"], r["shot_id"]): r for r in ledger.all_reviews()}
    rows: list[dict[str, Any]] = []
    for cell in held:
        sku, shot = cell["sku"], cell["shot"]
        info = dict((holds.get((sku, shot)) or {}).get("row") or {})
        info.pop("thresholds", None)
        rel = review_rel(sku, shot)
        row: dict[str, Any] = {
            "sku": sku, "title": titles.get(sku, ""), "shot": shot, "kind": info.get("kind", ""),
            "status": REVIEW_STATUS, "reason": cell.get("reason", ""), "provider": info.get("provider", ""),
            "model": info.get("model", ""), "content_key": (info.get("content_keys") or [""])[-1],
            "cost_usd": info.get("cost_usd", 0.0), "qa_score": float(cell.get("qa_score") or 0.0),
            "qa_flags": cell.get("qa_flags", "").split(), "qa_reasons": info.get("qa_reasons", []),
            "qa_attempts": info.get("attempts", 0), "sidecar_uri": target.uri(rel),
            "clip_path": info.get("clip_path")}  # the held base clip, in the local cache: what a reviewer looks at
        info.pop("clip", None)
        target.put_bytes(json.dumps({**info, **row}, indent=2, ensure_ascii=False, default=str).encode(), rel)
        row["clips"] = _review_clips(target, sku, shot, str(row["content_key"]), formats)
        rows.append(row)
    for (sku, shot), record in holds.items():
        if record["state"] != REVIEW_STATUS:
            stale = [review_rel(sku, shot)] + [review_clip_rel(sku, shot, f, x) for f in formats
                                               for x in (".json", ".mp4", ".jpg")]
            for old in stale:
                if target.exists(old):
                    target.remove(old)
    return rows
