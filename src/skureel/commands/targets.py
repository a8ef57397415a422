"""`skureel targets [--json]`: the publish targets, which are configured, and from where (never secret values)."""

from __future__ import annotations

from typing import Annotated

import typer

_ENV = {"cloudinary": ["CLOUDINARY_URL"], "shopify": ["SHOPIFY_STORE_DOMAIN", "SHOPIFY_ACCESS_TOKEN"],
        "bynder": ["BYNDER_DOMAIN", "BYNDER_CLIENT_ID", "BYNDER_CLIENT_SECRET"],
        "webhook": ["SKUREEL_WEBHOOK_URL", "SKUREEL_WEBHOOK_SECRET"], "folder": [], "fsspec": []}


def targets(
    brand: Annotated[str | None, typer.Option(help="brand kit folder (reads its targets.yaml)")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Every target, whether it is ready to use, and what is missing."""
    import json
    import os

    from rich.table import Table as RichTable

    from skureel.commands.common import console, fail
    from skureel.publish.targets.base import TargetError
    from skureel.publish.targets.config import load_targets, options_for
    from skureel.publish.targets.registry import build, known_implementations

    try:
        config = load_targets(brand)
    except TargetError as exc:
        fail(str(exc))
    rows: list[dict[str, object]] = []
    for name in known_implementations:
        try:
            build(name, options_for(name, config))
            problem = ""
        except TargetError as exc:
            problem = str(exc)
        env = _ENV.get(name, [])
        base = f"SKUREEL_{name.upper()}_BASE_URL"
        rows.append({"name": name, "configured": not problem, "problem": problem, "env": env,
                     "env_set": [k for k in env if os.environ.get(k)], "in_targets_yaml": name in config.targets,
                     "default": name in config.default, "base_url_override": bool(os.environ.get(base))})
    if as_json:
        print(json.dumps(rows, indent=2))
        raise typer.Exit(0)
    table = RichTable("target", "ready", "credentials (environment)", "targets.yaml", "notes")
    for row in rows:
        notes = "default" if row["default"] else ""
        if row["base_url_override"]:
            notes += " base URL overridden"
        table.add_row(str(row["name"]), "[green]yes[/]" if row["configured"] else "[yellow]no[/]",
                      " ".join(row["env"]) or "-",  # type: ignore[arg-type]
                      "yes" if row["in_targets_yaml"] else "-", (notes.strip() or str(row["problem"]))[:90])
    console.print(table)
    raise typer.Exit(0)
