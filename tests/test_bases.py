"""`--bases one|per-family`: a native 9:16 base for the vertical formats and a 16:9 base for the horizontal one, 1x1
and 4x5 from whichever keeps the product whole; `plan` prices both; each base paid once (its aspect is in the key)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image
from tests.conftest import AURORA, SAMPLE, sample_rows, write_catalog
from tests.test_flow import skureel

from skureel.catalog import ingest
from skureel.catalog.brandkit import load_brand_kit
from skureel.domain import UnusableInput
from skureel.pipeline.adapt import Limits, adapt_image
from skureel.planning.bases import choose_bases, families, flex_family, formats_for, keeps_whole
from skureel.planning.plan import build_plan
from skureel.providers.fake.server import FakeServer

ALL = ["9x16", "4x5", "1x1", "16x9"]


def test_families_and_which_base_keeps_the_product_whole() -> None:
    assert families(ALL) == ["vertical", "horizontal"]
    assert families(["9x16", "1x1"]) == ["vertical"] and families(["16x9", "4x5"]) == ["horizontal"]
    assert families(["1x1"]) == ["vertical"]  # flex formats alone: one vertical base
    tall = (0.3, 0.1, 0.7, 0.9)  # a tall bottle filling a 9:16 frame: a square crop of it cuts the bottle
    assert not keeps_whole(tall, 9 / 16, 1.0) and keeps_whole((0.3, 0.3, 0.7, 0.7), 9 / 16, 1.0)
    small = (0.4, 0.3, 0.6, 0.7)  # centred in a 16:9 frame, well inside a square crop
    assert keeps_whole(small, 16 / 9, 1.0) and keeps_whole(small, 16 / 9, 4 / 5)
    assert flex_family("1x1", {"vertical": tall, "horizontal": small}) == "horizontal"
    assert flex_family("4x5", {"vertical": tall, "horizontal": small}) == "horizontal"
    assert flex_family("4x5", {"vertical": (0.2, 0.3, 0.8, 0.7), "horizontal": small}) == "vertical"  # nearest
    assert flex_family("1x1", {"vertical": None, "horizontal": None}) == "vertical"  # no boxes: tie goes vertical
    present = {"vertical": tall, "horizontal": small}
    assert formats_for("vertical", ALL, present) == ["9x16"]
    assert formats_for("horizontal", ALL, present) == ["4x5", "1x1", "16x9"]
    assert formats_for("vertical", ALL, {"vertical": tall}) == ["9x16", "4x5", "1x1"]  # the 16:9 base failed


def test_default_rule_and_explicit_choice() -> None:
    assert choose_bases(None, split=True, per_family_usd=10.0, max_spend=None) == "one"  # never doubled unasked
    assert choose_bases(None, split=True, per_family_usd=10.0, max_spend=12.0) == "per-family"
    assert choose_bases(None, split=True, per_family_usd=10.0, max_spend=8.0) == "one"  # over budget
    assert choose_bases(None, split=False, per_family_usd=5.0, max_spend=100.0) == "one"  # one family: one base
    assert choose_bases("per-family", split=False, per_family_usd=5.0, max_spend=None) == "per-family"
    with pytest.raises(UnusableInput, match="--bases must be one or per-family"):
        choose_bases("two", split=True, per_family_usd=1.0, max_spend=None)


def test_plan_prices_one_and_per_family_side_by_side() -> None:
    kit = load_brand_kit(AURORA)
    products = [p for p in ingest(SAMPLE).products if p.sku == "AUR-TEE-NVY"]
    one = build_plan(products, kit, providers=["kling:kling-v3"], formats=ALL, bases="one")
    both = build_plan(products, kit, providers=["kling:kling-v3"], formats=ALL, bases="per-family")
    assert one.bases == "one" and both.bases == "per-family"
    assert {s.shot.aspect_ratio for s in one.shots} == {"1:1"}  # one base reframed into every format
    assert sorted((s.shot.shot_id, s.family, s.shot.aspect_ratio) for s in both.shots) == sorted(
        [(s.shot.shot_id, "vertical", "9:16") for s in one.shots] + [(s.shot.shot_id, "horizontal", "16:9")
                                                                    for s in one.shots])
    assert one.cost_by_bases == both.cost_by_bases  # the same two prices, whichever is chosen
    assert both.total_usd == pytest.approx(2 * one.total_usd) and one.cost_by_bases["one"] == one.total_usd
    assert build_plan(products, kit, providers=["kling:kling-v3"], formats=ALL).bases == "one"
    budget = both.total_usd + 0.01
    assert build_plan(products, kit, providers=["kling:kling-v3"], formats=ALL, max_spend=budget).bases == "per-family"
    vertical = build_plan(products, kit, providers=["kling:kling-v3"], formats=["9x16", "4x5"], max_spend=budget)
    assert vertical.bases == "one" and vertical.cost_by_bases["per-family"] == vertical.cost_by_bases["one"]
    local = build_plan(products, kit, providers=["local"], formats=ALL, bases="per-family")
    assert all(s.family is None for s in local.shots)  # the local renderer composes each format natively


def test_photo_is_cropped_around_the_product_or_padded_to_the_base_aspect(tmp_path: Path) -> None:
    photo = tmp_path / "wide.png"
    Image.new("RGBA", (1200, 900), (255, 255, 255, 255)).save(photo)
    small = adapt_image(str(photo), "a", (500, 350, 700, 550), Limits(target_aspect=9 / 16))
    with Image.open(io.BytesIO(small.data)) as image:
        assert abs(image.width / image.height - 9 / 16) < 0.01 and image.height == 900  # cropped, full height
    assert small.adapted and small.box is not None and 0 < small.box[0] < small.box[2] < 1
    big = adapt_image(str(photo), "b", (100, 100, 1100, 800), Limits(target_aspect=9 / 16))
    with Image.open(io.BytesIO(big.data)) as image:
        assert abs(image.width / image.height - 9 / 16) < 0.01  # padded above and below: the product stays whole
    assert big.box is not None and big.box[0] == pytest.approx(100 / 1200) and 0.2 < big.box[1] < big.box[3] < 0.8


@pytest.fixture()
def run_env(prefect_server: dict[str, str], tmp_path: Path) -> dict[str, str]:
    return {**prefect_server, "SKUREEL_CACHE_DIR": str(tmp_path / "cache")}


def test_per_family_run_pays_each_base_once_and_composes_from_the_right_one(run_env: dict[str, str],
                                                                            tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path / "cat.xlsx", sample_rows(tmp_path, ("AUR-TEE-NVY",)))
    out = tmp_path / "out"
    with FakeServer("kling", latency_s=0.3) as server:
        env = {**run_env, "SKUREEL_KLING_BASE_URL": server.url, **server.credentials}
        args = ["run", str(catalog), "--brand", str(AURORA), "--out", str(out), "--provider", "kling:kling-v3",
                "--formats", "9x16,1x1,16x9", "--qa", "off", "--bases", "per-family"]
        first = skureel(args, env)
        assert first.returncode == 0, first.stdout + first.stderr
        assert len(server.vendor.paid) == 2  # a 9:16 base and a 16:9 base, one paid job each
        sizes = sorted((j.width, j.height) for j in server.vendor.jobs.values())
        keys = {r["format"]: r["content_key"] for r in json.loads((out / "manifest.json").read_text())["deliverables"]}
        again = skureel(args, env)
        assert again.returncode == 0 and len(server.vendor.paid) == 2, again.stdout + again.stderr  # reused
    assert sizes[0][0] < sizes[0][1] and sizes[1][0] > sizes[1][1]  # natively vertical and natively horizontal
    assert sorted(keys) == ["16x9", "1x1", "9x16"] and keys["9x16"] != keys["16x9"]  # two bases, two keys
    assert keys["1x1"] in (keys["9x16"], keys["16x9"])  # the square comes from one of them, not a third purchase
    plan = skureel(["plan", str(catalog), "--brand", str(AURORA), "--provider", "kling:kling-v3", "--formats",
                    "9x16,16x9", "--max-spend", "100"], run_env)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "bases: per-family" in plan.stdout and "one $" in plan.stdout and "per-family $" in plan.stdout
