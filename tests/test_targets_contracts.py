"""Contracts of the publish targets that need no pipeline run: the Standard Webhooks test vector and delivery,
Cloudinary's signing algorithm (its documented example) against the fake, chunked upload, configuration."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Iterator
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import av
import numpy as np
import pytest
from tests.test_s3 import s3_endpoint  # noqa: F401 - the moto server fixture

from skureel.publish.fakes.server import FakeTargetServer, credentials
from skureel.publish.targets.base import Deliverable, TargetConfigError
from skureel.publish.targets.cloudinary import CloudinaryTarget, api_sign, escape_context
from skureel.publish.targets.config import load_targets
from skureel.publish.targets.registry import build, register
from skureel.publish.targets.runner import PublishReport, publish_all
from skureel.publish.targets.shopify import ShopifyTarget
from skureel.publish.targets.state import PublishState
from skureel.publish.webhook import WebhookVerificationError, deliver, signature, verify

# the test vector published with the Standard Webhooks reference libraries
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID, VECTOR_TS, VECTOR_BODY = "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}'
VECTOR_SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_standard_webhooks_published_vector() -> None:
    assert signature(VECTOR_SECRET, VECTOR_ID, VECTOR_TS, VECTOR_BODY) == VECTOR_SIG
    headers = {"webhook-id": VECTOR_ID, "webhook-timestamp": str(VECTOR_TS),
               "webhook-signature": f"v1a,c29tZXRoaW5n v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= {VECTOR_SIG}"}
    assert verify(VECTOR_SECRET, headers, VECTOR_BODY, now=VECTOR_TS + 10) == {"test": 2432232314}
    for now in (VECTOR_TS + 301, VECTOR_TS - 301):  # too old, too new
        with pytest.raises(WebhookVerificationError):
            verify(VECTOR_SECRET, headers, VECTOR_BODY, now=now)
    with pytest.raises(WebhookVerificationError):
        verify(VECTOR_SECRET, {**headers, "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="},
               VECTOR_BODY, now=VECTOR_TS)
    with pytest.raises(WebhookVerificationError):
        verify(VECTOR_SECRET, headers, VECTOR_BODY + b" ", now=VECTOR_TS)


@pytest.fixture()
def receiver() -> Iterator[tuple[str, list[dict[str, str]], list[int]]]:
    seen: list[dict[str, str]] = []
    answers: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append({**{k.lower(): v for k, v in self.headers.items()}, "body": body.decode()})
            status = answers.pop(0) if answers else 204
            self.send_response(status)
            if status == 429:
                self.send_header("Retry-After", "0")
            if status == 302:
                self.send_header("Location", "/elsewhere")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", seen, answers
    finally:
        server.shutdown()


def test_webhook_retries_keep_the_same_id_and_each_attempt_verifies(
        receiver: tuple[str, list[dict[str, str]], list[int]]) -> None:
    url, seen, answers = receiver
    answers.extend([503, 429, 200])
    assert deliver(url, VECTOR_SECRET, "msg_abc", {"type": "clip.published", "data": {}}, sleep=lambda s: None) is None
    assert len(seen) == 3 and {s["webhook-id"] for s in seen} == {"msg_abc"}
    for attempt in seen:
        verify(VECTOR_SECRET, attempt, attempt["body"].encode())
        assert "x-skureel-signature" not in attempt  # whsec_ secrets speak only the standard
    answers.extend([302])
    problem = deliver(url, VECTOR_SECRET, "msg_def", {"type": "x"}, sleep=lambda s: None)
    assert problem is not None and "302" in problem and len(seen) == 4  # 3xx is a failure, never followed
    answers.extend([410])
    problem = deliver(url, VECTOR_SECRET, "msg_ghi", {"type": "x"}, sleep=lambda s: None)
    assert problem is not None and "410" in problem and len(seen) == 5


def test_cloudinary_signature_algorithm() -> None:
    # Cloudinary's documented example (authentication_signatures): eager + public_id + timestamp, secret "abcd"
    params = {"eager": "w_400,h_300,c_pad|w_260,h_200,c_crop", "public_id": "sample_image", "timestamp": 1315060510}
    assert api_sign(params, "abcd") == "bfd09f95f331f558cbd1320e67aa8d488770583e"
    noisy = {**params, "file": "x", "api_key": "k", "resource_type": "video", "cloud_name": "c", "signature": "s",
             "tags": "", "context": None}
    assert api_sign(noisy, "abcd") == api_sign(params, "abcd")  # unsigned and empty params are left out
    expected = hashlib.sha256(b"overwrite=1&public_ids=a,b&timestamp=1abcd").hexdigest()
    assert api_sign({"overwrite": True, "public_ids": ["a", "b"], "timestamp": 1}, "abcd", "sha256") == expected
    assert escape_context("a=b|c") == "a\\=b\\|c"


def tiny_mp4(path: Path, frames: int = 30) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(30))
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for n in range(frames):
            image = np.full((64, 64, 3), (n * 8) % 255, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def deliverable(path: Path) -> Deliverable:
    data = path.read_bytes()
    return Deliverable(sku="SKU 1/x", shot="hero", format="9x16", path=path, sha256=hashlib.sha256(data).hexdigest(),
                       bytes=len(data), title="Mug = good | cheap", tags={"brand": "Aurora"}, ai_generated=True)


def test_cloudinary_chunked_upload_and_bad_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clip = deliverable(tiny_mp4(tmp_path / "clip.mp4"))
    with FakeTargetServer("cloudinary", min_chunk=1000) as fake:
        monkeypatch.setenv("SKUREEL_CLOUDINARY_BASE_URL", fake.url)
        monkeypatch.setenv("CLOUDINARY_URL", credentials("cloudinary")["CLOUDINARY_URL"])
        target = CloudinaryTarget.from_options({"chunk_threshold": 1000, "chunk_size": 1500})

        async def go() -> None:
            assert await target.find(clip) is None
            remote = await target.publish(clip, None)
            found = await target.find(clip)
            assert found is not None and found.same_bytes and found.remote_id == remote.remote_id
            await target.aclose()

        asyncio.run(go())
        counts = fake.state.stats()
        assert counts["chunks"] == -(-clip.bytes // 1500) >= 2 and counts["uploads"] == 1
        monkeypatch.setenv("CLOUDINARY_URL", "cloudinary://123456789012345:wrong-secret@skureel-fake")
        wrong = CloudinaryTarget.from_options({})

        async def refused() -> None:
            try:
                await wrong.publish(clip, None)
            finally:
                await wrong.aclose()

        with pytest.raises(TargetConfigError) as caught:
            asyncio.run(refused())
        assert "Invalid Signature" in str(caught.value) and "String to sign" in str(caught.value)
        assert "wrong-secret" not in str(caught.value)


def test_targets_yaml_refuses_secrets_and_bad_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "targets.yaml").write_text("targets:\n  shopify: {access_token: shpat_x}\n", encoding="utf-8")
    with pytest.raises(TargetConfigError, match="secrets never go in files"):
        load_targets(tmp_path)
    monkeypatch.setenv("CLOUDINARY_URL", "cloudinary://k:s@c")
    with pytest.raises(TargetConfigError, match="cloudinary: targets.yaml option chunk_sise"):
        build("cloudinary", {"chunk_sise": 5})
    with pytest.raises(TargetConfigError, match="unknown publish target 'dropbox'"):
        build("dropbox", {})
    with pytest.raises(ValueError, match="already registered"):
        register("shopify", "x:y")
    monkeypatch.setenv("CLOUDINARY_URL", "https://k:s@c")
    with pytest.raises(TargetConfigError, match="cloudinary://API_KEY:API_SECRET@CLOUD_NAME"):
        build("cloudinary", {})


def test_shopify_sku_without_a_product_fails_alone_in_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lonely = deliverable(tiny_mp4(tmp_path / "a.mp4"))
    known = Deliverable(**{**lonely.model_dump(), "sku": "MUG-1", "path": tiny_mp4(tmp_path / "b.mp4", 20)})
    known = known.model_copy(update={"sha256": hashlib.sha256(known.path.read_bytes()).hexdigest(),
                                     "bytes": known.path.stat().st_size})
    with FakeTargetServer("shopify", auto_products=False, products_seed=("MUG-1",)) as fake:
        for key, value in credentials("shopify").items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("SKUREEL_SHOPIFY_BASE_URL", fake.url)
        state = PublishState(f"sqlite:///{tmp_path / 'state.sqlite'}")

        async def go() -> PublishReport:
            target = ShopifyTarget.from_options({"poll_s": 0.01})
            try:
                return await publish_all([lonely, known], [target], state)
            finally:
                await target.aclose()

        report = asyncio.run(go())
        assert [f.error for f in report.failures] == ["shopify: no product has a variant with SKU SKU 1/x"]
        assert report.count("uploaded") == 1 and fake.state.stats()["media_created"] == 1


def test_fsspec_target_on_s3_puts_adopts_and_retires(s3_endpoint: str, tmp_path: Path,  # noqa: F811 - fixture
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    for key, value in {"SKUREEL_S3_ENDPOINT_URL": s3_endpoint, "AWS_ACCESS_KEY_ID": "test",
                       "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket="dam")
    clip = deliverable(tiny_mp4(tmp_path / "clip.mp4"))

    async def go(state: PublishState, retire: bool = False) -> PublishReport:
        target = build("fsspec", {"url": "s3://dam/aurora"})
        try:
            return await publish_all([] if retire else [clip], [target], state)
        finally:
            await target.aclose()

    first = asyncio.run(go(PublishState(f"sqlite:///{tmp_path / 'a.sqlite'}")))
    assert first.count("uploaded") == 1
    key = first.results[0].remote_id
    assert client.get_object(Bucket="dam", Key=f"aurora/{key}")["Body"].read() == clip.path.read_bytes()
    assert not [o["Key"] for o in client.list_objects_v2(Bucket="dam")["Contents"] if "/.tmp/" in o["Key"]]
    fresh = PublishState(f"sqlite:///{tmp_path / 'b.sqlite'}")  # a ledger that never saw it: found, not sent again
    assert asyncio.run(go(fresh)).count("adopted") == 1
    assert asyncio.run(go(fresh, retire=True)).count("retired") == 1
    assert client.list_objects_v2(Bucket="dam").get("KeyCount") == 0

