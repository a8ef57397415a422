"""Which formats each base clip of a shot is composed into (--bases per-family; the rule is planning/bases.py)."""

from __future__ import annotations

from skureel.pipeline.work import ShotWork, SkuWork
from skureel.planning.bases import Box, Family, formats_for


def formats_of(work: SkuWork, item: ShotWork) -> list[str]:
    """All the SKU's formats for a shot with one base; with per-family bases, the family's own formats plus the
    1x1/4x5 it keeps the product whole in best, judged from the product boxes of the bases this shot got."""
    family = _family(item.family)
    if family is None:
        return work.formats
    present: dict[Family, Box | None] = {}
    for other in work.shots:
        other_family = _family(other.family)
        if other.shot.shot_id != item.shot.shot_id or other_family is None:
            continue
        clip = work.hosted_clips.get(other.slot)
        if clip is None and other.rendered.provider != "local":
            continue  # that base failed: the family's own formats are reported, its flex ones move here
        box = clip.get("product_box") if clip else None
        present[other_family] = (float(box[0]), float(box[1]), float(box[2]), float(box[3])) if box else None
    return formats_for(family, work.formats, present)


def _family(value: str | None) -> Family | None:
    return "vertical" if value == "vertical" else "horizontal" if value == "horizontal" else None
