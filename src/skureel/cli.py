"""The `skureel` command line (typer + rich). User errors print one line, never a traceback."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table as RichTable

from skureel.domain import SkureelError, UnusableInput

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Catalog + brand kit in, social product videos out.")
console = Console()
err = Console(stderr=True)


@app.callback()
def root() -> None:
    """skureel: catalog + brand kit in, publish-ready product videos for every social format out."""


def fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@app.command()
def validate(
    catalog: Annotated[Path, typer.Argument(help="catalog file: .xlsx, .csv, .tsv or feed .xml")],
    brand: Annotated[Path | None, typer.Option(help="brand kit folder to validate too")] = None,
    report: Annotated[Path | None, typer.Option(help="write the row report (.xlsx, .csv or .json)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON summary")] = False,
    feed_format: Annotated[str | None, typer.Option("--format", help="native|shopify|gmc|meta|woocommerce")] = None,
    sheet: Annotated[str | None, typer.Option(help="worksheet name in an .xlsx")] = None,
    include_inactive: Annotated[bool, typer.Option(help="keep draft and archived products")] = False,
    check_images: Annotated[bool, typer.Option(help="also fetch and decode every image")] = False,
) -> None:
    """Ingest only: exit 0 when every row is valid, 1 when some rows are invalid, 2 when unusable."""
    from skureel.catalog import ingest
    from skureel.catalog.brandkit import load_brand_kit
    from skureel.exports import write_table

    try:
        if brand is not None:
            load_brand_kit(brand)
        result = ingest(catalog, feed_format=feed_format, sheet=sheet, include_inactive=include_inactive)
    except UnusableInput as exc:
        fail(str(exc))
    if check_images:
        from skureel.catalog.images import ImageCache, ImageProblem
        from skureel.settings import load_settings

        cache = ImageCache(load_settings())
        for product in result.products:
            usable = 0
            for ref in product.images:
                try:
                    cache.load(product.resolve_image(ref))
                    usable += 1
                except ImageProblem as exc:
                    result.issues.append(result.issues[0].__class__(
                        file=str(catalog), row=product.source_row, column="image", sku=product.sku,
                        reason=str(exc), severity="warning"))
            if product.images and not usable:
                result.issues.append(result.issues[0].__class__(
                    file=str(catalog), row=product.source_row, column="image", sku=product.sku,
                    reason="no usable image", severity="warning"))
    code = 1 if result.errors else 0
    if report is not None:
        header = ["file", "row", "column", "sku", "severity", "reason"]
        rows: list[list[object]] = [[Path(i.file).name, i.row, i.column, i.sku, i.severity, i.reason] for i in result.issues]
        try:
            write_table(report, header, rows)
        except OSError as exc:
            fail(f"{report}: cannot write the report ({exc.strerror})")
    if as_json:
        print(json.dumps(result.summary(), indent=2, ensure_ascii=False, default=str))
        raise typer.Exit(code)
    console.print(
        f"[bold]{Path(result.file).name}[/]: format [cyan]{result.format}[/], "
        f"{len(result.products)} products, {result.variant_count} variants, "
        f"{sum(result.skipped.values())} skipped {dict(result.skipped) or ''}, "
        f"{len(result.errors)} invalid rows, {len(result.issues) - len(result.errors)} warnings",
        highlight=False,
    )
    if result.errors:
        table = RichTable("row", "column", "sku", "reason", title="invalid rows (the other rows are usable)")
        for issue in result.errors[:50]:
            table.add_row(str(issue.row or ""), issue.column or "", issue.sku or "", issue.reason)
        console.print(table)
        if len(result.errors) > 50:
            console.print(f"... and {len(result.errors) - 50} more (use --report FILE)")
    raise typer.Exit(code)


def main() -> None:
    try:
        app()
    except SkureelError as exc:  # any deliberate error that escaped a command
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
