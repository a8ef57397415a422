"""Replicate: photos uploaded once through the Files API, the create naming them by URL, and a lost create found
again by a fresh process that never saw those URLs (it compares the photos by checksum)."""

from __future__ import annotations

import asyncio

import httpx
from tests.conftest import AURORA, ROOT

from skureel.catalog.brandkit import load_brand_kit
from skureel.domain import Product
from skureel.planning import load_vocabulary, plan_product
from skureel.prompts import render_prompt
from skureel.providers.base import JobRequest
from skureel.providers.fake.server import FakeServer
from skureel.providers.replicate import ReplicateProvider

RING = (ROOT / "catalogs" / "sample" / "images" / "ring.jpg").read_bytes()
MUG = (ROOT / "catalogs" / "sample" / "images" / "mug.png").read_bytes()
MODEL = "kwaivgi/kling-v3-omni-video"


def _request(key: str, image: bytes) -> JobRequest:
    p = Product(key="r", sku="r", title="Signet ring", material="gold", category="Jewellery", images=["a.jpg"])
    shot = plan_product(p, load_brand_kit(AURORA), load_vocabulary(), provider="replicate")[0]
    return JobRequest(content_key=key, shot=shot, rendered=render_prompt(shot, "replicate", MODEL),
                      image=image, image_mime="image/jpeg", references=[image, image])


def test_photos_upload_once_and_a_lost_create_is_found_by_checksum() -> None:
    with FakeServer("replicate", latency_s=0.1) as server:
        async def scenario() -> tuple[str, str | None, str | None]:
            async with httpx.AsyncClient() as client:
                first = ReplicateProvider(client, server.credentials, base_url=server.url)
                ref = await first.submit(_request("k1", RING))
                again = await first.submit(_request("k2", RING))  # same photo: no second upload
                # a fresh adapter (another process after a crash) holds none of the first one's file URLs
                fresh = ReplicateProvider(client, server.credentials, base_url=server.url)
                found = await fresh.recover(_request("k1", RING))
                other = await fresh.recover(_request("k3", MUG))  # same prompt, another photo: not ours
                assert again.job_id != ref.job_id
                return ref.job_id, found.job_id if found else None, other.job_id if other else None

        job_id, found, other = asyncio.run(scenario())
        uploaded = httpx.get(f"{server.url}/v1/files", headers={"Authorization": "Bearer r8-test"}).json()["results"]
        assert len(uploaded) == 1, uploaded  # one photo, two jobs (and their reference galleries): one upload
        assert found is not None and other is None
        job = server.vendor.find(job_id)
        assert job is not None and job.image == RING  # the model read the uploaded bytes
        sent = job.inputs["input"]
        assert sent["start_image"].startswith(f"{server.url}/v1/files/") and len(sent["start_image"]) < 200
        # a create naming a file that is not there is refused before anything is paid
        gone = httpx.post(f"{server.url}/v1/models/{MODEL}/predictions", headers={"Authorization": "Bearer r8-test"},
                          json={"input": {**sent, "start_image": f"{server.url}/v1/files/nope"}})
        assert gone.status_code == 422 and "start_image" in gone.json()["detail"]
