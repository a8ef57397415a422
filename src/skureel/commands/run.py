"""`skureel run`: the whole pipeline through the Prefect flow (embedded, or fanned out with --on-cluster)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table as RichTable

from skureel.commands.common import console, fail, format_list, provider_list
from skureel.domain import SkureelError, UnusableInput
from skureel.paths import load_flow

current_log: Path | None = None  # the running command's own log, where unexpected tracebacks go


def _run_log(out: str) -> Path:
    """The run's own log: inside --out for a folder; per run under the cache for object storage."""
    if "://" not in out:
        return Path(out) / "skureel.log"
    from skureel.naming import key

    return error_log(prefix="run-" + key(out, "out")[:60])


def error_log(prefix: str = "error") -> Path:
    """A file of this process's own (never one shared path for every user and run)."""
    import os
    import time

    from skureel.settings import load_settings

    stamp = time.strftime("%Y%m%dT%H%M%S")
    return load_settings().cache_dir / "logs" / f"{prefix}-{stamp}-{os.getpid()}.log"


def _quiet_prefect(log_file: Path) -> None:
    """Prefect's logs go to a file in the output folder; the terminal gets a progress bar."""
    import logging

    log_file.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    for name in ("prefect", "prefect.flow_runs", "prefect.task_runs", "prefect.server", "uvicorn", "httpx", "skureel"):
        logger = logging.getLogger(name)
        for old in list(logger.handlers):
            if isinstance(old, logging.StreamHandler) and not isinstance(old, logging.FileHandler):
                logger.removeHandler(old)
        logger.addHandler(handler)
        logger.propagate = False


