"""The whole planning stage for a catalog: blueprints, rendered prompts, lint findings and cost."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from skureel.domain import BrandKit, ImageAsset, LintFinding, Product, ShotSpec, UnusableInput
from skureel.imageio import file_size
from skureel.planning.bases import ASPECT, Bases, Family, choose_bases, families
from skureel.planning.blueprint import plan_catalog, rigid_product
from skureel.planning.cost import CostLine, shot_cost, totals
from skureel.planning.lint import lint_shot
from skureel.planning.motion import with_motion
from skureel.planning.vocab import load_vocabulary
from skureel.prompts import RenderedPrompt, render_prompt
from skureel.providers.capabilities import Choice, parse_chain, parse_choice, tier_model


class PlannedShot(BaseModel):
    shot: ShotSpec
    rendered: RenderedPrompt
    findings: list[LintFinding] = Field(default_factory=list)
    cost: CostLine
    family: Family | None = None  # with --bases per-family: the aspect family whose base this is (planning/bases)

    @property
    def blocked(self) -> bool:
        return any(f.severity == "error" for f in self.findings)


class Plan(BaseModel):
    shots: list[PlannedShot]
    per_sku_usd: dict[str, float]
    total_usd: float
    bases: Bases = "one"
    cost_by_bases: dict[str, float] = Field(default_factory=dict)  # `one` and `per-family`, side by side

    @property
    def errors(self) -> list[LintFinding]:
        return [f for s in self.shots for f in s.findings if f.severity == "error"]


def _local_image_size(ref: str) -> ImageAsset | None:
    """Header-only look at a local image so lint can judge macro shots without decoding or fetching."""
    if "://" in ref:
        return None
    size = file_size(ref)
    if size is None:
        return None
    width, height, kind = size
    return ImageAsset(source=ref, path=ref, sha256="", fingerprint="", width=width, height=height,
                      original_format=kind, has_alpha=False)


def _facts(product: Product) -> str:
    money = [m for m in (product.price, product.sale_price) if m]
    return " ".join([product.title, product.description, *(str(m.amount) for m in money),
                     *(m.display() for m in money)])


def usable_photos(shot: ShotSpec) -> int:
    """Photos a vendor would take (>= 300 px a side, 1:2.5 to 2.5:1), judged from headers; remote ones count."""
    count = 0
    for ref in shot.source_images:
        size = _local_image_size(ref)
        if "://" in ref or (size is not None and min(size.width, size.height) >= 300
                            and 0.4 <= size.width / size.height <= 2.5):
            count += 1
    return count


def choose_model(shot: ShotSpec, chain: Sequence[Choice], quality: str = "final", row: str | None = None) -> str | None:
    """The pinned model (a row's `kling:kling-v3`, then the chain's), else the quality tier's for this shot's
    provider; avatars keep the provider's own avatar model."""
    if shot.kind == "avatar":
        return None
    pinned = []
    if row and ":" in row:
        try:
            pinned.append(parse_choice(row, allow_retired=True))  # a retired row provider is a lint error below
        except UnusableInput:
            pass  # an unknown model on one row: that row plans on the tier's model
    pinned += [c for c in chain if c.provider == shot.provider and c.model]
    if pinned and pinned[0].provider == shot.provider and pinned[0].model:
        return pinned[0].model
    return tier_model(shot.provider, quality, usable_photos(shot))


def build_plan(products: Sequence[Product], brand: BrandKit, *, providers: Sequence[str] = ("local",),
               formats: Iterable[str] = ("9x16", "4x5", "1x1", "16x9"), languages: Iterable[str] = (),
               price_overrides: dict[str, float] | None = None, quality: str = "final",
               bases: str | None = None, max_spend: float | None = None,
               prompts: dict[str, dict[str, str]] | None = None) -> Plan:
    """`bases`: one, per-family or None (the plan chooses: planning/bases.py); `max_spend` only feeds that choice.
    `prompts` replaces shots' rendered prompts ({sku: {shot_id: text}}, edited in the studio): lint judges the
    edited text and hosted content keys hash it, so an edit pays once for the new prompt."""
    formats = tuple(formats)
    vocab = load_vocabulary()
    by_sku = {p.sku: p for p in products}
    chain = parse_chain(list(providers))  # unknown or retired providers and models: one clear line
    planned: list[PlannedShot] = []
    fams: list[list[Family]] = []  # per planned shot: the families a per-family plan makes it in ([] = not split)
    for shot in plan_catalog(products, brand, vocab, provider=chain[0].provider, formats=formats, languages=languages):
        product = by_sku[shot.sku]
        planned.append(_planned(shot, product, brand, chain, quality, price_overrides, prompts=prompts))
        hosted = planned[-1].rendered.provider != "local" and shot.kind != "avatar"
        fams.append(families(product_formats(product, formats)) if hosted else [])
    per_sku, total = totals([p.cost for p in planned])
    one = total
    per_family = round(total + sum(p.cost.usd * (len(f) - 1) for p, f in zip(planned, fams, strict=True) if f), 4)
    mode = choose_bases(bases, split=any(len(f) > 1 for f in fams), per_family_usd=per_family, max_spend=max_spend)
    if mode == "per-family":  # each hosted shot once per family, at that family's native aspect, in plan order
        expanded: list[PlannedShot] = []
        for item, fam_list in zip(planned, fams, strict=True):
            expanded += [_planned(item.shot.model_copy(update={"aspect_ratio": ASPECT[fam]}), by_sku[item.shot.sku],
                                  brand, chain, quality, price_overrides, fam, prompts) for fam in fam_list] or [item]
        planned = expanded
        per_sku, total = totals([p.cost for p in planned])
    return Plan(shots=planned, per_sku_usd=per_sku, total_usd=total, bases=mode,
                cost_by_bases={"one": one, "per-family": per_family})


def product_formats(product: Product, formats: Sequence[str]) -> list[str]:
    """The formats a product is made in: its row's own among those asked for, else all asked for (as the run does)."""
    return [f for f in (product.video.formats or formats) if f in formats] or list(formats)


def _planned(shot: ShotSpec, product: Product, brand: BrandKit, chain: Sequence[Choice], quality: str,
             price_overrides: dict[str, float] | None, family: Family | None = None,
             prompts: dict[str, dict[str, str]] | None = None) -> PlannedShot:
    rendered = render_prompt(shot, model=choose_model(shot, chain, quality, product.video.provider))
    edited = (prompts or {}).get(shot.sku, {}).get(shot.shot_id, "").strip()
    if edited:
        rendered = rendered.model_copy(update={"prompt": edited})
    rendered, motion = with_motion(shot, rendered, brand)  # the kit's motion reference on in-use shots (Kling)
    hero = _local_image_size(shot.source_images[0]) if shot.source_images else None
    findings = lint_shot(shot, rendered, brand, hero=hero, images_checked=False, facts=_facts(product),
                         rigid=rigid_product(product, load_vocabulary())) + ([motion] if motion else [])
    return PlannedShot(shot=shot, rendered=rendered, findings=findings, family=family,
                       cost=shot_cost(shot.sku, shot.shot_id, rendered, price_overrides))


def describe_path(path: str) -> str:
    return Path(path).name if "://" not in path else path
