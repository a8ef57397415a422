"""Several shots of one SKU as one paid generation (Kling 3.0 multi-shot), cut back into one base clip per shot.

Returns None whenever a storyboard does not apply or its job does not deliver, so the caller generates the shots
one by one as before; the storyboard's own content key is paid once and reused on reruns like any other clip.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import av
import numpy as np

from skureel.domain import Product
from skureel.keys import content_key
from skureel.pipeline.hosted import (
    HostedContext,
    HostedResult,
    _references,
    image_payload,
)
from skureel.pipeline.paidjob import BudgetReached, run_on
from skureel.pipeline.work import ShotWork
from skureel.planning.storyboard import storyboard_for
from skureel.providers.base import JobRequest, ProviderError, StoryShot
from skureel.providers.capabilities import model_caps
from skureel.render.audio import RATE, decode_audio
from skureel.render.compose import Prepared
from skureel.render.encode import encode_mp4


async def generate_storyboard(product: Product, items: Sequence[ShotWork], hero: Prepared | None, chain: list[str],
                              ctx: HostedContext, gallery: Sequence[Prepared] = ()) -> list[HostedResult] | None:
    board = storyboard_for([(i.shot, i.rendered) for i in items])
    first = items[0]
    name = first.rendered.provider
    if board is None or not chain or chain[0].partition(":")[0] != name or name in ctx.exhausted:
        return None
    caps = model_caps(name, first.rendered.model)
    total = sum(b.duration_s for b in board)
    rendered = first.rendered.model_copy(update={"duration_s": total,
                                                 "prompt": " ".join(b.prompt for b in board)[:2500]})
    payload = image_payload(hero, caps, ctx.brand.colours.background, first.shot.aspect_ratio if first.family else None)
    digests = [hero.asset.sha256] if hero else []
    if payload and payload.adapted:
        digests.append(payload.digest)
    refs = _references(gallery, hero, caps, ctx.brand.colours.background)
    digests += [digest for digest, _ in refs]
    params = {**rendered.params, "storyboard": [[b.shot_id, b.duration_s] for b in board]}
    key = content_key(first.shot, digests, name, rendered.model, params, ctx.brand, rendered.prompt)
    request = JobRequest(content_key=key, shot=first.shot, rendered=rendered, image=payload.data if payload else None,
                         image_mime="image/jpeg", references=[data for _, data in refs], storyboard=board)
    cost = round(caps.price(str(rendered.params.get("mode", "")) or None, audio=rendered.audio) * total, 4)
    try:
        async with ctx.admission(name):
            clip = await run_on(name, request, cost, payload.box if payload else None, ctx, product.sku)
    except (ProviderError, BudgetReached):
        return None  # shot by shot instead: each then meets the chain, the budget and the error tree on its own
    paths = await asyncio.to_thread(split_clip, Path(clip["path"]), board)
    results: list[HostedResult] = []
    for index, (shot, path) in enumerate(zip(board, paths, strict=True)):
        part = dict(clip)
        part.update(content_key=hashlib.sha256(f"{key}:{shot.shot_id}".encode()).hexdigest()[:40], path=str(path),
                    duration_s=shot.duration_s, cost_usd=round(float(clip["cost_usd"]) * shot.duration_s / total, 4),
                    storyboard=key, product_box=clip["product_box"] if index == 0 else None)  # later shots move on
        results.append(HostedResult(sku=product.sku, shot_id=shot.shot_id, provider=name, clip=part,
                                    notes=[f"{name}: one storyboard of {len(board)} shots"]))
    return results


def split_clip(source: Path, board: Sequence[StoryShot]) -> list[Path]:
    """Cut the storyboard clip at the shots' boundaries (frame-exact, audio with it); existing parts are reused."""
    outs = [source.with_name(f"{source.stem}.{i}.mp4") for i in range(len(board))]
    if all(p.exists() for p in outs):
        return outs
    audio = decode_audio(source)
    with av.open(str(source)) as container:  # one pass, frames streamed into each part in turn (never all in memory)
        stream = container.streams.video[0]
        fps = int(round(float(stream.average_rate or 24)))
        width, height = stream.codec_context.width, stream.codec_context.height
        decoded = ((float(f.time or 0.0), f.to_ndarray(format="rgb24")) for f in container.decode(stream))
        held: list[tuple[float, np.ndarray]] = []
        start = 0.0
        for out, shot in zip(outs, board, strict=True):
            end = start + shot.duration_s

            def part(end: float = end) -> Iterator[np.ndarray]:
                while True:
                    item = held.pop() if held else next(decoded, None)
                    if item is None:
                        return
                    if item[0] >= end - 0.5 / fps:
                        held.append(item)  # the next part's first frame
                        return
                    yield item[1]

            sound = audio[int(start * RATE): int(end * RATE)] if audio is not None else np.zeros((0, 2), np.float32)
            encode_mp4(out, part(), width=width, height=height, fps=fps, audio=sound, quality="draft")
            start = end
    return outs
