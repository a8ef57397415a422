"""Bases per aspect family: which generated base clip each social format is composed from.

`one`: one base per shot, reframed into every format (the shot's aspect: 9:16, 16:9 or 1:1 for a mix).
`per-family`: a native 9:16 base for the vertical formats (9x16, 2x3) and a native 16:9 base for the horizontal
one (16x9); 1x1 and 4x5 are composed from whichever base keeps the product whole (nearest aspect first).

The default rule (`choose_bases`): `per-family` only when the formats asked for span both families and a budget
(`--max-spend`) was given that covers the per-family cost; otherwise `one`. Without a budget the plan never doubles
the spend unasked; a single family needs no second base. The base's aspect is the shot's `aspect_ratio`, which is
part of the content key, so each base is paid once and reused on reruns.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Literal

from skureel.domain import UnusableInput

Bases = Literal["one", "per-family"]
Family = Literal["vertical", "horizontal"]
BASES: tuple[str, ...] = ("one", "per-family")

OWN: dict[Family, frozenset[str]] = {"vertical": frozenset({"9x16", "2x3"}), "horizontal": frozenset({"16x9"})}
ASPECT: dict[Family, str] = {"vertical": "9:16", "horizontal": "16:9"}
FLEX = frozenset({"1x1", "4x5"})  # composed from either base
Box = tuple[float, float, float, float]  # the product's box as fractions of the base frame


def ratio(aspect: str) -> float:
    """'9:16' or '9x16' -> width / height."""
    w, _, h = aspect.replace("x", ":").partition(":")
    return float(w) / float(h)


def families(formats: Iterable[str]) -> list[Family]:
    """The families a format set needs, vertical first; flex formats alone go on a vertical base."""
    wanted = set(formats)
    found: list[Family] = [f for f in ("vertical", "horizontal") if wanted & OWN[f]]
    return found or ["vertical"]


def needs_two(formats: Iterable[str]) -> bool:
    return len(families(formats)) > 1


def choose_bases(requested: str | None, *, split: bool, per_family_usd: float, max_spend: float | None) -> Bases:
    """The explicit choice, else the default rule of this module's docstring."""
    if requested is not None:
        if requested not in BASES:
            raise UnusableInput(f"--bases must be one or per-family, not {requested!r}")
        return requested  # type: ignore[return-value]
    if split and max_spend is not None and per_family_usd <= max_spend + 1e-9:
        return "per-family"
    return "one"


def keeps_whole(box: Box | None, base_aspect: float, target_aspect: float, margin: float = 0.02) -> bool:
    """Whether the largest crop of the target aspect inside the base, centred on the product, holds all of it."""
    if box is None:
        return False
    x0, y0, x1, y1 = box
    if target_aspect <= base_aspect:  # full height, narrower: the crop's width as a fraction of the base's
        width, height = target_aspect / base_aspect, 1.0
    else:
        width, height = 1.0, base_aspect / target_aspect
    cx = min(max((x0 + x1) / 2, width / 2), 1 - width / 2)
    cy = min(max((y0 + y1) / 2, height / 2), 1 - height / 2)
    return (x0 - margin >= cx - width / 2 - 1e-9 and x1 + margin <= cx + width / 2 + 1e-9
            and y0 - margin >= cy - height / 2 - 1e-9 and y1 + margin <= cy + height / 2 + 1e-9)


def flex_family(fmt: str, present: Mapping[Family, Box | None]) -> Family:
    """The base a 1x1 or 4x5 is composed from: among the bases made, those that keep the product whole, the
    nearest in aspect (vertical on a tie: mobile first); when none keeps it whole, simply the nearest."""
    target = ratio(fmt)
    order = sorted(present, key=lambda f: (abs(math.log(ratio(ASPECT[f]) / target)), f != "vertical"))
    whole = [f for f in order if keeps_whole(present[f], ratio(ASPECT[f]), target)]
    return (whole or order)[0]


def formats_for(family: Family, formats: Iterable[str], present: Mapping[Family, Box | None]) -> list[str]:
    """The formats the base of `family` composes, given the bases this shot has (family -> product box)."""
    out: list[str] = []
    for fmt in formats:
        if fmt in FLEX:
            if family in present and flex_family(fmt, present) == family:
                out.append(fmt)
        elif fmt in OWN[family]:
            out.append(fmt)
    return out