def run(
    catalog: Annotated[Path, typer.Argument(help="catalog file")],
    brand: Annotated[Path, typer.Option(help="brand kit folder")],
    provider: Annotated[str, typer.Option(help="provider or fallback chain, e.g. kling,veo,local")] = "local",
    formats: Annotated[str, typer.Option(help="formats: 9x16,4x5,1x1,16x9 (2x3 optional)")] = "9x16,4x5,1x1,16x9",
    out: Annotated[str, typer.Option(help="output folder or fsspec URL (s3://bucket/prefix)")] = "out/run",
    max_spend: Annotated[float | None, typer.Option(help="stop submitting paid jobs beyond this many USD")] = None,
    only: Annotated[list[str] | None, typer.Option(help="only these SKUs (repeatable)")] = None,
    dry_run: Annotated[bool, typer.Option(help="plan and price without generating")] = False,
    prune: Annotated[bool, typer.Option(help="remove clips of products that left the catalog")] = False,
    quality: Annotated[str, typer.Option(help="final or draft")] = "final",
    languages: Annotated[str, typer.Option(help="avatar languages, e.g. en,de (the row supplies script_de)")] = "",
    qa: Annotated[str | None, typer.Option(help="QA of generated clips against the photo: off, warn, gate, or retry "
                                                "(gate, and buy one more clip for each cell held for review; "
                                                "default: gate for hosted, warn for local; templates/qa.yaml)")] = None,
    publish: Annotated[str, typer.Option(help="after the run, publish its manifest to these targets, e.g. "
                                              "shopify,cloudinary (see `skureel targets`)")] = "",
    on_cluster: Annotated[bool, typer.Option(help="run on the cluster at PREFECT_API_URL (deploy/cluster.sh), "
                                                  "fanned out in chunks over its workers")] = False,
    bases: Annotated[str | None, typer.Option(help="one base per shot, or per-family (native 9:16 and 16:9); "
                                                   "default: chosen from the formats and --max-spend")] = None,
    seed_from: Annotated[str | None, typer.Option(help="compare[=PATH]: each SKU on the model and seed picked with "
                                                       "`skureel compare --pick` (PATH: its --out, out/compare)")] = None,
) -> None:
    """The whole pipeline through the Prefect flow. Exit 0 all delivered, 1 some SKUs failed, 2 unusable input."""
    import os

    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # a fresh PREFECT_HOME migrates its database first (~12 s here): Prefect's 20 s default is too tight on 2 cores
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    providers = provider_list(provider)
    wanted = format_list(formats)
    if quality not in ("final", "draft"):
        fail("--quality must be final or draft")
    if qa is not None and qa not in ("off", "warn", "gate", "retry"):
        fail("--qa must be off, warn, gate or retry")
    if bases is not None and bases not in ("one", "per-family"):
        fail("--bases must be one or per-family")
    from skureel.pipeline.picks import seed_from_path

    try:
        picks_from = seed_from_path(seed_from)
    except UnusableInput as exc:
        fail(str(exc))
    if not catalog.exists():
        fail(f"{catalog}: file not found")
    if "://" not in out and Path(out).exists() and not Path(out).is_dir():
        fail(f"--out {out}: is a file, not a folder; name a folder (it is created if missing)")
    from skureel.catalog.brandkit import load_brand_kit

    try:
        load_brand_kit(brand)
        if publish:  # a missing credential stops us before the run spends anything
            from skureel.commands.publish import prefect_lookup
            from skureel.publish.targets.output import build_targets, target_names

            build_targets(target_names(publish, brand), brand, prefect_lookup())
    except UnusableInput as exc:
        fail(str(exc))
    except SkureelError as exc:
        fail(str(exc))
    log_file = _run_log(out)
    global current_log
    current_log = log_file
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from skureel import progress as events

    if on_cluster:
        if dry_run or only:
            fail("--on-cluster runs whole catalogs: drop --dry-run and --only (run those locally)")
        from skureel.commands.cluster import api_url

        try:
            api_url()  # the fan-out runs here, against the cluster's server; its chunks run on the workers
        except UnusableInput as exc:
            fail(str(exc))
    flow_fn = load_flow("catalog_fanout" if on_cluster else "catalog_refresh")
    _quiet_prefect(log_file)
    state: dict[str, float] = {"clips": 0, "failures": 0}
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[info]}"), TimeElapsedColumn(), console=console, transient=False) as bar:
        task_id = bar.add_task("starting Prefect", total=None, info="")

        def listen(event: str, data: dict[str, object]) -> None:
            if event == "planned":
                bar.update(task_id, description="SKUs", total=int(str(data["skus"])) or 1, completed=0,
                           info=f"{data['unchanged']} unchanged, {data['clips']} clips to make")
                if not data["skus"]:
                    bar.update(task_id, completed=1)
            elif event == "generated":
                bar.update(task_id, info=f"generated {data['sku']}/{data['shot']} on {data['provider'] or '-'}, "
                                         f"spend ${float(str(data['spent'])):.2f}")
            elif event == "chunk_done":
                state["clips"] += float(str(data["clips"]))
                state["failures"] += float(str(data["failures"]))
                bar.update(task_id, advance=int(str(data["skus"])),
                           info=f"chunk {data['chunk']} done: {int(state['clips'])} clips, {int(state['failures'])} failures")
            elif event == "sku_done":
                state["clips"] += float(str(data["clips"]))
                state["failures"] += float(str(data["failures"]))
                bar.update(task_id, advance=1, info=f"{int(state['clips'])} clips, {int(state['failures'])} failures")

        events.subscribe(listen)
        try:
            import asyncio

            spoken = [x.strip() for x in languages.split(",") if x.strip()]
            if on_cluster:  # workers elsewhere: every path must mean the same to them
                summary = asyncio.run(flow_fn(
                    catalog=str(catalog.resolve()), brand_kit=str(brand.resolve()), providers=providers,
                    formats=wanted, out=out if "://" in out else str(Path(out).resolve()), max_spend=max_spend,
                    prune=prune, quality=quality, languages=spoken, qa=qa, bases=bases,
                    seed_from=str(Path(picks_from).resolve()) if picks_from else None))
            else:
                summary = asyncio.run(flow_fn(catalog=str(catalog), brand_kit=str(brand), providers=providers,
                                              formats=wanted, out=out, max_spend=max_spend, only=only or [],
                                              dry_run=dry_run, prune=prune, quality=quality, languages=spoken, qa=qa,
                                              bases=bases, seed_from=picks_from))
        except UnusableInput as exc:
            bar.stop()
            fail(str(exc))
        finally:
            events.unsubscribe(listen)
    if dry_run:
        console.print(f"dry run: {len(summary['skus'])} SKUs would be produced, {len(summary['unchanged'])} unchanged, "
                      f"estimated ${summary['estimate_usd']:.2f}")
        raise typer.Exit(1 if summary["failures"] else 0)
    failures = summary.get("failures", [])
    console.print(f"[bold]{summary['delivered']} clips delivered[/] for {summary['products_delivered']} products "
                  f"({summary['composed_this_run']} made now, {summary['reused_this_run']} reused, "
                  f"{summary['skipped_unchanged']} products unchanged), spend ${summary['spend_usd']:.2f}", highlight=False)
    for note in summary.get("notes", [])[:50]:
        console.print(f"note: {note}", highlight=False, markup=False)
    if failures:
        table = RichTable("row", "sku", "shot", "format", "reason", title="failed")
        for failure in failures[:50]:
            table.add_row(*(escape(str(failure.get(k) or "")) for k in ("row", "sku", "shot", "format", "reason")))
        console.print(table)
        if len(failures) > 50:
            console.print(f"... and {len(failures) - 50} more in report.html", highlight=False)
    held = summary.get("held", [])
    if held:  # the QA gate's holds: not failures, not delivered either (exit 1, like a failure: nothing went out)
        table = RichTable("sku", "shot", "qa score", "why", title=f"{len(held)} held for review (not published)")
        for cell in held[:50]:
            table.add_row(*(escape(str(cell.get(k) or "")) for k in ("sku", "shot", "qa_score", "reason")))
        console.print(table)
        console.print("held clips: see report.html; `--qa retry` buys one more clip for each", highlight=False)
    where = Path(out).resolve() if "://" not in out else out
    console.print(f"report: {where}/report.html · manifest: {where}/manifest.csv · log: {log_file}", highlight=False)
    if publish:
        from skureel.commands.publish import run_publish

        raise typer.Exit(run_publish(out, publish, str(brand)) or (1 if failures or held else 0))
    raise typer.Exit(1 if failures or held else 0)
