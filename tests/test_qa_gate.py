"""The QA gate inside `skureel run`, over real HTTP to the Kling fake: a faithful clip is published with its score,
a clip of another product is regenerated once (paid once more) and then held for review, never published."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import AURORA, sample_rows, write_catalog

from skureel.pipeline.gate import default_mode, retry_seed
from skureel.providers.fake.server import FakeServer

FAST = ["--formats", "9x16", "--quality", "draft", "--provider", "kling"]


@pytest.fixture()
def run_env(prefect_server: dict[str, str], tmp_path: Path) -> dict[str, str]:
    return {**prefect_server, "SKUREEL_CACHE_DIR": str(tmp_path / "cache")}


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "skureel", "run", *args], capture_output=True, text=True,
                          timeout=600, env={**os.environ, **env})


def test_modes_and_retry_seed() -> None:
    assert default_mode(["kling", "local"], None) == "gate" and default_mode(["local"], None) == "warn"
    assert default_mode(["kling"], "off") == "off"
    assert retry_seed(42) == retry_seed(42) != 42  # stable: a rerun reuses the paid retry


def test_a_faithful_hosted_clip_passes_the_gate_and_carries_its_score(run_env: dict[str, str], tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path / "cat.xlsx", sample_rows(tmp_path, ("AUR-MUG-WHT",)))
    out = tmp_path / "out"
    with FakeServer("kling", latency_s=0.3) as server:
        env = {**run_env, "SKUREEL_KLING_BASE_URL": server.url, **server.credentials}
        result = _run([str(catalog), "--brand", str(AURORA), "--out", str(out), *FAST], env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert len(server.vendor.paid) == 1  # passed first time: nothing bought twice
    rows = json.loads((out / "manifest.json").read_text())["deliverables"]
    assert len(rows) == 1 and rows[0]["qa_score"] == 1.0 and rows[0]["qa_flags"] == [] and rows[0]["qa_attempts"] == 1
    sidecar = json.loads(next((out / "clips").rglob("*.json")).read_text())
    assert sidecar["qa"]["qa_score"] == 1.0 and sidecar["qa"]["qa_flags"] == []


def test_a_rejected_clip_is_regenerated_once_and_the_good_retry_is_published(run_env: dict[str, str],
                                                                            tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path / "cat.xlsx", sample_rows(tmp_path, ("AUR-MUG-WHT",)))
    out = tmp_path / "out"
    # seed 1: the fault's first roll (0.13) hits, the second (0.85) does not: a wrong clip, then a faithful one
    with FakeServer("kling", latency_s=0.3, faults="wrong_product=0.5", seed=1) as server:
        env = {**run_env, "SKUREEL_KLING_BASE_URL": server.url, **server.credentials}
        result = _run([str(catalog), "--brand", str(AURORA), "--out", str(out), *FAST], env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert len(server.vendor.paid) == len(set(server.vendor.paid)) == 2
    data = json.loads((out / "manifest.json").read_text())
    row = data["deliverables"][0]
    assert row["qa_attempts"] == 2 and row["qa_score"] == 1.0 and row["qa_seed"] == retry_seed(row["seed"])
    assert data["summary"]["spend_usd"] == pytest.approx(2 * 0.35)  # the rejected clip counts in the spend


def test_a_clip_of_another_product_is_retried_once_then_held_for_review(run_env: dict[str, str],
                                                                        tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path / "cat.xlsx", sample_rows(tmp_path, ("AUR-MUG-WHT",)))
    out, warned = tmp_path / "out", tmp_path / "warned"
    with FakeServer("kling", latency_s=0.3, faults="wrong_product=1.0") as server:
        env = {**run_env, "SKUREEL_KLING_BASE_URL": server.url, **server.credentials}
        result = _run([str(catalog), "--brand", str(AURORA), "--out", str(out), *FAST, "--max-spend", "5"], env)
        assert result.returncode == 1, result.stdout + result.stderr
        assert len(server.vendor.paid) == len(set(server.vendor.paid)) == 2  # one regeneration, a new content key
        data = json.loads((out / "manifest.json").read_text())
        assert data["deliverables"] == [] and not list(out.rglob("*.mp4"))  # nothing failing is published
        reasons = [f["reason"] for f in data["summary"]["failures"]]
        assert any(r.startswith("needs review: the clip shows a different product") for r in reasons), reasons
        assert data["summary"]["spend_usd"] == pytest.approx(2 * 0.35)  # both clips were paid for, inside the budget
        assert "needs review" in (out / "report.html").read_text()
        assert "needs review" in result.stdout

        again = _run([str(catalog), "--brand", str(AURORA), "--out", str(out), *FAST], env)
        assert again.returncode == 1 and len(server.vendor.paid) == 2  # a rerun reuses both paid clips

    with FakeServer("kling", latency_s=0.3, faults="wrong_product=1.0") as server:  # another output, another ledger
        env = {**run_env, "SKUREEL_KLING_BASE_URL": server.url, **server.credentials}
        shown = _run([str(catalog), "--brand", str(AURORA), "--out", str(warned), *FAST, "--qa", "warn"], env)
        assert shown.returncode == 0, shown.stdout + shown.stderr
    rows = json.loads((warned / "manifest.json").read_text())["deliverables"]
    assert len(rows) == 1 and rows[0]["qa_flags"] and "identity" in rows[0]["qa_flags"]
    assert "the clip shows a different product" in (warned / "report.html").read_text()  # the flag, in words
    with (warned / "manifest.csv").open(newline="", encoding="utf-8-sig") as handle:
        assert next(csv.DictReader(handle))["qa_flags"].startswith("identity")


def test_a_local_run_records_the_check_without_holding_anything(run_env: dict[str, str], tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path / "cat.xlsx", sample_rows(tmp_path, ("AUR-TEE-NVY",)))
    out = tmp_path / "out"
    result = _run([str(catalog), "--brand", str(AURORA), "--out", str(out), "--formats", "9x16,1x1",
                   "--quality", "draft"], run_env)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = json.loads((out / "manifest.json").read_text())["deliverables"]
    assert len(rows) == 2 and all(r["qa_score"] == 1.0 and r["qa_flags"] == [] for r in rows)  # one check per shot


def test_the_retry_stays_inside_the_budget(run_env: dict[str, str], tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path / "cat.xlsx", sample_rows(tmp_path, ("AUR-MUG-WHT",)))
    out = tmp_path / "out"
    with FakeServer("kling", latency_s=0.3, faults="wrong_product=1.0") as server:
        env = {**run_env, "SKUREEL_KLING_BASE_URL": server.url, **server.credentials}
        result = _run([str(catalog), "--brand", str(AURORA), "--out", str(out), *FAST, "--max-spend", "0.4"], env)
        assert result.returncode == 1, result.stdout + result.stderr
        assert len(server.vendor.paid) == 1  # one clip fits in $0.40, its retry does not: not bought
    summary = json.loads((out / "manifest.json").read_text())["summary"]
    reason = summary["failures"][0]["reason"]
    assert reason.startswith("needs review: the clip shows a different product") and "max-spend" in reason
    assert summary["spend_usd"] == pytest.approx(0.35)
