"""Soak: 500 SKUs through each fake provider with a fault mix and scaled-down latency.

Prints, per provider: completed, reported (non-retryable, with reasons), paid submissions on the fake server
beside the distinct content keys that reached it, and wall time beside the ideal (SKUs / concurrency x latency).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import tempfile
import time
from pathlib import Path

from skureel.catalog.brandkit import load_brand_kit
from skureel.catalog.images import ImageCache
from skureel.domain import Product
from skureel.ledger import Ledger
from skureel.pipeline.hosted import Budget, HostedContext, generate_shot
from skureel.pipeline.work import ShotWork
from skureel.planning import load_vocabulary, plan_product
from skureel.prompts import render_prompt
from skureel.providers.capabilities import capabilities
from skureel.providers.fake.server import FakeServer
from skureel.render.compose import prepare
from skureel.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
FAULTS = "5xx=0.2,429=0.1,timeout=0.05,fail=0.03,moderated=0.02,out_of_credit=0.01,drop_response=0.02"


async def soak(name: str, skus: int, latency: float, folder: Path) -> str:
    import os

    kit = load_brand_kit(ROOT / "brand_kits" / "aurora")
    vocab = load_vocabulary()
    image = ROOT / "catalogs" / "sample" / "images" / "mug.png"
    hero = prepare(ImageCache(Settings(cache_dir=folder / "cache")).load(str(image)))
    concurrency = max(1, capabilities(name).max_concurrency)
    with FakeServer(name, faults=FAULTS, latency_s=latency, concurrency=concurrency, seed=3) as server:
        server.vendor.timeout_s = latency
        os.environ[f"SKUREEL_{name.upper()}_BASE_URL"] = server.url
        os.environ.update(server.credentials)
        ledger = Ledger(f"sqlite:///{folder / f'{name}.sqlite'}")
        ctx = HostedContext(ledger, folder / "cache", kit, budget=Budget(None), poll_first_s=latency / 4,
                            poll_max_s=latency, retry_base_s=latency / 2, deadline_s=120)
        products = [Product(key=f"k{i}", sku=f"SOAK-{i}", title=f"Stoneware Mug {i}", material="ceramic",
                            category="Home", images=[str(image)]) for i in range(skus)]
        items = []
        for product in products:
            shot = plan_product(product, kit, vocab, provider=name)[0]
            items.append((product, ShotWork(shot=shot, rendered=render_prompt(shot, name))))
        start = time.perf_counter()
        try:
            results = await asyncio.gather(*[generate_shot(p, w, hero, [name], ctx) for p, w in items])
        finally:
            await ctx.close()
        wall = time.perf_counter() - start
        done = sum(1 for r in results if r.failure is None)
        reasons = collections.Counter((r.failure or "").split(":")[1].strip()[:40] for r in results if r.failure)
        with ledger.engine.connect() as conn:
            from sqlalchemy import text

            # content keys the vendor created a job for: a job id came back, or the answer was lost (unknown)
            reached = conn.execute(text("SELECT count(*) FROM jobs WHERE provider_job_id IS NOT NULL "
                                        "OR state = 'unknown'")).scalar()
        paid = len(server.vendor.paid)
        ideal = skus / concurrency * latency
        return (f"{name:9} done {done}/{skus}, reported {skus - done} {dict(reasons.most_common(4))}; paid {paid} "
                f"= distinct keys that reached the vendor {reached}: {'OK' if paid == reached else 'MISMATCH'}; "
                f"wall {wall:.1f}s vs ideal {ideal:.1f}s = {wall / ideal:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skus", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--providers", default="kling,fal,replicate,runway,veo,minimax,luma")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for name in args.providers.split(","):
            print(asyncio.run(soak(name, args.skus, args.latency, Path(folder))), flush=True)


if __name__ == "__main__":
    main()
