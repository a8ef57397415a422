"""The `skureel` command line (typer + rich). User errors print one line, never a traceback."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.markup import escape
from rich.table import Table as RichTable

from skureel.commands import run as run_command
from skureel.commands.cluster import cluster_app
from skureel.commands.common import console, err, fail, format_list, provider_list
from skureel.commands.compare import compare
from skureel.commands.fake_target import fake_target
from skureel.commands.publish import publish
from skureel.commands.qa import qa
from skureel.commands.run import error_log, run
from skureel.commands.studio import app as studio_app
from skureel.commands.targets import targets
from skureel.domain import RowIssue, SkureelError, UnusableInput

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Catalog + brand kit in, social product videos out.")


@app.callback()
def root() -> None:
    """skureel: catalog + brand kit in, publish-ready product videos for every social format out."""


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
                    result.issues.append(RowIssue(file=str(catalog), row=product.source_row, column="image",
                                                  sku=product.sku, reason=str(exc), severity="warning"))
            if product.images and not usable:
                result.issues.append(RowIssue(file=str(catalog), row=product.source_row, column="image",
                                              sku=product.sku, reason="no usable image", severity="warning"))
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


@app.command()
def plan(
    catalog: Annotated[Path, typer.Argument(help="catalog file")],
    brand: Annotated[Path, typer.Option(help="brand kit folder")],
    provider: Annotated[str, typer.Option(help="provider (or fallback chain a,b,c)")] = "local",
    formats: Annotated[str, typer.Option(help="formats to plan for")] = "9x16,4x5,1x1,16x9",
    languages: Annotated[str, typer.Option(help="avatar languages, e.g. en,de")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="full blueprints and rendered prompts as JSON")] = False,
    feed_format: Annotated[str | None, typer.Option("--format", help="override feed format detection")] = None,
    sheet: Annotated[str | None, typer.Option(help="worksheet name")] = None,
    quality: Annotated[str, typer.Option(help="final or draft: the model tier when none is pinned")] = "final",
    bases: Annotated[str | None, typer.Option(help="one or per-family (a 9:16 and a 16:9 base); default: chosen "
                                                   "from the formats and --max-spend")] = None,
    max_spend: Annotated[float | None, typer.Option(help="the budget the default --bases is judged against")] = None,
) -> None:
    """Blueprints, prompts, lint and cost. Spends nothing; exit 1 when any lint error exists."""
    from skureel.catalog import ingest
    from skureel.catalog.brandkit import load_brand_kit
    from skureel.planning.plan import build_plan
    from skureel.settings import load_settings

    providers = provider_list(provider)
    wanted = format_list(formats)
    try:
        kit = load_brand_kit(brand)
        report = ingest(catalog, feed_format=feed_format, sheet=sheet)
        result = build_plan(report.products, kit, providers=providers, formats=wanted,
                            languages=[x for x in languages.split(",") if x],
                            price_overrides=load_settings().prices_override, quality=quality, bases=bases,
                            max_spend=max_spend)
    except UnusableInput as exc:
        fail(str(exc))
    code = 1 if result.errors else 0
    if as_json:
        payload = {"provider": providers, "formats": wanted, "total_usd": result.total_usd, "bases": result.bases,
                   "cost_by_bases": result.cost_by_bases,
                   "per_sku_usd": result.per_sku_usd, "row_errors": [i.model_dump() for i in report.errors],
                   "shots": [{"blueprint": s.shot.model_dump(mode="json"), "rendered": s.rendered.model_dump(mode="json"),
                              "lint": [f.model_dump() for f in s.findings], "cost": s.cost.model_dump()}
                             for s in result.shots]}
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        raise typer.Exit(code)
    table = RichTable("sku", "shot", "base", "material", "lighting", "camera", "lens", "s", "usd", "lint",
                      title=f"plan: {provider}")
    for item in result.shots[:200]:
        s = item.shot
        errors = sum(f.severity == "error" for f in item.findings)
        warnings = len(item.findings) - errors
        lint = f"[red]{errors}E[/] " * bool(errors) + f"[yellow]{warnings}W[/]" * bool(warnings) or "[green]ok[/]"
        table.add_row(s.sku, s.shot_id, s.aspect_ratio, s.material, s.lighting.setup, s.camera.move, s.lens.name,
                      f"{item.rendered.duration_s:g}", f"{item.cost.usd:.2f}", lint)
    console.print(table)
    if len(result.shots) > 200:
        console.print(f"... {len(result.shots) - 200} more shots (use --json)")
    for finding in [f for item in result.shots for f in item.findings][:100]:
        colour = "red" if finding.severity == "error" else "yellow"
        console.print(f"[{colour}]{finding.line()}[/]", highlight=False, soft_wrap=True)
    unconfirmed = any(not s.cost.confirmed for s in result.shots)
    console.print(f"[bold]{len(result.shots)} shots for {len(result.per_sku_usd)} products, estimated "
                  f"${result.total_usd:,.2f}[/]" + (" (default prices, not vendor quotes)" if unconfirmed else ""))
    costs = result.cost_by_bases
    console.print(f"bases: {result.bases} · one ${costs['one']:,.2f} · per-family ${costs['per-family']:,.2f}",
                  highlight=False)
    if report.errors:
        console.print(f"{len(report.errors)} catalog rows were invalid and left out (skureel validate lists them)")
    raise typer.Exit(code)


@app.command()
def providers(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Adapters, capabilities, prices, and whether credentials are set (never their values)."""
    from skureel.providers.capabilities import CAPABILITIES, model_rows
    from skureel.providers.credentials import is_configured

    rows: list[dict[str, Any]] = []
    models = model_rows()
    for name, caps in CAPABILITIES.items():
        rows.append({"name": name, "label": caps.label, "configured": name == "local" or is_configured(name),
                     "env": list(caps.env_keys), "models": list(caps.models), "durations_s": list(caps.durations_s)[:12],
                     "aspect_ratios": list(caps.aspect_ratios), "max_prompt_chars": caps.max_prompt_chars,
                     "price_per_second_usd": caps.price_per_second_usd, "price_confirmed": caps.price_confirmed,
                     "avatar": caps.avatar, "camera_control": caps.camera_control, "audio": caps.audio,
                     "image_input": caps.image_input, "needs_public_url": caps.needs_public_url,
                     "result_url_lifetime": caps.url_lifetime, "retired": caps.retired,
                     "model_specs": [m for m in models if str(m["model"]).startswith(f"{name}:")]})
    if as_json:
        print(json.dumps(rows, indent=2))
        raise typer.Exit(0)
    table = RichTable("provider", "credentials", "durations", "aspects", "prompt", "$/s", "notes")
    for row in rows:
        notes = []
        if row["needs_public_url"]:
            notes.append("needs a public image URL")
        if row["avatar"]:
            notes.append("avatar")
        if row["camera_control"]:
            notes.append("camera control")
        if row["retired"]:
            notes.insert(0, f"[red]retired {row['retired']}[/]: {CAPABILITIES[row['name']].retired_reason}")
        durations = row["durations_s"]
        price = ", ".join(f"{k} {v:g}" for k, v in row["price_per_second_usd"].items())
        table.add_row(row["name"], "[green]set[/]" if row["configured"] else f"[yellow]missing[/] {' '.join(row['env'])}",
                      f"{durations[0]:g}-{durations[-1]:g}s" if len(durations) > 3 else ",".join(f"{d:g}" for d in durations),
                      ",".join(row["aspect_ratios"]), str(row["max_prompt_chars"]),
                      price + ("" if row["price_confirmed"] else " (default)"), "; ".join(notes))
    console.print(table)
    per_model = RichTable("provider:model", "durations", "audio", "$/s", "notes", title="models (--provider P:MODEL)")
    for m in models:
        prices = m["price_per_second_usd"]
        price = ", ".join(f"{k} {v:g}" for k, v in prices.items()) if isinstance(prices, dict) else ""
        per_model.add_row(str(m["model"]), str(m["durations"]), "yes" if m["audio"] else "-",
                          price + ("" if m["price_confirmed"] else " (estimate)"), "; ".join(map(str, m["notes"]))
                          if isinstance(m["notes"], list) else "")
    console.print(per_model)
    raise typer.Exit(0)


