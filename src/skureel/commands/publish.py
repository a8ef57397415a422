"""`skureel publish OUT_OR_MANIFEST --to TARGET[,TARGET]`: (re)publish an existing run's output."""

from __future__ import annotations

from typing import Annotated, Any

import typer


def publish(
    out: Annotated[str, typer.Argument(help="a run's output folder (or fsspec URL), or its manifest.json")],
    to: Annotated[str, typer.Option("--to", help="targets, e.g. shopify,cloudinary (default: targets.yaml)")] = "",
    brand: Annotated[str | None, typer.Option(help="brand kit folder whose targets.yaml configures the targets")] = None,
    concurrency: Annotated[int, typer.Option(help="uploads in flight per target (targets.yaml may set its own)")] = 4,
    as_json: Annotated[bool, typer.Option("--json", help="print every result as JSON")] = False,
) -> None:
    """Idempotent: unchanged clips send nothing, changed ones replace their media, retired SKUs are removed."""
    raise typer.Exit(run_publish(out, to, brand, concurrency=concurrency, as_json=as_json))


def prefect_lookup() -> Any:
    """Prefect Secret blocks (`shopify-access-token`, ...) when a Prefect server is configured; starting the
    ephemeral one just to find no block would cost seconds, so without PREFECT_API_URL only the environment counts."""
    import os

    if not os.environ.get("PREFECT_API_URL"):
        return None
    from skureel.tasks import secret_lookup

    return secret_lookup


def run_publish(out: str, to: str, brand: str | None, *, concurrency: int = 4, as_json: bool = False,
                lookup: Any = None) -> int:
    """Shared with `skureel run --publish`; prints the outcome, returns the exit code (0 ok, 1 failures, 2 unusable)."""
    import json

    from rich.table import Table as RichTable

    from skureel.commands.common import console, err
    from skureel.publish.targets.base import TargetError
    from skureel.publish.targets.output import publish_output, target_names

    try:
        report = publish_output(out, target_names(to, brand), brand_kit=brand, lookup=lookup or prefect_lookup(),
                                concurrency=concurrency)
    except TargetError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        return 2
    if as_json:
        print(json.dumps([r.model_dump() for r in report.results], indent=2))
    else:
        names = sorted({r.target for r in report.results})
        for name in names:
            counts = {a: report.count(a, name) for a in ("uploaded", "adopted", "unchanged", "retired", "failed")}
            console.print(f"[bold]{name}[/]: " + ", ".join(f"{n} {a}" for a, n in counts.items() if n), highlight=False)
        for feed in report.feeds:
            console.print(f"feed: {feed}", highlight=False)
        if report.failures:
            table = RichTable("target", "sku", "shot", "format", "reason", title="not published")
            for failure in report.failures[:50]:
                table.add_row(failure.target, failure.sku, failure.shot, failure.format, failure.error)
            console.print(table)
    return 1 if report.failures else 0
