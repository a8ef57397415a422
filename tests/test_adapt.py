"""Photos adapted to a hosted model's limits before submit: aspect, minimum side, bytes; cached; keyed."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
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
