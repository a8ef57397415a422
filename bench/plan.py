"""Planning speed: 10,000 products through blueprints, prompt rendering, lint and cost (aim: under 10 s of CPU).

Prints wall and CPU per 10,000 products (median of three runs, after a warm-up on 50), the prompt lint's own CPU
over the same shots (its cache emptied first, as in a fresh process), and content keys for a 2,000-row studio
estimate, each beside its aim.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from skureel.catalog.brandkit import load_brand_kit
from skureel.domain import Money, Product
from skureel.keys import content_key
from skureel.planning import load_vocabulary, promptlint
from skureel.planning.blueprint import rigid_product
from skureel.planning.plan import build_plan

ROOT = Path(__file__).resolve().parents[1]
MATERIALS = ["100% Baumwolle", "silk", "stainless steel 304", "amber glass", "leather", "cardboard box", "18k gold", ""]
CATEGORIES = ["Apparel > Tops", "Beauty > Skincare", "Home > Kitchen", "Jewellery", "Footwear", "Food > Tea", "Electronics"]
AIM_CPU_S = 10.0  # per 10,000 products
AIM_LINT_SHARE = 0.10  # the prompt lint's part of planning
AIM_KEYS_S = 0.2  # content keys for 2,000 rows (a studio estimate)


def main() -> None:
    kit = load_brand_kit(ROOT / "brand_kits" / "aurora")
    products = [Product(key=f"p{i}", sku=f"SKU-{i}", title=f"Product number {i}", category=CATEGORIES[i % 7],
                        material=MATERIALS[i % 8], color="navy", price=Money(amount=19 + i % 50, currency="USD"),
                        images=[f"https://cdn.example.com/{i}.jpg"]) for i in range(10_000)]
    build_plan(products[:50], kit)  # warm caches (templates, vocabularies)
    walls, cpus = [], []
    for _ in range(3):
        start, cpu = time.perf_counter(), time.process_time()
        plan = build_plan(products, kit, providers=["kling"])
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    scale = 10_000 / len(products)
    print(f"planned {len(products)} products ({len(plan.shots)} shots, prompts, lint, cost) median {wall:.2f}s = "
          f"{len(products) / wall:,.0f} products/s (aim: 10,000 in under 10 s)")

    promptlint.clear_cache()  # what one planning run in a fresh process pays for the lint
    vocab = load_vocabulary()
    rigid = {p.sku: rigid_product(p, vocab) for p in products}  # as planning decides it
    start_lint = time.process_time()
    for item in plan.shots:
        promptlint.lint_prompt(item.shot, item.rendered, rigid=rigid[item.shot.sku])
    lint = time.process_time() - start_lint
    print(f"planning CPU per 10,000 products: {cpu * scale:.2f}s (aim: under {AIM_CPU_S:g} s) "
          f"{'OK' if cpu * scale < AIM_CPU_S else 'MISSED'}; of it the prompt lint {lint * scale:.2f}s = "
          f"{lint / cpu:.0%} (aim: at most {AIM_LINT_SHARE:.0%}) {'OK' if lint / cpu <= AIM_LINT_SHARE else 'MISSED'}")

    rows = plan.shots[:2000]
    start_keys = time.process_time()
    for item in rows:
        content_key(item.shot, ["0" * 64], item.rendered.provider, item.rendered.model, item.rendered.params, kit,
                    item.rendered.prompt)
    keys = time.process_time() - start_keys
    print(f"content keys for {len(rows)} rows (a studio estimate): {keys:.3f}s CPU (aim: under {AIM_KEYS_S:g} s) "
          f"{'OK' if keys < AIM_KEYS_S else 'MISSED'}")


if __name__ == "__main__":
    main()
