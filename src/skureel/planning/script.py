"""Avatar scripts: the row's own, or one written from the product's facts in the brand's tone."""

from __future__ import annotations

import re

from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from skureel.domain import BrandKit, Product
from skureel.paths import templates_dir

WORDS_PER_SECOND = 2.5


def benefits(description: str, limit: int = 2) -> list[str]:
    """The first short sentences or bullet points of the description."""
    parts = [p.strip(" -•*") for p in re.split(r"(?<=[.!?])\s+|\n", description) if p.strip(" -•*")]
    short = [p.rstrip(".") for p in parts if 2 <= len(p.split()) <= 18]
    return short[:limit]


def script_for(product: Product, brand: BrandKit, language: str | None = None) -> str:
    if language and language in product.video.scripts:
        return product.video.scripts[language]
    if product.video.script:
        return product.video.script
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True)
    template = env.from_string((templates_dir() / "prompts" / "avatar_script.j2").read_text(encoding="utf-8"))
    price = product.sale_price or product.price
    text = template.render(
        title=product.title, benefits=benefits(product.description), price=price.display() if price else None,
        call_to_action=brand.end_card.call_to_action, tone=brand.tone[0] if brand.tone else "friendly",
    )
    return re.sub(r"\s+", " ", text).strip()
