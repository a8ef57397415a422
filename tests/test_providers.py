"""Every adapter over real HTTP against its contract fake on 127.0.0.1: success, faults, pay-once, fallback."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import av
import httpx
import pytest
from tests.conftest import AURORA, ROOT

from skureel.catalog.brandkit import load_brand_kit
from skureel.catalog.images import ImageCache
from skureel.domain import Product
from skureel.ledger import Ledger
from skureel.pipeline.hosted import Budget, HostedContext, generate_shot
from skureel.pipeline.work import ShotWork
from skureel.planning import load_vocabulary, plan_product
from skureel.prompts import render_prompt
from skureel.providers.base import MissingCredentials
from skureel.providers.fake.server import FakeServer
from skureel.providers.kling import KlingProvider
from skureel.render.compose import prepare

HOSTED = ["kling", "fal", "replicate", "runway", "veo", "minimax", "luma"]
IMAGE = ROOT / "catalogs" / "sample" / "images" / "mug.png"


def product(sku: str) -> Product:
    return Product(key=sku, sku=sku, title=f"Stoneware Mug {sku}", material="ceramic", category="Home", images=[str(IMAGE)])


def work_item(p: Product, provider: str) -> ShotWork:
    shot = plan_product(p, load_brand_kit(AURORA), load_vocabulary(), provider=provider)[0]
    return ShotWork(shot=shot, rendered=render_prompt(shot, provider))


@pytest.fixture()
def context_for(tmp_path: Path, settings, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN001, ANN201
    """Builds a HostedContext whose adapters point at fake servers (only environment variables are set)."""
    hero = prepare(ImageCache(settings).load(str(IMAGE)))

    def make(servers: list[FakeServer], budget: float | None = None) -> HostedContext:
        for server in servers:
            monkeypatch.setenv(f"SKUREEL_{server.name.upper()}_BASE_URL", server.url)
            for key, value in server.credentials.items():
                monkeypatch.setenv(key, value)
        ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
        return HostedContext(ledger, tmp_path / "cache", load_brand_kit(AURORA), budget=Budget(budget),
                             poll_first_s=0.05, poll_max_s=0.2, retry_base_s=0.05, deadline_s=60)

    make.hero = hero  # type: ignore[attr-defined]
    return make


async def _run(ctx: HostedContext, skus: list[str], chain: list[str], hero) -> list:  # noqa: ANN001
    try:
        return await asyncio.gather(*[generate_shot(product(s), work_item(product(s), chain[0]), hero, chain, ctx)
                                      for s in skus])
    finally:
        await ctx.close()


@pytest.mark.parametrize("name", HOSTED)
def test_adapter_delivers_and_never_pays_twice(name: str, context_for) -> None:  # noqa: ANN001
    with FakeServer(name, latency_s=0.3) as server:
        results = asyncio.run(_run(context_for([server]), ["A"], [name], context_for.hero))
        result = results[0]
        assert result.failure is None and result.provider == name, result
        clip = Path(result.clip["path"])
        with av.open(str(clip)) as container:
            assert container.streams.video[0].frames > 0
        again = asyncio.run(_run(context_for([server]), ["A"], [name], context_for.hero))
        assert again[0].clip["content_key"] == result.clip["content_key"]
        assert len(server.vendor.paid) == 1  # the rerun reused the clip: one paid job


@pytest.mark.parametrize("name", HOSTED)
def test_faults_retry_transients_report_the_rest_and_pay_once(name: str, context_for) -> None:  # noqa: ANN001
    faults = "5xx=0.25,429=0.2,timeout=0.05,fail=0.1,moderated=0.1,drop_response=0.1"
    with FakeServer(name, faults=faults, latency_s=0.2, concurrency=3, seed=11) as server:
        server.vendor.timeout_s = 0.05
        skus = [f"S{i}" for i in range(12)]
        results = asyncio.run(_run(context_for([server]), skus, [name], context_for.hero))
        stats = httpx.get(f"{server.url}/_fake/stats").json()
        if name in ("kling", "luma"):  # keyed by our content key: every paid submission is distinct
            assert stats["paid"] == stats["distinct"]
        assert stats["paid"] <= len(skus) + sum(1 for r in results if r.failure and "failed" in r.failure)
        for r in results:
            assert r.failure is None or any(word in r.failure for word in
                                            ("moderat", "risk", "safety", "policy", "failed", "failure", "NSFW",
                                             "sensitive", "cannot be looked up", "not resubmitted", "blocked", "unexpected", "error")), r.failure
        assert sum(1 for r in results if r.failure is None) >= len(skus) // 3, [r.failure for r in results]


def test_kling_rejects_a_bad_jwt_with_1000_codes() -> None:
    async def go(url: str) -> None:
        async with httpx.AsyncClient() as client:
            adapter = KlingProvider(client, {"KLING_ACCESS_KEY": "ak-test", "KLING_SECRET_KEY": "wrong"}, base_url=url)
            p = product("J")
            item = work_item(p, "kling")
            from skureel.providers.base import JobRequest

            with pytest.raises(MissingCredentials) as info:
                await adapter.submit(JobRequest(content_key="k", shot=item.shot, rendered=item.rendered, image=b"x"))
            assert info.value.code in {"1000", "1001", "1002", "1003", "1004"}

    with FakeServer("kling") as server:
        asyncio.run(go(server.url))


def test_out_of_credit_falls_back_along_the_chain_and_budget_stops_submissions(context_for) -> None:  # noqa: ANN001
    with FakeServer("kling", faults="out_of_credit=1.0") as broke, FakeServer("runway", latency_s=0.2) as runway:
        results = asyncio.run(_run(context_for([broke, runway]), ["A", "B"], ["kling", "runway", "local"],
                                   context_for.hero))
        assert all(r.provider == "runway" for r in results), results
        assert len(broke.vendor.paid) == 0 and len(runway.vendor.paid) == 2
    with FakeServer("veo", faults="moderated=1.0", latency_s=0.1) as veo:
        results = asyncio.run(_run(context_for([veo]), ["C"], ["veo", "local"], context_for.hero))
        assert results[0].fallback_local  # done with zero videos is a rejection: the next in the chain takes it
    with FakeServer("kling", latency_s=0.1) as kling:
        results = asyncio.run(_run(context_for([kling], budget=0.40), ["D", "E", "F"], ["kling"], context_for.hero))
        assert sum(r.left_by_budget for r in results) == 2 and len(kling.vendor.paid) == 1  # $0.35 each


def test_missing_credentials_is_one_clear_line(context_for, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    for key in ("KLING_ACCESS_KEY", "KLING_SECRET_KEY"):
        monkeypatch.delenv(key, raising=False)
    ctx = context_for([])
    results = asyncio.run(_run(ctx, ["A"], ["kling"], context_for.hero))
    assert "KLING_ACCESS_KEY" in results[0].failure and "\n" not in results[0].failure
    assert os.environ.get("KLING_SECRET_KEY") is None


AVATAR = ["kling", "fal", "heygen", "did"]
PRESENTER = ROOT / "brand_kits" / "aurora" / "presenter.jpg"


def avatar_item(sku: str, provider: str) -> tuple[Product, ShotWork]:
    p = product(sku)
    p.video.video_type = "avatar"
    p.video.script = "Meet the stoneware mug. It keeps coffee warm. Shop now."
    shot = plan_product(p, load_brand_kit(AURORA), load_vocabulary(), provider=provider)[0]
    return p, ShotWork(shot=shot, rendered=render_prompt(shot, provider))


@pytest.mark.parametrize("name", AVATAR)
@pytest.mark.parametrize("faults", ["", "5xx=0.3,429=0.2,drop_response=0.15,fail=0.1"])
def test_avatar_adapters_deliver_with_pay_once(name: str, faults: str, context_for, settings) -> None:  # noqa: ANN001
    presenter = prepare(ImageCache(settings).load(str(PRESENTER)))
    with FakeServer(name, faults=faults or None, latency_s=0.2, seed=5) as server:
        ctx = context_for([server])

        async def go() -> list:
            try:
                jobs = [avatar_item(f"AV{i}", name) for i in range(4 if faults else 1)]
                return await asyncio.gather(*[generate_shot(p, w, context_for.hero, [name], ctx, presenter)
                                              for p, w in jobs])
            finally:
                await ctx.close()

        results = asyncio.run(go())
        stats = httpx.get(f"{server.url}/_fake/stats").json()
        if not faults:
            assert results[0].failure is None and results[0].provider == name, results[0]
            with av.open(results[0].clip["path"]) as container:
                assert container.streams.video[0].frames > 0
        assert stats["paid"] <= len(results)  # never more paid jobs than shots
        if name == "kling":
            assert stats["paid"] == stats["distinct"]
        for r in results:
            assert r.failure is None or any(w in r.failure for w in ("fail", "not resubmitted", "error", "rendering")), r.failure


def test_kling_lip_sync_of_an_existing_clip() -> None:
    from skureel.providers.base import JobState
    from skureel.providers.polling import wait_for

    async def go(server: FakeServer, dest: Path) -> Path:
        async with httpx.AsyncClient() as client:
            adapter = KlingProvider(client, server.credentials, base_url=server.url)
            ref = await adapter.lip_sync("https://example.com/clip.mp4", b"RIFF0000WAVE", "lipsync-key-1")
            assert ref.extra["endpoint"] == "/v1/videos/advanced-lip-sync"
            state: JobState = await wait_for(adapter, ref, first_s=0.05, max_interval_s=0.1, deadline_s=30)
            return await adapter.download(state, dest)

    with FakeServer("kling", latency_s=0.2) as server:
        out = asyncio.run(go(server, Path(os.environ.get("TMPDIR", "/tmp")) / f"lipsync-{os.getpid()}.mp4"))
        with av.open(str(out)) as container:
            assert container.streams.video[0].frames > 0
        assert server.vendor.paid == ["lipsync-key-1"]
        out.unlink()
