"""Kling 3.0 and 3.0 Omni over real HTTP against the fake Kling on 127.0.0.1: 12 s clips with native sound, the
SKU's gallery as Omni's image_list, storyboards, single-key auth, pay-once and external_task_id recovery."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
from tests.conftest import AURORA, ROOT

from skureel.catalog.brandkit import load_brand_kit
from skureel.catalog.images import ImageCache
from skureel.domain import Product
from skureel.ledger import Ledger
from skureel.pipeline.hosted import Budget, HostedContext, generate_shot, image_payload, load_gallery
from skureel.pipeline.work import ShotWork
from skureel.planning import load_vocabulary, plan_product
from skureel.planning.plan import build_plan
from skureel.prompts import render_prompt
from skureel.providers.base import JobRequest, MissingCredentials, StoryShot
from skureel.providers.capabilities import model_caps
from skureel.providers.fake.server import FakeServer
from skureel.providers.kling import KlingProvider
from skureel.providers.polling import wait_for
from skureel.render.audio import decode_audio

IMAGES = ROOT / "catalogs" / "sample" / "images"
GALLERY = [str(IMAGES / n) for n in ("ring.jpg", "serum.jpg", "tea_box.jpg")]


def product(sku: str, images: list[str], seconds: float | None = None) -> Product:
    p = Product(key=sku, sku=sku, title=f"Gift Set {sku}", material="ceramic", category="Home", images=images)
    p.video.duration_s = seconds
    return p


def planned(p: Product, providers: list[str], quality: str = "final") -> ShotWork:
    item = build_plan([p], load_brand_kit(AURORA), providers=providers, formats=["9x16"], quality=quality).shots[0]
    return ShotWork(shot=item.shot, rendered=item.rendered, cost_usd=item.cost.usd)


def context(server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quality: str = "final") -> HostedContext:
    monkeypatch.setenv("SKUREEL_KLING_BASE_URL", server.url)
    for key, value in server.credentials.items():
        monkeypatch.setenv(key, value)
    return HostedContext(Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}"), tmp_path / "cache", load_brand_kit(AURORA),
                         budget=Budget(None), poll_first_s=0.05, poll_max_s=0.2, retry_base_s=0.05, deadline_s=60,
                         quality=quality)


def run(p: Product, item: ShotWork, chain: list[str], ctx: HostedContext, settings: Any) -> Any:
    gallery = load_gallery(p, ImageCache(settings))

    async def go() -> Any:
        try:
            return await generate_shot(p, item, gallery[0] if gallery else None, chain, ctx, gallery=gallery)
        finally:
            await ctx.close()

    return asyncio.run(go()), gallery


def test_final_tier_picks_omni_with_a_gallery_v3_without_and_draft_picks_turbo() -> None:
    omni = planned(product("T1", GALLERY), ["kling"])
    assert omni.rendered.model == "kling-v3-omni" and omni.rendered.params == {"mode": "pro", "sound": "on"}
    single = planned(product("T2", GALLERY[:1], seconds=12), ["kling"])
    assert single.rendered.model == "kling-v3" and single.rendered.duration_s == 12.0  # any second 3..15
    assert "Sound:" in single.rendered.prompt and "no music" in single.rendered.prompt
    assert single.cost_usd == pytest.approx(12 * 0.168)  # pro with audio, an estimate
    draft = planned(product("T3", GALLERY), ["kling"], quality="draft")
    assert draft.rendered.model == "kling-v2-5-turbo" and draft.rendered.params == {"mode": "std"}
    assert draft.rendered.duration_s in (5.0, 10.0) and "Sound:" not in draft.rendered.prompt
    pinned = planned(product("T4", GALLERY), ["kling:kling-v3", "veo"])
    assert pinned.rendered.model == "kling-v3"


def test_v3_clip_of_12_seconds_with_native_sound(tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    p = product("V3", GALLERY[:1], seconds=12)
    with FakeServer("kling", latency_s=0.2) as server:
        result, _ = run(p, planned(p, ["kling"]), ["kling"], context(server, tmp_path, monkeypatch), settings)
        assert result.failure is None and result.provider == "kling", result
        body = next(iter(server.vendor.jobs.values())).inputs
    assert body["model_name"] == "kling-v3" and body["duration"] == "12" and body["sound"] == "on"
    assert body["mode"] == "pro" and "aspect_ratio" not in body and "cfg_scale" not in body
    with av.open(result.clip["path"]) as container:
        seconds = float(container.duration or 0) / 1_000_000
    assert 11.5 <= seconds <= 12.5
    audio = decode_audio(result.clip["path"])
    assert audio is not None and abs(audio).max() > 1e-3  # the model's own ambience came back with the clip


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_omni_image_list_is_the_gallery_hero_first_and_recovers_a_lost_create(
        tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    p = product("OM", GALLERY)
    item = planned(p, ["kling"])
    with FakeServer("kling", faults="drop_response=1.0", latency_s=0.2) as server:  # every create answer is lost
        ctx = context(server, tmp_path, monkeypatch)
        result, gallery = run(p, item, ["kling"], ctx, settings)
        assert result.failure is None, result
        assert server.vendor.paid == [result.clip["content_key"]]  # found again by external_task_id, not resubmitted
        job = next(iter(server.vendor.jobs.values()))
        again, _ = run(p, item, ["kling"], context(server, tmp_path, monkeypatch), settings)
        assert again.clip["content_key"] == result.clip["content_key"] and len(server.vendor.paid) == 1
    body = job.inputs
    assert body["model_name"] == "kling-v3-omni" and body["sound"] == "on"
    caps = model_caps("kling", "kling-v3-omni")
    wanted = [_b64(image_payload(g, caps, "#ffffff").data) for g in gallery]  # type: ignore[union-attr]
    assert len(gallery) == 3 and [i["image_url"] for i in body["image_list"]] == wanted
    assert body["image_list"][0]["type"] == "first_frame" and all("type" not in i for i in body["image_list"][1:])
    assert "<<<image_1>>>" in body["prompt"] and "<<<image_3>>>" in body["prompt"] and "aspect_ratio" not in body


def _request(model: str, **extra: Any) -> JobRequest:
    shot = plan_product(product("SB", GALLERY[:1]), load_brand_kit(AURORA), load_vocabulary(), provider="kling")[0]
    return JobRequest(content_key=extra.pop("key", f"key-{model}"), shot=shot, rendered=render_prompt(shot, "kling", model),
                      image=(IMAGES / "ring.jpg").read_bytes(), image_mime="image/jpeg", **extra)


STORY = [StoryShot(shot_id="hero", prompt="the gift set on a plinth", duration_s=4),
         StoryShot(shot_id="detail", prompt="macro over the glaze", duration_s=3),
         StoryShot(shot_id="in_use", prompt="hands lift the lid", duration_s=5)]


def test_storyboards_on_v3_and_omni_and_single_key_auth(tmp_path: Path) -> None:
    async def go(server: FakeServer) -> None:
        async with httpx.AsyncClient() as client:
            adapter = KlingProvider(client, {"KLING_API_KEY": "kling-key-test"}, base_url=server.url)
            for model, endpoint in (("kling-v3", "/v1/videos/image2video"), ("kling-v3-omni", "/v1/videos/omni-video")):
                ref = await adapter.submit(_request(model, storyboard=STORY))
                assert ref.extra["endpoint"] == endpoint
                state = await wait_for(adapter, ref, first_s=0.05, max_interval_s=0.1, deadline_s=30)
                assert state.status == "succeeded"
            wrong = KlingProvider(client, {"KLING_API_KEY": "not-the-key"}, base_url=server.url)
            with pytest.raises(MissingCredentials) as info:
                await wrong.submit(_request("kling-v3", key="k-wrong"))
            assert info.value.code == "1002"

    with FakeServer("kling", latency_s=0.1) as server:
        asyncio.run(go(server))
        classic, omni = (job.inputs for job in server.vendor.jobs.values())
    assert classic["multi_shot"] is True and classic["shot_type"] == "customize" and classic["duration"] == "12"
    assert [s["duration"] for s in classic["multi_prompt"]] == ["4", "3", "5"]
    assert [s["index"] for s in classic["multi_prompt"]] == [1, 2, 3] and "camera_control" not in classic
    assert all("type" not in i for i in omni["image_list"]) and omni["aspect_ratio"]  # storyboards take no frames


def _post(server: FakeServer, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(f"{server.url}{path}", json=body, headers={"Authorization": "Bearer kling-key-test"})
    return {"status": response.status_code, **response.json()}


def test_fake_validates_like_the_vendor() -> None:
    img = _b64((IMAGES / "ring.jpg").read_bytes())
    i2v, omni = "/v1/videos/image2video", "/v1/videos/omni-video"
    bad = [
        (i2v, {"model_name": "kling-v2-5-turbo", "image": img, "duration": "12"}, "'5' or '10'"),
        (i2v, {"model_name": "kling-v3", "image": img, "duration": "16"}, "'3' to '15'"),
        (i2v, {"model_name": "kling-v3", "image": img, "duration": 12}, "string"),
        (i2v, {"model_name": "kling-v2-5-turbo", "image": img, "sound": "on"}, "sound is not supported"),
        (i2v, {"model_name": "kling-v3-omni", "image": img}, "invalid for this endpoint"),
        (i2v, {"model_name": "kling-v3", "image": img, "duration": "10", "multi_shot": True, "shot_type": "customize",
               "multi_prompt": [{"index": 1, "prompt": "a", "duration": "4"}, {"index": 2, "prompt": "b", "duration": "4"}]},
         "sum to 8"),
        (omni, {"model_name": "kling-v3-omni", "image_list": [{"image_url": img}] * 8, "aspect_ratio": "9:16"}, "at most 7"),
        (omni, {"model_name": "kling-v3-omni", "image_list": [{"image_url": img, "type": "end_frame"}]}, "needs a first_frame"),
        (omni, {"model_name": "kling-v3-omni", "prompt": "x"}, "aspect_ratio is required"),
        (omni, {"model_name": "kling-v3-omni", "image_list": [{"image_url": img, "type": "first_frame"}], "multi_shot": True,
                "shot_type": "customize", "multi_prompt": [{"index": 1, "prompt": "a", "duration": "5"}]}, "forbids"),
    ]
    with FakeServer("kling", latency_s=0.1) as server:
        for path, body, words in bad:
            answer = _post(server, path, body)
            assert answer["status"] == 400 and answer["code"] == 1201 and words in answer["message"], (body, answer)
        default = _post(server, omni, {"prompt": "a mug", "aspect_ratio": "9:16", "duration": "3"})
        assert default["code"] == 0  # accepted, but served by O1: why the adapter always sends model_name
        job = server.vendor.find(default["data"]["task_id"])
        assert job is not None and "model_name" not in job.inputs
        assert len(server.vendor.paid) == 1  # refused creates are never paid


def test_three_shots_of_one_sku_as_one_storyboard_job(tmp_path: Path, settings: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from skureel.pipeline.storyboard import generate_storyboard

    p = product("SB3", GALLERY[:1])
    p.video.shots = ["hero", "detail", "in_use"]  # 6 + 5 + 6 s planned: trimmed to Kling's 15 s
    plan = build_plan([p], load_brand_kit(AURORA), providers=["kling"], formats=["9x16"])
    items = [ShotWork(shot=s.shot, rendered=s.rendered) for s in plan.shots]
    gallery = load_gallery(p, ImageCache(settings))

    async def go(ctx: HostedContext) -> Any:
        try:
            return await generate_storyboard(p, items, gallery[0], ["kling", "local"], ctx, gallery)
        finally:
            await ctx.close()

    with FakeServer("kling", latency_s=0.2) as server:
        results = asyncio.run(go(context(server, tmp_path, monkeypatch)))
        again = asyncio.run(go(context(server, tmp_path, monkeypatch)))
        assert len(server.vendor.paid) == 1  # one paid job for three shots, reused on the rerun
        body = next(iter(server.vendor.jobs.values())).inputs
    assert [r.shot_id for r in results] == ["hero", "detail", "in_use"] and all(r.failure is None for r in results)
    assert [s["duration"] for s in body["multi_prompt"]] == ["5", "5", "5"] and body["duration"] == "15"
    assert [r.clip["content_key"] for r in again] == [r.clip["content_key"] for r in results]
    for r in results:
        with av.open(r.clip["path"]) as container:
            frames = container.streams.video[0].frames or sum(1 for _ in container.decode(video=0))
        assert abs(frames - 5 * 24) <= 2, frames
    assert results[0].clip["product_box"] is not None and results[1].clip["product_box"] is None


def test_omni_under_faults_pays_once_per_content_key(tmp_path: Path, settings: Any,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    faults = "5xx=0.25,429=0.2,timeout=0.05,fail=0.1,moderated=0.1,drop_response=0.15"
    skus = [product(f"F{i}", GALLERY[:2], seconds=3) for i in range(8)]  # 3 s: the shortest Omni clip
    gallery = load_gallery(skus[0], ImageCache(settings))
    with FakeServer("kling", faults=faults, latency_s=0.2, concurrency=3, seed=11) as server:
        server.vendor.timeout_s = 0.05
        ctx = context(server, tmp_path, monkeypatch)

        async def go() -> list[Any]:
            try:
                return await asyncio.gather(*[generate_shot(p, planned(p, ["kling"]), gallery[0], ["kling"], ctx,
                                                            gallery=gallery) for p in skus])
            finally:
                await ctx.close()

        results = asyncio.run(go())
        stats = httpx.get(f"{server.url}/_fake/stats").json()
    assert stats["paid"] == stats["distinct"] <= len(skus)  # keyed by external_task_id: never a second payment
    assert all(j.inputs["model_name"] == "kling-v3-omni" for j in server.vendor.jobs.values())
    assert sum(r.failure is None for r in results) >= 3, [r.failure for r in results]
    for r in results:
        assert r.failure is None or "\n" not in r.failure


@contextlib.contextmanager
def files_served(folder: Path) -> Iterator[str]:
    """A plain loopback file server: where the fake vendor fetches reference clips from, as Kling fetches URLs."""
    import functools
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    files = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=files.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{files.server_address[1]}"
    finally:
        files.shutdown()


def test_motion_control_follows_the_reference_clip(tmp_path: Path) -> None:
    from skureel.providers.base import JobFailed
    from skureel.providers.local import render_base_clip

    (tmp_path / "walk.mp4").write_bytes(render_base_clip(None, 360, 640, 4.0))
    (tmp_path / "blink.mp4").write_bytes(render_base_clip(None, 360, 640, 2.0))
    presenter = (ROOT / "brand_kits" / "aurora" / "presenter.jpg").read_bytes()

    async def go(server: FakeServer, base: str) -> Path:
        async with httpx.AsyncClient() as client:
            adapter = KlingProvider(client, server.credentials, base_url=server.url)
            with pytest.raises(JobFailed, match="3 to 10 s"):
                await adapter.motion_control(presenter, f"{base}/blink.mp4", "mc-short")
            ref = await adapter.motion_control(presenter, f"{base}/walk.mp4", "mc-1", prompt="a bright studio")
            state = await wait_for(adapter, ref, first_s=0.05, max_interval_s=0.1, deadline_s=30)
            return await adapter.download(state, tmp_path / "moved.mp4")

    with files_served(tmp_path) as base, FakeServer("kling", latency_s=0.1) as server:
        out = asyncio.run(go(server, base))
        assert server.vendor.paid == ["mc-1"]
        body = server.vendor.jobs[next(iter(server.vendor.jobs))].inputs
    assert body["model_name"] == "kling-v3" and body["character_orientation"] == "image" and "duration" not in body
    with av.open(str(out)) as container:
        assert 3.5 <= float(container.duration or 0) / 1_000_000 <= 4.5  # as long as the reference, not a preset


def _kit_with(tmp_path: Path, reference: str) -> Path:
    """A copy of the sample brand kit whose brand.yaml names a motion reference."""
    import shutil

    kit = tmp_path / "kit"
    if not kit.exists():
        shutil.copytree(AURORA, kit)
    text = (AURORA / "brand.yaml").read_text(encoding="utf-8")
    (kit / "brand.yaml").write_text(text + f"\nmotion_reference: {reference}\n", encoding="utf-8")
    return kit


def test_brand_kit_motion_reference_drives_in_use_shots_through_motion_control(
        tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from skureel.domain import UnusableInput
    from skureel.providers.local import render_base_clip

    clips = tmp_path / "clips"
    clips.mkdir()
    (clips / "walk.mp4").write_bytes(render_base_clip(None, 360, 640, 4.0))
    kit_clip = _kit_with(tmp_path, "walk.mp4") / "walk.mp4"
    kit_clip.write_bytes(render_base_clip(None, 360, 640, 2.0))
    with pytest.raises(UnusableInput, match="lasts 2.0 s; a motion reference lasts 3 to 30 s"):
        load_brand_kit(tmp_path / "kit")  # a file in the kit is checked against the vendor's limits at load
    kit_clip.write_bytes((clips / "walk.mp4").read_bytes())
    p = product("MC", GALLERY[:1])
    p.video.shots = ["hero", "in_use"]
    local_file = build_plan([p], load_brand_kit(tmp_path / "kit"), providers=["kling"], formats=["9x16"])
    assert all("motion_reference" not in s.rendered.params for s in local_file.shots)  # Kling can only fetch a URL
    assert any(f.field == "motion_reference" for s in local_file.shots for f in s.findings)
    with files_served(clips) as base, FakeServer("kling", latency_s=0.1) as server:
        kit = load_brand_kit(_kit_with(tmp_path, f"{base}/walk.mp4"))
        plan = build_plan([p], kit, providers=["kling"], formats=["9x16"])
        hero, in_use = (ShotWork(shot=s.shot, rendered=s.rendered) for s in plan.shots)
        assert "motion_reference" not in hero.rendered.params  # only in-use shots take the reference's motion
        assert in_use.rendered.params["motion_reference"] == f"{base}/walk.mp4" and not in_use.rendered.audio
        ctx = context(server, tmp_path, monkeypatch)
        ctx.brand = kit
        result, _ = run(p, in_use, ["kling"], ctx, settings)
        assert result.failure is None, result
        again, _ = run(p, in_use, ["kling"], context(server, tmp_path, monkeypatch), settings)
        assert len(server.vendor.paid) == 1  # paid once: the rerun found it in the ledger
        body = next(iter(server.vendor.jobs.values())).inputs
    assert body["video_url"] == f"{base}/walk.mp4" and body["model_name"] == "kling-v3"
    assert body["character_orientation"] == "image" and body["prompt"] == in_use.rendered.prompt[:2500]
    assert not {"duration", "aspect_ratio", "sound", "camera_control"} & set(body)  # not fields of motion control
    assert in_use.shot.camera.move.split()[-1] in body["prompt"]  # the camera move stays in the prompt
    with av.open(result.clip["path"]) as container:
        assert 3.5 <= float(container.duration or 0) / 1_000_000 <= 4.5  # as long as the reference
    assert again.clip["content_key"] == result.clip["content_key"]


def test_an_avatar_with_a_motion_reference_is_moved_then_lip_synced_each_paid_once(
        tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from skureel.pipeline.hosted import generate_shot as generate
    from skureel.providers.local import render_base_clip
    from skureel.render.compose import prepare

    (tmp_path / "walk.mp4").write_bytes(render_base_clip(None, 360, 640, 4.0))
    p = product("AV", GALLERY[:1])
    p.video.video_type = "avatar"
    p.video.script = "Meet the gift set. Shop now."
    with files_served(tmp_path) as base, FakeServer("kling", latency_s=0.1, faults="drop_response=1.0") as server:
        kit = load_brand_kit(_kit_with(tmp_path, f"{base}/walk.mp4"))
        shot = build_plan([p], kit, providers=["kling"], formats=["9x16"]).shots[0]
        assert shot.shot.kind == "avatar" and shot.rendered.params["motion_reference"] == f"{base}/walk.mp4"
        item = ShotWork(shot=shot.shot, rendered=shot.rendered)
        cache = ImageCache(settings)
        presenter = prepare(cache.load(str(shot.shot.presenter_image)))
        hero = load_gallery(p, cache)[0]

        async def go() -> Any:
            ctx = context(server, tmp_path, monkeypatch)
            ctx.brand = kit
            try:
                return await generate(p, item, hero, ["kling"], ctx, presenter)
            finally:
                await ctx.close()

        result = asyncio.run(go())
        again = asyncio.run(go())
        assert result.failure is None and again.clip["content_key"] == result.clip["content_key"], result
        key = result.clip["content_key"]
        assert sorted(server.vendor.paid) == sorted([f"{key}-motion", key])  # lost answers found again, never re-paid
        moved = server.vendor.find(f"{key}-motion")
        synced = server.vendor.find(key)
    assert moved is not None and synced is not None
    assert moved.inputs["video_url"] == f"{base}/walk.mp4" and "sound" not in moved.inputs
    chosen = synced.inputs["face_choose"][0]
    assert chosen["sound_file"] and chosen["original_audio_volume"] == 0.0  # our speech replaces the clip's sound


def _image(size: tuple[int, int], kind: str = "JPEG") -> str:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (200, 180, 160)).save(out, format=kind)
    return _b64(out.getvalue())


def test_fake_refuses_photos_outside_klings_limits_and_the_adapter_says_why_in_one_line(tmp_path: Path) -> None:
    from skureel.providers.base import JobFailed

    good = _image((600, 800))
    bad = [
        ("/v1/videos/image2video", {"model_name": "kling-v3", "image": _image((200, 400))}, "at least 300px"),
        ("/v1/videos/image2video", {"model_name": "kling-v3", "image": _image((400, 400), "GIF")}, "use jpg, jpeg or png"),
        ("/v1/videos/image2video", {"model_name": "kling-v3", "image": good, "image_tail": _image((1500, 400))},
         "image_tail: aspect ratio must be between 1:2.5 and 2.5:1"),
        ("/v1/videos/omni-video", {"model_name": "kling-v3-omni", "aspect_ratio": "9:16",
                                   "image_list": [{"image_url": good}, {"image_url": _image((310, 299))}]},
         "image_list[1]: image width and height must be at least 300px"),
        ("/v1/videos/avatar/image2video", {"image": _image((100, 100)), "sound_file": "AAAA"}, "at least 300px"),
        ("/v1/videos/motion-control", {"model_name": "kling-v3", "image_url": _image((299, 600)), "mode": "std",
                                       "video_url": "http://127.0.0.1:9/x.mp4", "character_orientation": "image"},
         "image_url: image width and height must be at least 300px"),
    ]
    p = product("TINY", GALLERY[:1])
    item = planned(p, ["kling"])
    with FakeServer("kling", latency_s=0.1) as server:
        for path, body, words in bad:
            answer = _post(server, path, body)
            assert answer["status"] == 400 and answer["code"] == 1201 and words in answer["message"], (body, answer)

        async def submit() -> None:
            async with httpx.AsyncClient() as client:
                adapter = KlingProvider(client, server.credentials, base_url=server.url)
                await adapter.submit(JobRequest(content_key="tiny", shot=item.shot, rendered=item.rendered,
                                                image=base64.b64decode(_image((240, 240)))))

        with pytest.raises(JobFailed) as caught:
            asyncio.run(submit())
        assert server.vendor.paid == []  # refused before anything was paid
    message = str(caught.value)
    assert message == "kling: the photo was refused: image width and height must be at least 300px (vendor code 1201)"


def test_a_failed_generation_is_bought_again_under_a_new_external_id(tmp_path: Path, settings: Any,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Kling keeps external_task_id unique per account (code 1201 on a repeat): the rebuy after a failed
    generation needs its own id, and is then found again by it like any other job."""
    p = product("REBUY-1", GALLERY[:1], seconds=5)
    with FakeServer("kling", faults="fail=1.0", latency_s=0.05, seed=3) as server:
        first, _ = run(p, planned(p, ["kling"], quality="draft"), ["kling"], context(server, tmp_path, monkeypatch), settings)
        assert first.failure and "\n" not in first.failure
        server.vendor.faults = {}  # the vendor recovers; the same catalog runs again on the same ledger
        second, _ = run(p, planned(p, ["kling"], quality="draft"), ["kling"], context(server, tmp_path, monkeypatch),
                        settings)
        assert second.failure is None, second.failure
        third, _ = run(p, planned(p, ["kling"], quality="draft"), ["kling"], context(server, tmp_path, monkeypatch),
                       settings)
        assert third.failure is None
        ids = [j.inputs["external_task_id"] for j in server.vendor.jobs.values()]
    key = second.clip["content_key"]
    assert ids == [key, f"{key}-p2"]  # two purchases, each once; the third run reused the clip
