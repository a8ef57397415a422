"""The whole planning stage for a catalog: blueprints, rendered prompts, lint findings and cost."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from PIL import Image
from pydantic import BaseModel, Field

from skureel.domain import BrandKit, ImageAsset, LintFinding, Product, ShotSpec
from skureel.planning.blueprint import plan_catalog
from skureel.planning.cost import CostLine, shot_cost, totals
from skureel.planning.lint import lint_shot
from skureel.planning.vocab import load_vocabulary
from skureel.prompts import RenderedPrompt, render_prompt


class PlannedShot(BaseModel):
    shot: ShotSpec
    rendered: RenderedPrompt
    findings: list[LintFinding] = Field(default_factory=list)
    cost: CostLine

    @property
    def blocked(self) -> bool:
        return any(f.severity == "error" for f in self.findings)


class Plan(BaseModel):
    shots: list[PlannedShot]
    per_sku_usd: dict[str, float]
    total_usd: float

    @property
    def errors(self) -> list[LintFinding]:
        return [f for s in self.shots for f in s.findings if f.severity == "error"]


def _local_image_size(ref: str) -> ImageAsset | None:
    """Header-only look at a local image so lint can judge macro shots without decoding or fetching."""
    if "://" in ref:
        return None
    try:
        with Image.open(ref) as img:
            return ImageAsset(source=ref, path=ref, sha256="", fingerprint="", width=img.width, height=img.height,
                              original_format=img.format or "", has_alpha=img.mode in ("RGBA", "LA"))
    except (OSError, ValueError):
        return None


def _facts(product: Product) -> str:
    money = [m for m in (product.price, product.sale_price) if m]
    return " ".join([product.title, product.description, *(str(m.amount) for m in money),
                     *(m.display() for m in money)])


def build_plan(products: Sequence[Product], brand: BrandKit, *, providers: Sequence[str] = ("local",),
               formats: Iterable[str] = ("9x16", "4x5", "1x1", "16x9"), languages: Iterable[str] = (),
               price_overrides: dict[str, float] | None = None) -> Plan:
    vocab = load_vocabulary()
    by_sku = {p.sku: p for p in products}
    provider = providers[0]
    planned: list[PlannedShot] = []
    for shot in plan_catalog(products, brand, vocab, provider=provider, formats=formats, languages=languages):
        product = by_sku[shot.sku]
        rendered = render_prompt(shot)
        hero = _local_image_size(shot.source_images[0]) if shot.source_images else None
        findings = lint_shot(shot, rendered, brand, hero=hero, images_checked=False, facts=_facts(product))
        planned.append(PlannedShot(shot=shot, rendered=rendered, findings=findings,
                                   cost=shot_cost(shot.sku, shot.shot_id, rendered, price_overrides)))
    per_sku, total = totals([p.cost for p in planned])
    return Plan(shots=planned, per_sku_usd=per_sku, total_usd=total)


def describe_path(path: str) -> str:
    return Path(path).name if "://" not in path else path
