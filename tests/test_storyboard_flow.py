"""A SKU with several shots on Kling 3.0 goes through the flow as one storyboard: paid once, every shot delivered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.conftest import AURORA, sample_rows, write_catalog
from tests.test_flow import skureel

from skureel.providers.fake.server import FakeServer


@pytest.fixture()
def run_env(prefect_server: dict[str, str], tmp_path: Path) -> dict[str, str]:
    return {**prefect_server, "SKUREEL_CACHE_DIR": str(tmp_path / "cache")}


def test_several_shots_of_one_sku_are_one_paid_storyboard(run_env: dict[str, str], tmp_path: Path) -> None:
    rows = sample_rows(tmp_path, ("AUR-TEE-NVY",))
    rows[0].update({"Shots": "hero,detail", "Duration": 5})
    catalog = write_catalog(tmp_path / "cat.xlsx", rows)
    out = tmp_path / "out"
    with FakeServer("kling", latency_s=0.5) as server:
        env = {**run_env, "SKUREEL_KLING_BASE_URL": server.url, **server.credentials}
        args = ["run", str(catalog), "--brand", str(AURORA), "--out", str(out), "--provider", "kling",
                "--formats", "9x16", "--quality", "final", "--qa", "off"]
        first = skureel(args, env)
        assert first.returncode == 0, first.stdout + first.stderr
        assert len(server.vendor.paid) == 1  # hero and detail in one kling-v3 multi-shot generation
        data = json.loads((out / "manifest.json").read_text())
        shots = sorted(d["shot"] for d in data["deliverables"])
        assert shots == ["detail", "hero"] and all(Path(d["uri"]).is_file() for d in data["deliverables"])
        assert {d["model"] for d in data["deliverables"]} == {"kling-v3"}
        again = skureel(args, env)
        assert again.returncode == 0 and len(server.vendor.paid) == 1  # reruns reuse the storyboard
