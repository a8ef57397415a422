"""What every sub-command shares: the consoles, the one-line failure, option parsing."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

from skureel.domain import UnusableInput

console = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def provider_list(text: str) -> list[str]:
    """`kling:kling-v3-omni,veo,local`: providers, each optionally pinned to a model, checked against capabilities."""
    from skureel.providers.capabilities import parse_chain

    try:
        return [str(choice) for choice in parse_chain(text)]
    except UnusableInput as exc:
        fail(str(exc))


def format_list(text: str) -> list[str]:
    from skureel.formats import PRESETS

    names = [f.strip().replace(":", "x") for f in text.split(",") if f.strip()]
    unknown = [n for n in names if n not in PRESETS]
    if unknown or not names:
        fail(f"unknown format {', '.join(unknown) or text!r}; choose from {', '.join(PRESETS)}")
    return names
