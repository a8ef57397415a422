"""Folding hosted generation results back into the run's work items (plain, testable without Prefect)."""

from __future__ import annotations

from skureel.pipeline.gate import reviewed_formats
from skureel.pipeline.hosted import HostedResult
from skureel.pipeline.refresh import RunPlan
from skureel.prompts import render_prompt
from skureel.publish.storage import Target


def hosted_items(run: RunPlan) -> list[tuple[int, int]]:
    """(work index, shot index) of every shot planned on a hosted provider."""
    return [(wi, si) for wi, work in enumerate(run.work) for si, item in enumerate(work.shots)
            if item.rendered.provider != "local"]


def hosted_groups(run: RunPlan, pending: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """The pending shots grouped for generation: a SKU's several non-avatar shots together (a multi-shot model can
    make them as one storyboard, paid once), every other shot on its own. With per-family bases each family's
    shots are a group of their own: a storyboard has one aspect."""
    by_sku: dict[tuple[int, str | None], list[tuple[int, int]]] = {}
    for wi, si in pending:
        by_sku.setdefault((wi, run.work[wi].shots[si].family), []).append((wi, si))
    groups: list[list[tuple[int, int]]] = []
    for (wi, _), keys in by_sku.items():
        board = [k for k in keys if run.work[wi].shots[k[1]].shot.kind != "avatar"]
        if len(board) > 1:
            groups.append(board)
        groups.extend([k] for k in keys if len(board) <= 1 or k not in board)
    return groups


def apply_results(run: RunPlan, results: dict[tuple[int, int], HostedResult]) -> tuple[list[dict[str, str]], list[str], float]:
    """Returns failures, SKUs left by the budget, and the spend."""
    failures: list[dict[str, str]] = []
    left: list[str] = []
    spend = 0.0
    drop: dict[int, set[int]] = {}
    target: Target | None = None
    for (wi, si), result in results.items():
        work = run.work[wi]
        item = work.shots[si]
        spend += result.qa_spent_usd  # clips the QA gate rejected were paid for too
        if result.fallback_local:
            work.shots[si] = item.model_copy(update={"rendered": render_prompt(item.shot, "local")})
            continue
        if result.clip is not None and result.provider:
            work.hosted_clips[item.slot] = result.clip
            rendered = render_prompt(item.shot, result.provider, result.clip.get("model"))  # the model that made it
            work.shots[si] = item.model_copy(update={"rendered": rendered})
            spend += float(result.clip.get("cost_usd") or 0.0)
            continue
        if result.held_clip is not None and result.provider and result.review:
            # held by the QA gate: composed like any clip, but for review only (production.py, refresh.py); its cost
            # is already in qa_spent_usd, and the failure below keeps it out of the deliverables
            target = target or Target(run.request.out, run.settings)
            work.held_clips[item.slot] = {**result.held_clip,  # formats composed for review before are not again
                                          "reviewed": [] if work.force else reviewed_formats(target, work, item,
                                                                                             result.held_clip)}
            work.shots[si] = item.model_copy(update={"rendered": render_prompt(item.shot, result.provider,
                                                                               result.held_clip.get("model"))})
        else:
            drop.setdefault(wi, set()).add(si)
        if result.left_by_budget:
            left.append(result.sku)
        else:
            failures.append({"sku": result.sku, "shot": result.shot_id, "reason": result.failure or "failed",
                             **result.review})  # status needs_review: held by the QA gate, counted apart
    for wi, indexes in drop.items():
        run.work[wi].shots = [s for i, s in enumerate(run.work[wi].shots) if i not in indexes]
    run.work = [w for w in run.work if w.shots]
    return failures, sorted(set(left)), spend
