"""The QA gate inside `skureel run`, over real HTTP to the Kling fake: a faithful clip is published with its score,
a clip of another product is regenerated once (paid once more) and then held for review, never published.

The fake builds each clip from the submitted image (`content=prompt`: a `[content:MODE]` marker in the product's
title picks what its clips show, providers/fake/content.py), so one run holds one SKU per failure the gate knows."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image
from tests.conftest import AURORA, sample_rows, write_catalog
from tests.test_qa_clips import packshot, with_label

from skureel.naming import sku_key
from skureel.pipeline.gate import default_mode, retry_seed, review_rel
from skureel.providers.fake.content import MARKER, ContentPlan, split_content
from skureel.providers.fake.server import FakeServer

IMAGES = Path(__file__).resolve().parents[1] / "catalogs" / "sample" / "images"
# what the fake shows for the SKU -> (photo, the measure that must fail, words of the reason)
CASES = {
    "other": ("film_camera.jpg", "identity", r"^needs review: the clip shows a different product from the photo"),
    "hue": ("scarf.jpg", "colour", r"^needs review: colour shifted ΔE \d+ from the photo"),
    "label": ("labelled.png", "text", r"^needs review: the label text changed after [\d.]+ s \(read '\w+' instead of 'SERUM'\)"),
    "drift": ("scarf.jpg", "drift", r"^needs review: the (background|product|light on the \w+) (got|turned) "
                                    r"(darker|brighter|warmer|cooler)"),
    "flicker": ("tea_box.jpg", "flicker", r"^needs review: the brightness flickers from frame to frame"),
}

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


def test_warn_publishes_a_failing_clip_with_its_flags_in_words(run_env: dict[str, str], tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path / "cat.xlsx", sample_rows(tmp_path, ("AUR-MUG-WHT",)))
    warned = tmp_path / "warned"
    with FakeServer("kling", latency_s=0.3, faults="wrong_product=1.0") as server:
        env = {**run_env, "SKUREEL_KLING_BASE_URL": server.url, **server.credentials}
        shown = _run([str(catalog), "--brand", str(AURORA), "--out", str(warned), *FAST, "--qa", "warn"], env)
        assert shown.returncode == 0, shown.stdout + shown.stderr
        assert len(server.vendor.paid) == 1  # warn never regenerates
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
        assert summary["failures"] == [] and summary["needs_review"] == 1
        reason = summary["held"][0]["reason"]
        assert reason.startswith("needs review: the clip shows a different product") and "max-spend" in reason
        assert summary["spend_usd"] == pytest.approx(0.35)
        # the hold remembers that the automatic retry was never bought: with room in the budget, a rerun buys it
        more = _run([str(catalog), "--brand", str(AURORA), "--out", str(out), *FAST, "--max-spend", "1"], env)
        assert more.returncode == 1 and len(server.vendor.paid) == 2, more.stdout + more.stderr
    held = json.loads((out / "manifest.json").read_text())["summary"]["held"]
    assert held[0]["qa_attempts"] == 2 and "max-spend" not in held[0]["reason"]


def test_the_fakes_content_spec_picks_a_mode_per_attempt_and_per_prompt() -> None:
    rest, plan = split_content("5xx=0.1,content=other/faithful")
    assert rest == "5xx=0.1" and plan is not None
    assert [plan.choose("a mug", b"png") for _ in range(3)] == ["other", "faithful", "faithful"]
    assert plan.choose("a cup", b"png") == "other"  # another shot: its own first attempt
    by_prompt = ContentPlan("prompt")
    assert by_prompt.choose("the Mug [content:hue]: rests", b"") == "hue"
    assert by_prompt.choose("the Mug: rests", b"") == "faithful"
    with pytest.raises(ValueError, match="unknown content 'sepia'"):
        split_content("content=sepia")


def _case_rows(folder: Path) -> list[dict[str, object]]:
    """One SKU per content mode (the mode in its title), plus one whose explicit retry is made to pass."""
    images = folder / "images"
    images.mkdir(parents=True, exist_ok=True)
    labelled = with_label(packshot(IMAGES / "serum.jpg", 600), "SERUM", (0.33, 0.50, 0.67, 0.64))
    Image.fromarray(labelled).save(images / "labelled.png")
    for name in {"mug.png", *(photo for photo, _, _ in CASES.values())} - {"labelled.png"}:
        (images / name).write_bytes((IMAGES / name).read_bytes())
    cases = {"faithful": "mug.png", **{mode: photo for mode, (photo, _, _) in CASES.items()},
             "other/other/faithful": "mug.png"}
    return [{"SKU": f"QA-{i}", "Title": f"Studio Product {i} [content:{mode}]", "Category": "Home", "Price": 20.0,
             "Currency": "USD", "Image": f"images/{photo}", "Duration": 2} for i, (mode, photo) in enumerate(cases.items())]


def _paid_per_mode(server: FakeServer) -> Counter[str]:
    marks = (MARKER.search(str(job.inputs.get("prompt"))) for job in server.vendor.jobs.values())
    return Counter(m.group(1) for m in marks if m)


def test_each_failure_is_retried_once_then_held_and_a_rerun_pays_nothing(run_env: dict[str, str],
                                                                         tmp_path: Path) -> None:
    rows = _case_rows(tmp_path)
    sku = {str(r["Title"]).partition("[content:")[2].rstrip("]"): str(r["SKU"]) for r in rows}
    catalog = write_catalog(tmp_path / "cat.xlsx", rows)
    out = tmp_path / "out"
    with FakeServer("kling", latency_s=0.3, content="prompt") as server:
        env = {**run_env, "SKUREEL_KLING_BASE_URL": server.url, **server.credentials}
        result = _run([str(catalog), "--brand", str(AURORA), "--out", str(out), *FAST], env)
        assert result.returncode == 1, result.stdout + result.stderr  # held clips are not delivered: exit 1
        assert _paid_per_mode(server) == {"faithful": 1, **{m: 2 for m in CASES}, "other/other/faithful": 2}
        assert "6 held for review" in result.stdout and "failed" not in result.stdout.split("held for review")[0][-200:]
        data = json.loads((out / "manifest.json").read_text())
        summary = data["summary"]
        assert summary["failed"] == 0 and summary["failures"] == [] and summary["needs_review"] == 6

        # the faithful clip is published with its score; nothing failing is
        assert [(r["sku"], r["status"], r["qa_score"], r["qa_flags"]) for r in data["deliverables"]] == [
            (sku["faithful"], "delivered", 1.0, [])]
        assert {p.parent.name for p in (out / "clips").rglob("*.mp4")} == {sku_key(sku["faithful"])}
        held = {h["sku"]: h for h in summary["held"]}
        for mode, (_, measure, words) in CASES.items():
            cell = held[sku[mode]]
            assert cell["status"] == "needs_review" and cell["qa_flags"] == [measure], (mode, cell)
            assert re.search(words, cell["reason"]), (mode, cell["reason"])
            assert cell["qa_attempts"] == 2 and 0 <= cell["qa_score"] < 1 and Path(cell["clip_path"]).is_file()
            review = json.loads((out / review_rel(cell["sku"], cell["shot"])).read_text())
            assert review["status"] == "needs_review" and review["qa_flags"] == [measure]
            assert len(set(review["content_keys"])) == 2  # the retry was another clip (a new seed)
        with (out / "manifest.csv").open(newline="", encoding="utf-8-sig") as handle:
            statuses = Counter(r["status"] for r in csv.DictReader(handle))
        assert statuses == {"delivered": 1, "needs_review": 6}
        report = (out / "report.html").read_text()
        assert "Needs review" in report and "colour shifted ΔE" in report

        # a rerun answers from the ledger: nothing paid again, every cell still held
        again = _run([str(catalog), "--brand", str(AURORA), "--out", str(out), *FAST], env)
        assert again.returncode == 1 and len(server.vendor.paid) == 13, again.stdout + again.stderr
        assert json.loads((out / "manifest.json").read_text())["summary"]["needs_review"] == 6

        # asked explicitly, a held cell buys one more clip; this one passes, is published and leaves review
        retried = _run([str(catalog), "--brand", str(AURORA), "--out", str(out), *FAST, "--qa", "retry",
                        "--only", sku["other/other/faithful"]], env)
        assert retried.returncode == 0, retried.stdout + retried.stderr
        assert _paid_per_mode(server)["other/other/faithful"] == 3 and len(server.vendor.paid) == 14
    row = next(r for r in json.loads((out / "manifest.json").read_text())["deliverables"]
               if r["sku"] == sku["other/other/faithful"])
    assert row["qa_attempts"] == 3 and row["qa_seed"] == retry_seed(row["seed"], 2) and row["qa_flags"] == []
    assert not (out / review_rel(row["sku"], row["shot"])).exists()  # released: its review sidecar is gone
