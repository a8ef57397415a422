"""A fake vendor in its own process, as the soak benchmark runs it: steered over loopback (credit, stats), answering
without Nagle's 40 ms stalls, one tiny clip per job, a scaled Retry-After; and the soak itself end to end."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from skureel.providers.base import verify_video
from skureel.providers.fake.process import FakeConfig, FakeProcess

ROOT = Path(__file__).resolve().parents[1]
KLING = {"authorization": "Bearer kling-key-test"}
BODY = {"model_name": "kling-v2-5-turbo", "prompt": "a mug on a table, slow push-in", "duration": "5", "mode": "std",
        "aspect_ratio": "9:16"}


def _create(client: httpx.Client, url: str, key: str) -> httpx.Response:
    return client.post(f"{url}/v1/videos/text2video", json={**BODY, "external_task_id": key}, headers=KLING)


def test_credit_is_account_state_set_over_http_and_answers_come_fast() -> None:
    with FakeProcess(FakeConfig(name="kling", latency_s=0.05, credit=1, tiny_clips=True)) as fake, \
            httpx.Client(timeout=10) as client:
        assert _create(client, fake.url, "k1").json()["code"] == 0
        refused = _create(client, fake.url, "k2")
        assert refused.status_code == 429 and refused.json()["code"] == 1102  # out of credit, every time
        assert _create(client, fake.url, "k3").json()["code"] == 1102
        fake.set_credit(None)  # topped up
        assert _create(client, fake.url, "k2").json()["code"] == 0
        stats = fake.stats()
        assert stats.paid == ["k1", "k2"] and stats.credit is None and stats.failed == []
        # small answers in two writes: without TCP_NODELAY on the fake's sockets each waits ~40 ms for an ACK
        times = []
        for _ in range(15):
            start = time.perf_counter()
            client.get(f"{fake.url}/v1/videos/text2video/k1", headers=KLING).raise_for_status()
            times.append(time.perf_counter() - start)
        assert statistics.median(times) < 0.03, times
        assert fake.cpu_s() > 0


def test_every_job_gets_the_same_tiny_clip_and_the_retry_after_is_scaled() -> None:
    with FakeProcess(FakeConfig(name="kling", latency_s=0.05, tiny_clips=True)) as fake, httpx.Client(timeout=10) as client:
        clips = []
        for key in ("a", "b"):
            assert _create(client, fake.url, key).json()["code"] == 0
        time.sleep(0.1)
        for key in ("a", "b"):
            task = client.get(f"{fake.url}/v1/videos/text2video/{key}", headers=KLING).json()["data"]
            clips.append(client.get(task["task_result"]["videos"][0]["url"]).content)
        assert clips[0] == clips[1] and len(clips[0]) < 20_000
        verify_video(clips[0], "kling")
    with FakeProcess(FakeConfig(name="fal", faults="429=1", retry_after_s=0.05)) as fake:
        throttled = httpx.post(f"{fake.url}/fal-ai/kling-video/v2.5-turbo/pro/text-to-video", timeout=10,
                               json={"prompt": "a mug", "duration": "5"}, headers={"authorization": "Key fal-test"})
        assert throttled.status_code == 429 and throttled.headers["retry-after"] == "0.05"


def test_the_soak_runs_its_fakes_in_processes_and_pays_once() -> None:
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "soak.py"), "--skus", "20", "--latency", "0.05",
                          "--providers", "kling"], capture_output=True, text=True, timeout=120, check=True)
    lines = run.stdout.splitlines()
    assert len(lines) == 3, run.stdout + run.stderr
    assert "paid twice otherwise 0 (aim 0) OK" in lines[-1]
    assert "paid 12 jobs" in lines[0]  # the account covered 60% of the SKUs, then refused every create
    assert "cpu client" in lines[0] and "fake" in lines[0]


def test_a_fake_without_our_ids_counts_a_purchase_by_what_was_sent() -> None:
    """MiniMax takes no id of ours: the same create bought twice must show as one content paid twice (a job id
    per purchase never would), and a moderated job, which its API reports as a plain "Fail", counts as failed."""
    from skureel.providers.fake.server import FakeServer

    body = {"model": "MiniMax-Hailuo-02", "prompt": "a mug on a table", "duration": 6, "resolution": "768P"}
    with FakeServer("minimax", latency_s=0.05) as server, httpx.Client(timeout=10) as client:
        headers = {"authorization": "Bearer mm-test"}
        for prompt in ("a mug on a table", "a mug on a table", "a vase on a shelf"):
            answer = client.post(f"{server.url}/v1/video_generation", json={**body, "prompt": prompt}, headers=headers)
            assert answer.json()["base_resp"]["status_code"] == 0
        paid = server.vendor.paid
        assert paid[0] == paid[1] != paid[2] and all(key.startswith("content-") for key in paid)
        job = next(iter(server.vendor.jobs.values()))
        job.outcome = "moderated"
        time.sleep(0.1)
        task = client.get(f"{server.url}/v1/query/video_generation", params={"task_id": job.id}, headers=headers)
        assert task.json()["status"] == "Fail"  # nothing in the answer tells a moderated job from a failed one
        assert client.get(f"{server.url}/_fake/stats").json()["failed"] == [job.paid_as]
