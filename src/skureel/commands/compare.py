"""`skureel compare CATALOG --brand KIT --sku SKU --models kling:kling-v3-omni,veo,local [--seeds 2]`: one blueprint
across models, versions and seeds, written as a side-by-side sheet (synchronised players) and a CSV.

Every variant is a content key like any run's clip: paid once, reused on reruns (zero new paid jobs).
"""

from __future__ import annotations

import asyncio
import csv
import html
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import BaseModel

if TYPE_CHECKING:
    from skureel.catalog.images import ImageCache
    from skureel.domain import BrandKit, Product, ShotSpec
    from skureel.pipeline.hosted import HostedContext
    from skureel.pipeline.picks import Pick
    from skureel.render.compose import Prepared


class Variant(BaseModel):
    model: str  # provider:model
    seed: int
    clip: str = ""  # file name inside the sheet's folder
    cost_usd: float = 0.0
    seconds: float = 0.0  # to generate (0 when reused)
    reused: bool = False
    qa_score: float | None = None
    failure: str = ""
    content_key: str = ""  # the paid clip's, so a pick can be reused by `skureel run --seed-from compare`


def compare(
    catalog: Annotated[Path, typer.Argument(help="catalog file")],
    brand: Annotated[Path, typer.Option(help="brand kit folder")],
    sku: Annotated[str, typer.Option(help="the SKU to compare on")],
    models: Annotated[str, typer.Option(help="provider[:model] list, e.g. kling:kling-v3-omni,veo,local")] = "local",
    seeds: Annotated[int, typer.Option(min=1, max=8, help="seeds per model")] = 1,
    out: Annotated[Path, typer.Option(help="folder for the sheet")] = Path("out/compare"),
    quality: Annotated[str, typer.Option(help="final or draft (picks the model when none is pinned)")] = "final",
    max_spend: Annotated[float | None, typer.Option(help="stop paying past this many USD")] = None,
    qa: Annotated[bool, typer.Option(help="score each variant with the QA gate against the hero photo")] = True,
    pick: Annotated[str | None, typer.Option(help="record the winner instead of comparing: its row in compare.csv "
                                                  "(1 = first) or provider:model@seed; used by `skureel run "
                                                  "--seed-from compare`")] = None,
) -> None:
    """Writes OUT/<sku>/index.html (players in step) and compare.csv; exit 1 when a variant failed. With --pick,
    writes OUT/<sku>/pick.json from an earlier sheet and generates nothing."""
    from rich.console import Console
    from rich.table import Table

    from skureel.catalog import ingest
    from skureel.catalog.brandkit import load_brand_kit
    from skureel.domain import SkureelError
    from skureel.providers.capabilities import parse_chain

    err = Console(stderr=True)
    try:
        chain = parse_chain(models)
        kit = load_brand_kit(brand)
        product = next((p for p in ingest(catalog).products if sku in (p.sku, p.key)), None)
        if product is None:
            raise typer.BadParameter(f"SKU {sku!r} is not in {catalog.name}")
        if pick is not None:
            chosen = record_pick(product.sku, out, pick)
            Console().print(f"picked {chosen.model} seed {chosen.seed} for {product.sku}: "
                            f"`skureel run --seed-from compare={out}` uses it", highlight=False)
            raise typer.Exit(0)
        variants = asyncio.run(run_compare(product, kit, [str(c) for c in chain], seeds, out, quality, max_spend, qa))
    except (SkureelError, typer.BadParameter) as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    table = Table("model", "seed", "usd", "s", "reused", "qa", "clip / failure", title=f"compare {sku}")
    for v in variants:
        table.add_row(v.model, str(v.seed), f"{v.cost_usd:.2f}", f"{v.seconds:.1f}", "yes" if v.reused else "",
                      "" if v.qa_score is None else f"{v.qa_score:g}", v.clip or f"[red]{v.failure}[/]")
    Console().print(table)
    raise typer.Exit(1 if any(v.failure for v in variants) else 0)


