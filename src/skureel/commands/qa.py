"""`skureel qa CLIP --against IMAGE`: hold one clip against the SKU's photo; exit 0 pass, 1 fail, 2 unusable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def qa(
    clip: Annotated[Path, typer.Argument(help="the generated clip (MP4)")],
    against: Annotated[Path, typer.Option("--against", help="the SKU's photo (or the presenter photo with --avatar)")],
    as_json: Annotated[bool, typer.Option("--json", help="print every measure as JSON")] = False,
    avatar: Annotated[bool, typer.Option(help="an avatar clip: check for the presenter's face, not the packshot")] = False,
    thresholds: Annotated[Path | None, typer.Option(help="thresholds file (default templates/qa.yaml)")] = None,
    kind: Annotated[str, typer.Option(help="the shot's kind: hero, detail, in_use, unboxing or reveal "
                                           "(its overrides in qa.yaml apply)")] = "hero",
) -> None:
    """Identity, colour, label text, lighting drift, flicker, black/frozen frames (and a face for avatars)."""
    from rich.console import Console
    from rich.table import Table

    from skureel.domain import UnusableInput
    from skureel.qa import from_image, load_thresholds, score_clip

    err = Console(stderr=True)
    if kind not in ("hero", "detail", "in_use", "unboxing", "reveal"):
        err.print("[bold red]error:[/] --kind must be hero, detail, in_use, unboxing or reveal", highlight=False)
        raise typer.Exit(2)
    for path, what in ((clip, "clip"), (against, "image")):
        if not path.is_file():
            err.print(f"[bold red]error:[/] {path}: {what} not found", highlight=False)
            raise typer.Exit(2)
    try:
        limits = load_thresholds(thresholds).for_kind("avatar" if avatar else kind)
        reference = from_image(against, limits, avatar=avatar)
        report = score_clip(clip, reference, limits, avatar=avatar)
    except UnusableInput as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    code = 0 if report.passed else 1
    if as_json:
        print(json.dumps(report.summary(), indent=2, ensure_ascii=False))
        raise typer.Exit(code)
    console = Console()
    table = Table("measure", "value", "threshold", "result", "", title=f"{clip.name} against {against.name}")
    for m in report.measures:
        result = "[dim]n/a[/]" if m.passed is None else "[green]pass[/]" if m.passed else "[bold red]FAIL[/]"
        table.add_row(m.name, "" if m.value is None else f"{m.value:g}", m.threshold, result, m.sentence)
    console.print(table)
    verdict = "[green]pass[/]" if report.passed else "[bold red]fail[/]: " + "; ".join(report.reasons)
    console.print(f"{verdict} ({report.frames_sampled} frames, {report.seconds:.2f} s)", highlight=False, soft_wrap=True)
    raise typer.Exit(code)
