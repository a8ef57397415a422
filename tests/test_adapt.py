"""Photos adapted to a hosted model's limits before submit: aspect, minimum side, bytes; cached; keyed."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skureel.pipeline.adapt import Limits, adapt_image

KLING = Limits(min_side=300, max_bytes=10 * 1024 * 1024, min_aspect=1 / 2.5, max_aspect=2.5)


def _decoded(tmp_path: Path, size: tuple[int, int], name: str) -> Path:
    rng = np.random.default_rng(size[0])
    arr = rng.integers(0, 255, (size[1], size[0], 4), dtype=np.uint8)
    arr[..., 3] = 255
    path = tmp_path / name
    Image.fromarray(arr).save(path)
    return path


def test_a_tall_on_model_photo_is_padded_to_the_allowed_aspect(tmp_path: Path) -> None:
    path = _decoded(tmp_path, (375, 1024), "tall.png")
    payload = adapt_image(str(path), "sha-tall", (50, 100, 325, 1000), KLING, "#f4ece1")
    image = Image.open(io.BytesIO(payload.data))
    assert payload.adapted and image.format == "JPEG"
    assert 1 / 2.5 - 0.01 <= image.width / image.height <= 2.5 and min(image.size) >= 300
    assert image.getpixel((2, image.height // 2))[0] in range(236, 252)  # the brand background fills the sides
    x0, y0, x1, y1 = payload.box or (0, 0, 0, 0)
    assert 0 < x0 < x1 < 1 and abs(y0 - 100 / 1024) < 0.01 and abs(y1 - 1000 / 1024) < 0.01
    again = adapt_image(str(path), "sha-tall", (50, 100, 325, 1000), KLING, "#f4ece1")
    assert again is payload  # cached: one encode per photo and provider limits


def test_a_small_photo_is_upscaled_and_a_big_one_fits_the_byte_limit(tmp_path: Path) -> None:
    small = adapt_image(str(_decoded(tmp_path, (240, 260), "small.png")), "s", None, KLING)
    assert small.adapted and min(Image.open(io.BytesIO(small.data)).size) >= 300
    tight = Limits(min_side=300, max_bytes=120_000)
    big = adapt_image(str(_decoded(tmp_path, (1800, 1600), "noise.png")), "b", None, tight)
    assert len(big.data) <= 120_000 and not big.adapted  # re-encoding alone is not an adaptation of the picture
    plain = adapt_image(str(_decoded(tmp_path, (800, 1000), "plain.png")), "p", None, KLING)
    assert not plain.adapted  # unadapted photos keep the content key they always had


def test_a_tall_photo_reaches_kling_padded_and_is_accepted(tmp_path: Path, settings,  # noqa: ANN001
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Over real HTTP: the Kling fake refuses a 375x1024 image as the vendor does (1201 aspect ratio); the pipeline
    pads it before submitting, so the job is accepted and paid once."""
    import asyncio
    import base64

    from tests.conftest import AURORA
    from tests.test_providers import product, work_item

    from skureel.catalog.brandkit import load_brand_kit
    from skureel.catalog.images import ImageCache
    from skureel.ledger import Ledger
    from skureel.pipeline.hosted import Budget, HostedContext, generate_shot
    from skureel.providers.fake.klingrules import _image_size
    from skureel.providers.fake.server import FakeServer
    from skureel.render.compose import prepare

    photo = tmp_path / "on-model.jpg"
    rng = np.random.default_rng(7)
    arr = np.full((1024, 375, 3), 236, np.uint8)
    arr[120:900, 60:315] = rng.integers(40, 120, (780, 255, 3), dtype=np.uint8)
    Image.fromarray(arr).save(photo, quality=90)
    # sent as it is, the vendor's rule refuses it
    assert _image_size(base64.b64encode(photo.read_bytes()).decode()) == "aspect ratio must be between 1:2.5 and 2.5:1"
    hero = prepare(ImageCache(settings).load(str(photo)))
    with FakeServer("kling", latency_s=0.2) as server:
        monkeypatch.setenv("SKUREEL_KLING_BASE_URL", server.url)
        for key, value in server.credentials.items():
            monkeypatch.setenv(key, value)

        async def run() -> list:  # noqa: ANN202
            ctx = HostedContext(Ledger(f"sqlite:///{tmp_path / 'l.sqlite'}"), tmp_path / "cache", load_brand_kit(AURORA),
                                budget=Budget(None), poll_first_s=0.05, poll_max_s=0.2, retry_base_s=0.05, deadline_s=60)
            try:
                p = product("TALL-1")
                return [await generate_shot(p, work_item(p, "kling"), hero, ["kling"], ctx)]
            finally:
                await ctx.close()

        result = asyncio.run(run())[0]
        assert result.failure is None and result.clip, result
        assert any("padded" in note for note in result.notes) and len(server.vendor.paid) == 1
