"""Soak: 500 SKUs through each fake provider (and model) with a fault mix, scaled-down latency and an account
that runs out of credit.

Credit is an account state, as vendors keep it: the fake account covers a set number of paid jobs (60% of the
SKUs), then refuses every create as out of credit, which stops that provider for the run; the account is then
topped up and the catalog rerun on the same ledger, which reuses every clip already paid for and buys the rest.

Prints, per provider and pass: SKUs done, reported (non-retryable, with reasons), paid submissions on the fake
beside the distinct content keys that reached it (never a key paid twice), and wall time beside the ideal for
the jobs the vendor actually ran (paid jobs / concurrency x latency). Aim: wall <= 1.2x that ideal on every fake.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from skureel.catalog.brandkit import load_brand_kit
from skureel.catalog.images import ImageCache
from skureel.domain import Product
from skureel.ledger import Ledger
from skureel.pipeline.hosted import Budget, HostedContext, HostedResult, generate_shot
from skureel.pipeline.work import ShotWork
from skureel.planning import load_vocabulary, plan_product
from skureel.prompts import render_prompt
from skureel.providers.capabilities import capabilities
from skureel.providers.fake.server import FakeServer
from skureel.render.compose import Prepared, prepare
from skureel.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
# per-request faults; running out of credit is the account's state (FakeVendor.credit), not a coin toss
FAULTS = "5xx=0.2,429=0.1,timeout=0.05,fail=0.03,moderated=0.02,drop_response=0.02"
PROVIDERS = "kling,kling:kling-v3-omni,fal,replicate,runway,veo,minimax,luma"
AIM = 1.2


@dataclass
class Pass:
    done: int
    reasons: collections.Counter[str]
    paid: int  # paid jobs the vendor ran in this pass
    wall: float
    cpu: float  # this process's CPU seconds (client and fake together): wall far above it means a busy machine


def _content_key(external_id: str) -> str:
    """A rebuy of a failed generation goes out as `<key>-p<n>` (vendors refuse one id twice): the same content key."""
    return re.sub(r"-p\d+$", "", external_id)


async def _run(items: list[tuple[Product, ShotWork]], hero: Prepared, entry: str, ctx: HostedContext) -> list[HostedResult]:
    try:
        return await asyncio.gather(*[generate_shot(p, w, hero, [entry], ctx) for p, w in items])
    finally:
        await ctx.close()


def _reached(ledger: Ledger) -> int:
    """Content keys the ledger knows reached the vendor: a job id came back, or the answer was lost (unknown).
    A key whose job failed and was bought again on the rerun counts once, under its new job id."""
    with ledger.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM jobs WHERE provider_job_id IS NOT NULL "
                                     "OR state = 'unknown'")).scalar() or 0)


async def soak(entry: str, skus: int, latency: float, folder: Path, credit_share: float) -> list[str]:
    name, _, model = entry.partition(":")
    kit = load_brand_kit(ROOT / "brand_kits" / "aurora")
    vocab = load_vocabulary()
    image = ROOT / "catalogs" / "sample" / "images" / "mug.png"
    hero = prepare(ImageCache(Settings(cache_dir=folder / "cache")).load(str(image)))
    concurrency = max(1, capabilities(name).max_concurrency)
    tag = entry.replace(":", "-")
    lines: list[str] = []
    # short clips: the soak measures the orchestration, not the fake rendering a video in the same process
    with FakeServer(name, faults=FAULTS, latency_s=latency, concurrency=concurrency, seed=3, clip_seconds=0.2) as server:
        server.vendor.timeout_s = latency
        server.vendor.credit = int(skus * credit_share)
        os.environ[f"SKUREEL_{name.upper()}_BASE_URL"] = server.url
        os.environ.update(server.credentials)
        ledger = Ledger(f"sqlite:///{folder / f'{tag}.sqlite'}")
        products = [Product(key=f"k{i}", sku=f"SOAK-{i}", title=f"Stoneware Mug {i}", material="ceramic",
                            category="Home", images=[str(image)]) for i in range(skus)]
        items = []
        for product in products:
            shot = plan_product(product, kit, vocab, provider=name)[0]
            items.append((product, ShotWork(shot=shot, rendered=render_prompt(shot, name, model or None))))
        passes: list[Pass] = []
        for label in ("credit runs out", "after a top-up"):
            # polls every eighth of the latency: the wait a poll adds is what a real run tunes to its vendor
            ctx = HostedContext(ledger, folder / "cache", kit, budget=Budget(None), poll_first_s=latency / 8,
                                poll_max_s=latency / 8, retry_base_s=latency / 2, deadline_s=120)
            paid_before = len(server.vendor.paid)
            start, cpu_start = time.perf_counter(), time.process_time()
            results = await _run(items, hero, entry, ctx)
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
            reasons = collections.Counter((r.failure or "").split(":")[1].strip()[:40] for r in results if r.failure)
            run = Pass(done=sum(1 for r in results if r.failure is None), reasons=reasons,
                       paid=len(server.vendor.paid) - paid_before, wall=wall, cpu=cpu)
            passes.append(run)
            ideal = max(run.paid, 1) / concurrency * latency
            lines.append(f"{entry:22} {label:16} done {run.done}/{skus}, reported {skus - run.done} "
                         f"{dict(reasons.most_common(3))}; paid {run.paid} jobs; wall {wall:.1f}s (cpu {cpu:.1f}s, "
                         f"load {os.getloadavg()[0]:.1f}) vs ideal {ideal:.1f}s = {wall / ideal:.2f}x (aim <= {AIM}x)")
            server.vendor.top_up()  # unlimited from here on
        paid, known = len(server.vendor.paid), _reached(ledger)
        # a key is bought again only when the vendor ran it and the generation failed (no clip came of it)
        failed = {_content_key(j.key) for j in server.vendor.jobs.values() if j.outcome == "fail" and j.key}
        bought = collections.Counter(_content_key(k) for k in server.vendor.paid)
        repeated = {k for k, n in bought.items() if n > 1}
        twice = len(repeated - failed)
        wall = sum(p.wall for p in passes)
        ideal = max(paid, 1) / concurrency * latency
        lines.append(f"{entry:22} {'both passes':16} done {passes[-1].done}/{skus}; paid {paid} for "
                     f"{len(bought)} keys ({len(repeated & failed)} bought again after a failed "
                     f"generation; the ledger holds a job id for {known}); paid twice otherwise {twice} (aim 0) "
                     f"{'OK' if twice == 0 else 'MISSED'}; wall {wall:.1f}s vs ideal {ideal:.1f}s = {wall / ideal:.2f}x "
                     f"(aim <= {AIM}x) {'OK' if wall / ideal <= AIM else 'MISSED'}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skus", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--credit", type=float, default=0.6, help="share of the SKUs the account pays for at first")
    parser.add_argument("--providers", default=PROVIDERS, help="provider or provider:model entries")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for entry in args.providers.split(","):
            for line in asyncio.run(soak(entry, args.skus, args.latency, Path(folder), args.credit)):
                print(line, flush=True)


if __name__ == "__main__":
    main()
