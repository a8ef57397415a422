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


def test_run_seeded_from_a_compare_pick_reuses_the_picked_clip(prefect_server: dict[str, str], tmp_path: Path) -> None:
    import json

    from tests.conftest import sample_rows, write_catalog
    from tests.test_flow import skureel

    catalog = write_catalog(tmp_path / "cat.xlsx", sample_rows(tmp_path, ("AUR-TEE-NVY",)))
    sheet, out = tmp_path / "compare", tmp_path / "out"
    with FakeServer("kling", latency_s=0.2) as kling:
        env = {**prefect_server, "SKUREEL_CACHE_DIR": str(tmp_path / "cache"), "SKUREEL_KLING_BASE_URL": kling.url,
               **kling.credentials}
        common = [str(catalog), "--brand", str(AURORA), "--sku", "AUR-TEE-NVY", "--out", str(sheet)]
        first = skureel(["compare", *common, "--models", "kling:kling-v3", "--seeds", "2", "--no-qa"], env)
        assert first.returncode == 0 and len(kling.vendor.paid) == 2, first.stdout + first.stderr
        with (sheet / "AUR-TEE-NVY" / "compare.csv").open(encoding="utf-8") as handle:
            second = list(csv.DictReader(handle))[1]
        bad = skureel(["compare", *common, "--pick", "7"], env)
        assert bad.returncode == 2 and "give a row number 1-2" in bad.stderr
        picked = skureel(["compare", *common, "--pick", f"kling:kling-v3@{second['seed']}"], env)
        assert picked.returncode == 0, picked.stdout + picked.stderr
        run = ["run", str(catalog), "--brand", str(AURORA), "--out", str(out), "--formats", "9x16", "--qa", "off",
               "--seed-from", f"compare={sheet}"]
        refused = skureel([*run, "--provider", "local"], env)
        assert refused.returncode == 2 and "picked on kling:kling-v3, but kling is not in --provider" in refused.stderr
        done = skureel([*run, "--provider", "kling"], env)
        assert done.returncode == 0, done.stdout + done.stderr
        assert len(kling.vendor.paid) == 2  # the picked variant's clip came from the ledger: nothing paid again
    row = json.loads((out / "manifest.json").read_text())["deliverables"][0]
    assert (row["model"], str(row["seed"]), row["content_key"]) == ("kling-v3", second["seed"], second["content_key"])
