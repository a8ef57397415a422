"""Soak: 500 SKUs through each fake provider (and model) with a fault mix, scaled-down latency and an account
that runs out of credit.

Credit is an account state, as vendors keep it: the fake account covers a set number of paid jobs (60% of the
SKUs), then refuses every create as out of credit, which stops that provider for the run; the account is then
topped up and the catalog rerun on the same ledger, which reuses every clip already paid for and buys the rest.

Prints, per provider and pass: SKUs done, reported (non-retryable, with reasons), paid submissions on the fake
beside the distinct contents it was paid for (never one paid twice, unless its generation failed first; Kling
counts our external ids, the other fakes, which take no id of ours, a digest of each create's body and photo),
and wall time beside the ideal for the jobs the vendor actually ran (paid jobs / concurrency x latency, the paid
jobs counted on the fake in this pass). Aim: wall <= 1.2x that ideal on every fake. Each fake runs in its own
process (providers/fake/process.py), so the client's CPU (printed beside the fake's) is all this process spends.
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
from skureel.pipeline.hosted import Budget, HostedContext, HostedResult, generate_shot, image_payload
from skureel.pipeline.work import ShotWork
from skureel.planning import load_vocabulary, plan_product
from skureel.prompts import render_prompt
from skureel.providers.capabilities import capabilities, model_caps
from skureel.providers.fake.process import FakeConfig, FakeProcess
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
    cpu: float  # the client's CPU seconds (the fake runs in its own process)


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


def _idle(spans: list[tuple[float, float]], began: float, ended: float, slots: int) -> str:
    """Where the pass's slots sat idle, in slot-seconds: before its first job, between jobs, after its last."""
    mine = sorted((c, min(r, ended)) for c, r in spans if began <= c <= ended)
    if not mine:
        return "no jobs"
    events = sorted([(c, 1) for c, _ in mine] + [(r, -1) for _, r in mine])
    running, now, between = 0, mine[0][0], 0.0
    for moment, change in events:
        between += (moment - now) * max(0, slots - running)
        running, now = running + change, moment
    return (f"slots idle {(mine[0][0] - began) * slots:.1f} slot-s before the first job, {between:.1f} between jobs, "
            f"{(ended - now) * slots:.1f} after the last")


async def soak(entry: str, skus: int, latency: float, folder: Path, credit_share: float) -> list[str]:
    name, _, model = entry.partition(":")
    kit = load_brand_kit(ROOT / "brand_kits" / "aurora")
    vocab = load_vocabulary()
    image = ROOT / "catalogs" / "sample" / "images" / "mug.png"
    hero = prepare(ImageCache(Settings(cache_dir=folder / "cache")).load(str(image)))
    concurrency = max(1, capabilities(name).max_concurrency)
    tag = entry.replace(":", "-")
    lines: list[str] = []
    # the fake in its own process: the client is then the only code measured in this one; one tiny clip for every
    # job, made before the clock starts, since the soak measures the orchestration, not the fake encoding videos;
    # its hung creates and its Retry-After last one latency, scaled down with it (a fixed 1 s would be five jobs)
    config = FakeConfig(name=name, faults=FAULTS, latency_s=latency, concurrency=concurrency, seed=3,
                        clip_seconds=0.2, timeout_s=latency, credit=int(skus * credit_share), tiny_clips=True,
                        retry_after_s=latency)
    with FakeProcess(config) as fake:
        os.environ[f"SKUREEL_{name.upper()}_BASE_URL"] = fake.url
        os.environ.update(fake.credentials)
        ledger = Ledger(f"sqlite:///{folder / f'{tag}.sqlite'}")
        products = [Product(key=f"k{i}", sku=f"SOAK-{i}", title=f"Stoneware Mug {i}", material="ceramic",
                            category="Home", images=[str(image)]) for i in range(skus)]
        items = []
        for product in products:
            shot = plan_product(product, kit, vocab, provider=name)[0]
            items.append((product, ShotWork(shot=shot, rendered=render_prompt(shot, name, model or None))))
        # the photo made acceptable to the model (pipeline/adapt.py: ~1 s for this 2160 px PNG) before the clock: every
        # SKU here shares it, so the run would pay it once, in pass one's first second, with five slots idle
        image_payload(hero, model_caps(name, items[0][1].rendered.model), kit.colours.background)
        passes: list[Pass] = []
        for label in ("credit runs out", "after a top-up"):
            # the client's clock scaled with the vendor's, as a real run tunes it to its vendor's usual job time: the
            # first poll just before a job can be done (wait_for jitters it by +-20%), then every twentieth of the
            # latency; retries back off from a tenth of it (a real run: 1 s against jobs of a minute or more); a create
            # unanswered after a fifth of it is taken for queued at the vendor (a real run: 15 s)
            ctx = HostedContext(ledger, folder / "cache", kit, budget=Budget(None), poll_first_s=latency * 0.8,
                                poll_max_s=latency / 20, retry_base_s=latency / 10, deadline_s=120,
                                create_grace_s=latency / 5)
            paid_before = len(fake.stats().paid)
            start, cpu_start, fake_start = time.perf_counter(), time.process_time(), fake.cpu_s()
            began = time.monotonic()  # the fake's job times are on this clock too (one machine, CLOCK_MONOTONIC)
            results = await _run(items, hero, entry, ctx)
            ended = time.monotonic()
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
            fake_cpu = fake.cpu_s() - fake_start
            reasons = collections.Counter((r.failure or "").split(":")[1].strip()[:40] for r in results if r.failure)
            run = Pass(done=sum(1 for r in results if r.failure is None), reasons=reasons,
                       paid=len(fake.stats().paid) - paid_before, wall=wall, cpu=cpu)
            passes.append(run)
            ideal = max(run.paid, 1) / concurrency * latency
            lines.append(f"{entry:22} {label:16} done {run.done}/{skus}, reported {skus - run.done} "
                         f"{dict(reasons.most_common(3))}; paid {run.paid} jobs; wall {wall:.1f}s (cpu client "
                         f"{cpu:.1f}s, fake {fake_cpu:.1f}s, load {os.getloadavg()[0]:.1f}) vs ideal {ideal:.1f}s "
                         f"= {wall / ideal:.2f}x (aim <= {AIM}x); {_idle(fake.stats().spans, began, ended, concurrency)}")
            fake.set_credit(None)  # topped up: unlimited from here on
        stats = fake.stats()
        paid, known = len(stats.paid), _reached(ledger)
        # a key is bought again only when the vendor ran it and the generation failed (no clip came of it)
        failed = {_content_key(k) for k in stats.failed}
        bought = collections.Counter(_content_key(k) for k in stats.paid)
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
