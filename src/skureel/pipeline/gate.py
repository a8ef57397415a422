"""The QA gate around hosted generation: each base clip is held against the SKU's own photo before composing.

gate: a failing clip is regenerated once with a new seed (a new content key: paid once more, recorded in the
      ledger, inside the run's budget); a second failure holds the cell for review (not composed, not published,
      reported with the failing measure in words).
warn: a failing clip is used anyway; its flags travel into the sidecar and manifest.
off:  no check.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from skureel.domain import Product, ShotSpec, UnusableInput, plain_error
from skureel.pipeline.hosted import HostedContext, HostedResult, generate_shot
from skureel.pipeline.work import ShotWork
from skureel.qa import QaReport, Reference, from_cutout, load_thresholds, score_clip
from skureel.qa.thresholds import Thresholds
from skureel.render.compose import Prepared

QaMode = Literal["off", "warn", "gate"]
QA_MODES: tuple[str, ...] = ("off", "warn", "gate")
NEEDS_REVIEW = "needs review"

_refs: dict[tuple[str, bool], Reference] = {}
_refs_lock = threading.Lock()


def default_mode(providers: list[str], requested: str | None) -> QaMode:
    """gate when any hosted provider is in the chain, warn for local-only runs (local clips are the photo itself)."""
    if requested in QA_MODES:
        return requested  # type: ignore[return-value]
    return "warn" if all(p.partition(":")[0] == "local" for p in providers) else "gate"


def retry_seed(seed: int) -> int:
    """A new seed that is the same on every rerun, so a rerun reuses the paid retry instead of buying a third clip."""
    return int(hashlib.sha256(f"{seed}:qa-retry".encode()).hexdigest()[:8], 16) % 2_147_483_647


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
    result.clip = None
    result.qa_spent_usd = paid
    return result


async def generate_gated(product: Product, item: ShotWork, hero: Prepared | None, chain: list[str],
                         ctx: HostedContext, presenter: Prepared | None = None, gallery: Sequence[Prepared] = (),
                         *, mode: QaMode = "gate") -> HostedResult:
    first = await generate_shot(product, item, hero, chain, ctx, presenter, gallery)
    avatar = item.shot.kind == "avatar"
    source = presenter if avatar else hero
    if mode == "off" or first.clip is None or first.provider is None:
        return first
    if source is None:
        first.notes.append("qa: not checked, there is no photo to hold the clip against")
        return first
    verdict = await _score(first, source, item.shot.kind)
    if isinstance(verdict, QaReport):
        first.clip.update(qa_fields(verdict, 1))
        if verdict.passed:
            return first
    if mode == "warn":
        first.notes.append(f"qa (warn only): {_reasons(verdict)}")
        return first
    first_cost = float(first.clip.get("cost_usd") or 0.0)
    retry = item.model_copy(update={"shot": item.shot.model_copy(update={"seed": retry_seed(item.shot.seed)})})
    second = await generate_shot(product, retry, hero, chain, ctx, presenter, gallery)
    if second.fallback_local:  # the chain ends in `local` and no hosted provider could retry: the studio composite
        second.notes.insert(0, f"qa: rendered locally instead after: {_reasons(verdict)}")
        second.qa_spent_usd = first_cost
        return second
    if second.clip is None or second.provider is None:  # no second try possible (budget, provider): hold the first
        held = _hold(first, verdict, first_cost)
        held.failure = f"{held.failure} (not regenerated: {second.failure or 'no provider could take it'})"
        return held
    again = await _score(second, source, item.shot.kind)
    second.notes.insert(0, f"qa: regenerated once with seed {retry_seed(item.shot.seed)} after: {_reasons(verdict)}")
    second.qa_spent_usd = first_cost  # the rejected clip was paid too
    second.clip["qa_seed"] = retry_seed(item.shot.seed)  # the seed that made the published clip
    if isinstance(again, QaReport):
        second.clip.update(qa_fields(again, 2))
        if again.passed:
            return second
    return _hold(second, again, first_cost + float(second.clip.get("cost_usd") or 0.0))


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