async def run_compare(product: Product, kit: BrandKit, chain: list[str], seeds: int, out: Path, quality: str,
                      max_spend: float | None, qa: bool) -> list[Variant]:
    from skureel.catalog.images import ImageCache
    from skureel.ledger import Ledger
    from skureel.naming import sku_key
    from skureel.pipeline.hosted import Budget, HostedContext, load_gallery
    from skureel.planning import load_vocabulary, plan_product
    from skureel.settings import load_settings

    settings = load_settings()
    cache = ImageCache(settings)
    gallery = await asyncio.to_thread(load_gallery, product, cache)
    hero = gallery[0] if gallery else None
    folder = out / sku_key(product.sku)
    folder.mkdir(parents=True, exist_ok=True)
    ledger = Ledger.for_output(str(out), settings.cache_dir, settings.ledger_url)
    ctx = HostedContext(ledger, settings.cache_dir, kit, budget=Budget(max_spend), quality=quality)
    base = plan_product(product, kit, load_vocabulary(), provider="local", formats=["9x16"])[0]  # the one blueprint
    before = {p.name for p in (settings.cache_dir / "clips").glob("*.mp4")}
    try:
        jobs = [_variant(product, base.model_copy(update={"provider": entry.partition(":")[0], "seed": base.seed + i}),
                         entry, hero, gallery, ctx, folder, before, cache)
                for entry in chain for i in range(seeds)]
        variants = list(await asyncio.gather(*jobs))
    finally:
        await ctx.close()
    if qa and hero is not None:
        await asyncio.to_thread(_score, variants, folder, Path(hero.asset.path))
    write_sheet(folder, product.title, variants)
    return variants


async def _variant(product: Product, shot: ShotSpec, entry: str, hero: Prepared | None, gallery: list[Prepared],
                   ctx: HostedContext, folder: Path, before: set[str], cache: ImageCache) -> Variant:
    from skureel.naming import key
    from skureel.pipeline.hosted import generate_shot
    from skureel.pipeline.work import ShotWork
    from skureel.prompts import render_prompt
    from skureel.providers.capabilities import parse_choice, tier_model

    choice = parse_choice(entry)
    model = choice.model or tier_model(choice.provider, ctx.quality, len(gallery))
    variant = Variant(model=f"{choice.provider}:{model}", seed=shot.seed)
    name = key(f"{choice.provider}-{model}-seed{shot.seed}", "variant") + ".mp4"
    start = time.perf_counter()
    if choice.provider == "local":
        if hero is None:
            variant.failure = "no usable product image"
            return variant
        target = folder / name
        if not target.exists():
            await asyncio.to_thread(_render_local, shot, hero, ctx.brand, target)
        else:
            variant.reused = True
        variant.clip, variant.seconds = name, 0.0 if variant.reused else time.perf_counter() - start
        return variant
    rendered = render_prompt(shot, choice.provider, model)
    result = await generate_shot(product, ShotWork(shot=shot, rendered=rendered), hero, [entry], ctx, gallery=gallery)
    if result.clip is None:
        variant.failure = result.failure or "; ".join(result.notes) or "not generated"
        return variant
    source = Path(result.clip["path"])
    variant.reused = source.name in before
    variant.seconds = 0.0 if variant.reused else round(time.perf_counter() - start, 2)
    variant.cost_usd = float(result.clip.get("cost_usd") or 0.0)
    variant.content_key = str(result.clip["content_key"])
    shutil.copyfile(source, folder / name)
    variant.clip = name
    return variant


