"""A paid clip is bought once per content key, not once per output folder: the same sheet moved to another folder
and written to a new output (what a studio batch does every week) reuses the cached clip instead of paying again."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import AURORA, sample_rows, write_catalog

from skureel.providers.fake.server import FakeServer

FAST = ["--formats", "9x16", "--quality", "draft", "--provider", "kling", "--qa", "off"]


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "skureel", "run", *args], capture_output=True, text=True,
                          timeout=600, env={**os.environ, **env})


def test_a_moved_sheet_in_a_new_output_pays_nothing_again(prefect_server: dict[str, str], tmp_path: Path) -> None:
    first = tmp_path / "week1"
    first.mkdir()
    catalog = write_catalog(first / "cat.xlsx", sample_rows(first, ("AUR-MUG-WHT",)))
    second = tmp_path / "week2"
    shutil.copytree(first, second)  # same bytes, another folder: the image paths differ, the images do not
    env = {**prefect_server, "SKUREEL_CACHE_DIR": str(tmp_path / "cache")}
    with FakeServer("kling", latency_s=0.2) as server:
        env |= {"SKUREEL_KLING_BASE_URL": server.url, **server.credentials}
        one = _run([str(catalog), "--brand", str(AURORA), "--out", str(tmp_path / "out1"), *FAST], env)
        assert one.returncode == 0, one.stdout + one.stderr
        assert len(server.vendor.paid) == 1
        two = _run([str(second / "cat.xlsx"), "--brand", str(AURORA), "--out", str(tmp_path / "out2"), *FAST], env)
        assert two.returncode == 0, two.stdout + two.stderr
        assert len(server.vendor.paid) == 1  # the second output reused the paid clip
        # a damaged cached clip is not trusted: the paid job is looked up and downloaded again, not bought again
        clip = next((tmp_path / "cache" / "clips").glob("*.mp4"))
        clip.write_bytes(clip.read_bytes()[:1000])
        three = _run([str(second / "cat.xlsx"), "--brand", str(AURORA), "--out", str(tmp_path / "out3"), *FAST], env)
        assert three.returncode == 0, three.stdout + three.stderr
        assert len(server.vendor.paid) == 1
    assert list((tmp_path / "out2" / "clips").rglob("*.mp4")) and list((tmp_path / "out3" / "clips").rglob("*.mp4"))
