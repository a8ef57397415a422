"""`provider:model` choices, the hubs' Kling 3.0 / O3 / 4.0 and Hailuo 02 entries over real HTTP against their
fakes, Sora's retirement, and the model's own sound kept under the brand's music bed."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from typing import Any

import httpx
import numpy as np
import pytest
from tests.conftest import AURORA, ROOT, SAMPLE

from skureel.catalog.brandkit import load_brand_kit
from skureel.domain import Product, UnusableInput
from skureel.planning import load_vocabulary, plan_product
from skureel.planning.plan import build_plan
from skureel.prompts import render_prompt
from skureel.providers.base import JobRequest, Provider
from skureel.providers.capabilities import parse_chain, parse_choice
from skureel.providers.fake.server import FakeServer
from skureel.providers.registry import provider_class
from skureel.render.audio import RATE, integrated_lufs, under_bed

IMAGE = (ROOT / "catalogs" / "sample" / "images" / "ring.jpg").read_bytes()


def test_choices_parse_and_refuse_in_one_line() -> None:
    chain = parse_chain("kling:kling-v3-omni, veo ,minimax:MiniMax-Hailuo-02,local")
    assert [str(c) for c in chain] == ["kling:kling-v3-omni", "veo", "minimax:MiniMax-Hailuo-02", "local"]
    assert parse_choice("fal:kling/v4/image-to-video").model == "kling/v4/image-to-video"
    for text, words in (("kling:kling-v9", "unknown model 'kling-v9' for kling"), ("klang", "unknown provider"),
                        ("kling:", "names no model"), ("sora", "retired since 2026-09-24"), ("", "no provider")):
        with pytest.raises(UnusableInput) as info:
            parse_chain(text)
        assert words in str(info.value) and "\n" not in str(info.value)


def test_sora_is_listed_retired_and_planning_refuses_it() -> None:
    with pytest.raises(UnusableInput, match="OpenAI switched the Sora 2 models and the Videos API off on 2026-09-24"):
        build_plan([Product(key="s", sku="s", title="Silk scarf", images=["a.jpg"])], load_brand_kit(AURORA),
                   providers=["sora"])
    row = Product(key="r", sku="r", title="Silk scarf", images=["a.jpg"])
    row.video.provider = "sora"  # a catalog row asking for it gets a lint error with the reason
    plan = build_plan([row], load_brand_kit(AURORA), providers=["kling"])
    assert any("retired since 2026-09-24" in f.message for f in plan.errors)
    listed = subprocess.run([sys.executable, "-m", "skureel", "providers", "--json"], capture_output=True, text=True,
                            timeout=120)
    rows = {r["name"]: r for r in json.loads(listed.stdout)}
    assert rows["sora"]["retired"] == "2026-09-24"
    kling = {m["model"]: m for m in rows["kling"]["model_specs"]}
    assert kling["kling:kling-v3-omni"]["durations"] == "3-15s" and kling["kling:kling-v3-omni"]["audio"]
    assert not kling["kling:kling-v3"]["price_confirmed"]  # the reference marks the unit price unconfirmed
    bad = subprocess.run([sys.executable, "-m", "skureel", "plan", str(SAMPLE), "--brand", str(AURORA), "--provider",
                          "kling:kling-v9,local"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "unknown model 'kling-v9' for kling" in bad.stderr
    assert "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def _request(provider: str, model: str, seconds: float, refs: int = 0) -> JobRequest:
    p = Product(key="h", sku="h", title="Signet ring", material="gold", category="Jewellery", images=["a.jpg"])
    p.video.duration_s = seconds
    shot = plan_product(p, load_brand_kit(AURORA), load_vocabulary(), provider=provider)[0]
    return JobRequest(content_key=f"{model}-{seconds}", shot=shot, rendered=render_prompt(shot, provider, model),
                      image=IMAGE, image_mime="image/jpeg", references=[IMAGE] * refs)


async def _submit(server: FakeServer, request: JobRequest) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        adapter: Provider = provider_class(server.name)(client, server.credentials, base_url=server.url)
        ref = await adapter.submit(request)  # the fake validates the fields per model: accepted means well-formed
        job = server.vendor.find(ref.job_id)
        assert job is not None
        return job.inputs


@pytest.mark.parametrize(("model", "image_field", "audio"), [
    ("fal-ai/kling-video/v3/standard/image-to-video", "start_image_url", True),
    ("fal-ai/kling-video/o3/standard/image-to-video", "image_url", True),
    ("kling/v4/image-to-video", "start_image_url", True),
    ("fal-ai/kling-video/v2.1/standard/image-to-video", "image_url", None),
])
def test_fal_kling_models_use_their_own_field_names(model: str, image_field: str, audio: bool | None) -> None:
    with FakeServer("fal", latency_s=0.1) as server:
        body = asyncio.run(_submit(server, _request("fal", model, 12 if "v2.1" not in model else 5)))
        wrong = "image_url" if image_field == "start_image_url" else "start_image_url"
        assert body[image_field].startswith("data:image/jpeg;base64,") and wrong not in body
        assert body.get("generate_audio") is audio  # sent explicitly: v3 defaults on, O3 off
        assert body["duration"] == ("12" if "v2.1" not in model else "5")
        refused = httpx.post(f"{server.url}/fal-ai/kling-video/o3/standard/image-to-video",
                             json={"prompt": "x", "start_image_url": "data:,", "duration": "5"},
                             headers={"Authorization": "Key fal-test"})
        assert refused.status_code == 422 and "image_url: field required" in refused.text


def test_replicate_v3_omni_and_minimax_hailuo_02() -> None:
    with FakeServer("replicate", latency_s=0.1) as server:
        body = asyncio.run(_submit(server, _request("replicate", "kwaivgi/kling-v3-omni-video", 9, refs=2)))["input"]
        assert body["duration"] == 9 and body["mode"] == "pro" and body["generate_audio"] is True
        # photos go up through the Files API (the SDK's default), so the create names them by URL
        assert body["start_image"].startswith(f"{server.url}/v1/files/") and len(body["reference_images"]) == 2
    with FakeServer("minimax", latency_s=0.1) as server:
        six = asyncio.run(_submit(server, _request("minimax", "MiniMax-Hailuo-02", 6)))
        ten = asyncio.run(_submit(server, _request("minimax", "MiniMax-Hailuo-02", 10)))
        assert (six["model"], six["resolution"], ten["resolution"]) == ("MiniMax-Hailuo-02", "1080P", "768P")
        refused = httpx.post(f"{server.url}/v1/video_generation", headers={"Authorization": "Bearer mm-test"},
                             json={"model": "MiniMax-Hailuo-02", "prompt": "x", "duration": 10, "resolution": "1080P"})
        assert "1080P is only offered for 6 s" in refused.json()["base_resp"]["status_msg"]


def test_native_sound_stays_under_the_music_bed() -> None:
    t = np.arange(4 * RATE) / RATE
    music = np.stack([0.2 * np.sin(2 * np.pi * 220 * t)] * 2, axis=1).astype(np.float32)
    ambience = np.random.default_rng(3).standard_normal((4 * RATE, 2)).astype(np.float32) * 0.3
    mix = under_bed(music, ambience)
    assert integrated_lufs(mix) == pytest.approx(-14.0, abs=0.5)
    music_part = float(np.dot(mix[:, 0], music[:, 0]) / np.dot(music[:, 0], music[:, 0]))
    rest = mix - music_part * music
    assert 20 * np.log10(np.sqrt(np.mean(rest**2)) / np.sqrt(np.mean((music_part * music) ** 2))) < -9  # ducked


def test_hub_storyboards_use_each_hubs_shape() -> None:
    from skureel.providers.base import StoryShot

    story = [StoryShot(shot_id="hero", prompt="the ring on velvet", duration_s=4),
             StoryShot(shot_id="detail", prompt="macro on the engraving", duration_s=5)]
    fal_request = _request("fal", "fal-ai/kling-video/v3/standard/image-to-video", 9).model_copy(update={"storyboard": story})
    with FakeServer("fal", latency_s=0.1) as server:
        body = asyncio.run(_submit(server, fal_request))
    assert "prompt" not in body and body["duration"] == "9" and body["shot_type"] == "customize"
    assert body["multi_prompt"] == [{"prompt": "the ring on velvet", "duration": "4"},
                                    {"prompt": "macro on the engraving", "duration": "5"}]
    rep_request = _request("replicate", "kwaivgi/kling-v3-video", 9).model_copy(update={"storyboard": story})
    with FakeServer("replicate", latency_s=0.1) as server:
        data = asyncio.run(_submit(server, rep_request))["input"]
    assert isinstance(data["multi_prompt"], str) and json.loads(data["multi_prompt"])[1]["duration"] == 5
    assert data["duration"] == 9