def record_pick(sku: str, out: Path, choice: str) -> Pick:
    """The chosen row of OUT/<sku>/compare.csv, with the compare ledger's record of its paid clip, as pick.json."""
    from skureel.domain import UnusableInput
    from skureel.ledger import Ledger
    from skureel.naming import sku_key
    from skureel.pipeline.picks import PICK_FILE, Pick
    from skureel.settings import load_settings

    folder = out / sku_key(sku)
    sheet = folder / "compare.csv"
    if not sheet.is_file():
        raise UnusableInput(f"{sheet}: no comparison yet; run `skureel compare` for {sku!r} first")
    with sheet.open(encoding="utf-8", newline="") as handle:
        rows = [Variant.model_validate({k: v for k, v in r.items() if v != "" or k in ("clip", "failure")})
                for r in csv.DictReader(handle)]
    model, _, seed = choice.rpartition("@")
    found = [v for v in rows if (v.model, str(v.seed)) == (model, seed)] if model else \
        rows[int(choice) - 1: int(choice)] if choice.isdigit() and int(choice) >= 1 else []
    if not found:
        raise UnusableInput(f"--pick {choice!r}: give a row number 1-{len(rows)} or provider:model@seed from {sheet.name}")
    variant = found[0]
    if not variant.clip:
        raise UnusableInput(f"--pick {choice!r}: that variant failed ({variant.failure}); pick one that made a clip")
    settings = load_settings()
    row = Ledger.for_output(str(out), settings.cache_dir, settings.ledger_url).job(variant.content_key) \
        if variant.content_key else None
    chosen = Pick(sku=sku, model=variant.model, seed=variant.seed, content_key=variant.content_key,
                  cost_usd=variant.cost_usd, **({k: str(row[k] or "") for k in ("clip_path", "clip_sha256", "shot_id",
                                                                                 "blueprint_hash")} if row else {}))
    tmp = folder / f".{PICK_FILE}.tmp"
    tmp.write_text(chosen.model_dump_json(indent=2), encoding="utf-8")
    tmp.replace(folder / PICK_FILE)
    return chosen


def _render_local(shot: ShotSpec, hero: Prepared, brand: BrandKit, target: Path) -> None:
    from skureel.render.compose import overlay_text_for, render_local

    render_local(shot, hero, "9x16", brand, overlay_text_for("", None, None, brand), target, quality="draft", check=False)


def _score(variants: list[Variant], folder: Path, photo: Path) -> None:
    """The QA gate's share of passed measures, held against the hero photo (identity, colour, drift, flicker ...)."""
    from skureel.qa import from_image, load_thresholds, score_clip

    limits = load_thresholds(None)
    reference = from_image(photo, limits)
    for v in variants:
        if v.clip:
            v.qa_score = score_clip(folder / v.clip, reference, limits).score


def write_sheet(folder: Path, title: str, variants: list[Variant]) -> None:
    rows: list[dict[str, Any]] = [v.model_dump() for v in variants]
    with (folder / "compare.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(Variant.model_fields))
        writer.writeheader()
        writer.writerows(rows)
    cells = []
    for v in variants:
        media = (f'<video src="{html.escape(v.clip)}" muted playsinline preload="auto"></video>' if v.clip
                 else f'<div class="failed">{html.escape(v.failure)}</div>')
        score = "" if v.qa_score is None else f" &middot; QA {v.qa_score:g}"
        cells.append(f'<figure>{media}<figcaption><b>{html.escape(v.model)}</b> seed {v.seed}<br>'
                     f'${v.cost_usd:.2f} &middot; {v.seconds:.1f} s{" (reused)" if v.reused else ""}{score}'
                     f'</figcaption></figure>')
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>compare: {html.escape(title)}</title>
<style>body{{font:14px system-ui;margin:16px}} main{{display:flex;flex-wrap:wrap;gap:12px}}
figure{{margin:0;width:240px}} video{{width:240px;background:#000}} .failed{{width:240px;height:426px;background:#eee}}
</style></head><body><h1>{html.escape(title)}</h1><p><button id="play">play all</button>
<button id="pause">pause</button> <input id="seek" type="range" min="0" max="1" step="0.001" value="0"></p>
<main>{''.join(cells)}</main>
<script>
// one clock for every player: the first video leads, the others follow it within a frame
const vids = [...document.querySelectorAll('video')];
const lead = vids[0];
document.getElementById('play').onclick = () => vids.forEach(v => v.play());
document.getElementById('pause').onclick = () => vids.forEach(v => v.pause());
document.getElementById('seek').oninput = e => vids.forEach(v => v.currentTime = e.target.value * (lead.duration || 0));
if (lead) lead.ontimeupdate = () => vids.forEach(v => {{
  if (v !== lead && Math.abs(v.currentTime - lead.currentTime) > 0.05) v.currentTime = lead.currentTime; }});
</script></body></html>
"""
    (folder / "index.html").write_text(page, encoding="utf-8")
