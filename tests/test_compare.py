"""`skureel compare`: one blueprint across models and seeds against fake vendors on 127.0.0.1, a side-by-side sheet,
and a rerun that reuses every variant (zero new paid jobs)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import AURORA, SAMPLE

from skureel.providers.fake.server import FakeServer


def test_compare_writes_a_sheet_and_reruns_for_free(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with FakeServer("kling", latency_s=0.2) as kling, FakeServer("minimax", latency_s=0.2) as minimax:
        env = {**os.environ, "SKUREEL_CACHE_DIR": str(tmp_path / "cache"), "SKUREEL_KLING_BASE_URL": kling.url,
               "SKUREEL_MINIMAX_BASE_URL": minimax.url, **kling.credentials, **minimax.credentials}
        args = [sys.executable, "-m", "skureel", "compare", str(SAMPLE), "--brand", str(AURORA), "--sku", "AUR-MUG-WHT",
                "--models", "kling:kling-v3-omni,minimax:MiniMax-Hailuo-02", "--seeds", "2",
                "--out", str(out)]
        first = subprocess.run([*args, "--no-qa"], env=env, capture_output=True, text=True, timeout=300)
        assert first.returncode == 0, first.stdout + first.stderr
        assert (len(kling.vendor.paid), len(minimax.vendor.paid)) == (2, 2)  # 2 models x 2 seeds, each paid once
        again = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stdout + again.stderr
        assert (len(kling.vendor.paid), len(minimax.vendor.paid)) == (2, 2)  # the rerun bought nothing
        bad = subprocess.run([*args[:-6], "--models", "kling:kling-v9"], env=env, capture_output=True, text=True,
                             timeout=120)
        assert bad.returncode == 2 and "unknown model 'kling-v9' for kling" in bad.stderr
    folder = out / "AUR-MUG-WHT"
    with (folder / "compare.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["model"] for r in rows] == ["kling:kling-v3-omni"] * 2 + ["minimax:MiniMax-Hailuo-02"] * 2
    assert len({r["seed"] for r in rows}) == 2 and all(r["reused"] == "True" for r in rows)
    assert all(float(r["cost_usd"]) > 0 and r["qa_score"] for r in rows)
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert page.count("<video ") == 4 and all((folder / r["clip"]).is_file() for r in rows)
    assert "currentTime" in page  # the players follow one clock
