"""Planning speed: 10,000 products through blueprints, prompt rendering, lint and cost (aim: under 10 s)."""

from __future__ import annotations

import time
from pathlib import Path

from skureel.catalog.brandkit import load_brand_kit
from skureel.domain import Money, Product
from skureel.planning.plan import build_plan

ROOT = Path(__file__).resolve().parents[1]
MATERIALS = ["100% Baumwolle", "silk", "stainless steel 304", "amber glass", "leather", "cardboard box", "18k gold", ""]
CATEGORIES = ["Apparel > Tops", "Beauty > Skincare", "Home > Kitchen", "Jewellery", "Footwear", "Food > Tea", "Electronics"]


def main() -> None:
    kit = load_brand_kit(ROOT / "brand_kits" / "aurora")
    products = [Product(key=f"p{i}", sku=f"SKU-{i}", title=f"Product number {i}", category=CATEGORIES[i % 7],
                        material=MATERIALS[i % 8], color="navy", price=Money(amount=19 + i % 50, currency="USD"),
                        images=[f"https://cdn.example.com/{i}.jpg"]) for i in range(10_000)]
    build_plan(products[:50], kit)  # warm caches (templates, vocabularies)
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        plan = build_plan(products, kit, providers=["kling"])
        timings.append(time.perf_counter() - start)
    best = sorted(timings)[1]
    print(f"planned {len(products)} products ({len(plan.shots)} shots, prompts, lint, cost) "
          f"median {best:.2f}s = {len(products) / best:,.0f} products/s (aim: 10,000 in under 10 s)")


if __name__ == "__main__":
    main()
