"""Cost estimates: price per second from each provider's capabilities (or a configured override)."""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel

from skureel.prompts import RenderedPrompt
from skureel.providers.capabilities import model_caps


class CostLine(BaseModel):
    sku: str
    shot_id: str
    provider: str
    seconds: float
    usd_per_second: float
    usd: float
    confirmed: bool


def shot_cost(sku: str, shot_id: str, rendered: RenderedPrompt, overrides: dict[str, float] | None = None) -> CostLine:
    caps = model_caps(rendered.provider, rendered.model)
    price = (overrides or {}).get(rendered.provider, caps.price(str(rendered.params.get("mode", "")) or None,
                                                                audio=rendered.audio))
    return CostLine(sku=sku, shot_id=shot_id, provider=rendered.provider, seconds=rendered.duration_s,
                    usd_per_second=price, usd=round(price * rendered.duration_s, 4),
                    confirmed=caps.price_confirmed or rendered.provider in (overrides or {}))


def totals(lines: list[CostLine]) -> tuple[dict[str, float], float]:
    per_sku: dict[str, float] = defaultdict(float)
    for line in lines:
        per_sku[line.sku] += line.usd
    return dict(per_sku), round(sum(per_sku.values()), 4)
