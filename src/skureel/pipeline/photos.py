"""A SKU's photos, loaded, checked and cut out once: the hero, the reference gallery and the reasons for the rest."""

from __future__ import annotations

from dataclasses import dataclass, field

from skureel.catalog.images import ImageCache, ImageProblem, describe
from skureel.domain import Product
from skureel.imageio import fitness
from skureel.render.compose import Prepared, choose_hero, prepare


@dataclass
class Photos:
    hero: Prepared | None
    gallery: list[Prepared]  # usable photos, best packshot first (the hero leads), for models that take references
    notes: list[str] = field(default_factory=list)  # why the others were not used, in words


def load_photos(product: Product, cache: ImageCache, *, hosted: bool) -> Photos:
    """Photos that decode and suit the provider (checked before the cut-out, so no CPU goes to a bad one)."""
    prepared: list[Prepared] = []
    notes: list[str] = []
    for ref in product.images:
        try:
            asset = cache.load(product.resolve_image(ref))
        except ImageProblem as exc:
            notes.append(str(exc))
            continue
        unfit = fitness(asset.width, asset.height, hosted=hosted)
        if unfit:
            notes.append(f"{describe(asset.source)}: {unfit}")
            continue
        prepared.append(prepare(asset))
    hero, placeholders = choose_hero(prepared)
    usable = [p for p in prepared if p.cutout.mode != "placeholder"]
    gallery = sorted(usable, key=lambda p: (-p.cutout.packshot_score, prepared.index(p)))
    if hero is not None:  # an opening package shows the next-best photo inside (render/compose.inside_photo)
        hero.second = next((p for p in gallery if p is not hero), None)
    return Photos(hero=hero, gallery=gallery, notes=notes + placeholders)