@app.command("fake-provider")
def fake_provider(
    name: Annotated[str, typer.Argument(help="kling, fal, replicate, runway, veo, minimax or luma")],
    port: Annotated[int, typer.Option(help="port on 127.0.0.1")] = 8765,
    faults: Annotated[str, typer.Option(help="e.g. 5xx=0.2,429=0.1,timeout=0.05,fail=0.03,moderated=0.02,"
                                             "out_of_credit=0.01,drop_response=0.02; content=hue (what the clips "
                                             "show, for the QA gate: providers/fake/content.py)")] = "",
    latency: Annotated[float, typer.Option(help="seconds a job takes")] = 3.0,
) -> None:
    """Serve a contract-faithful fake of a provider on loopback, so a run needs no account."""
    from skureel.providers.fake.common import parse_faults
    from skureel.providers.fake.server import FAKE_CREDENTIALS, serve

    if name not in FAKE_CREDENTIALS:
        fail(f"no fake for {name!r}; choose from {', '.join(FAKE_CREDENTIALS)}")
    try:
        parse_faults(faults)
    except ValueError as exc:
        fail(str(exc))
    env = " ".join(f"{k}={v}" for k, v in FAKE_CREDENTIALS[name].items())
    console.print(f"fake {name} on http://127.0.0.1:{port}; point skureel at it with:\n"
                  f"  SKUREEL_{name.upper()}_BASE_URL=http://127.0.0.1:{port} {env} skureel run ... --provider {name}",
                  highlight=False)
    serve(name, port, faults, latency)


# Sub-commands that live in their own modules (skureel.commands.*), one registration line each; those modules
# keep heavy imports inside their functions so `skureel --help` stays fast.
app.command()(run)
app.add_typer(cluster_app, name="cluster")
app.add_typer(studio_app, name="studio")
app.command("qa")(qa)
app.command("publish")(publish)
app.command("targets")(targets)
app.command("fake-target")(fake_target)
app.command("compare")(compare)


def main() -> None:
    try:
        app()
    except SkureelError as exc:  # any deliberate error that escaped a command
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)
    except ValidationError as exc:  # a SKUREEL_* setting that does not parse
        first = exc.errors()[0]
        name = "SKUREEL_" + "_".join(str(p) for p in first["loc"]).upper()
        err.print(f"[bold red]error:[/] {escape(name)}: {escape(first['msg'])}", highlight=False)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - a bug or an outage, not the user's input: keep the details, say one line
        import traceback

        from skureel.domain import plain_error

        report = run_command.current_log or error_log()
        try:
            report.parent.mkdir(parents=True, exist_ok=True)
            with report.open("a", encoding="utf-8") as fh:
                fh.write(traceback.format_exc())
        except OSError:
            report = Path("(could not write the log)")
        err.print(f"[bold red]error:[/] {escape(plain_error(exc))} (details: {report})", highlight=False)
        sys.exit(1)


