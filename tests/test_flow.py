"""`skureel run` end to end through the real Prefect engine: outputs, incremental refresh, crash recovery."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import pytest
from PIL import Image
from tests.conftest import AURORA, sample_rows, write_catalog

FAST = ["--formats", "1x1,9x16", "--quality", "draft"]


def skureel(args: list[str], env: dict[str, str], timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "skureel", *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **env})


def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


@pytest.fixture()
def run_env(prefect_server: dict[str, str], tmp_path: Path) -> dict[str, str]:
    return {**prefect_server, "SKUREEL_CACHE_DIR": str(tmp_path / "cache")}


def test_run_publishes_everything_and_refreshes_incrementally(run_env: dict[str, str], tmp_path: Path) -> None:
    rows = sample_rows(tmp_path)
    catalog = write_catalog(tmp_path / "cat.xlsx", rows)
    out = tmp_path / "out"
    first = skureel(["run", str(catalog), "--brand", str(AURORA), "--out", str(out), *FAST], run_env)
    assert first.returncode == 0, first.stdout + first.stderr
    data = manifest(out)
    assert data["summary"]["composed_this_run"] == 4 and len(data["deliverables"]) == 4
    for row in data["deliverables"]:
        clip = Path(row["uri"])
        assert clip.exists() and hashlib.sha256(clip.read_bytes()).hexdigest() == row["sha256"]
        assert Path(row["poster_uri"]).exists() and json.loads(Path(row["sidecar_uri"]).read_text())["file"]["sha256"] == row["sha256"]
        with av.open(str(clip)) as container:
            assert container.metadata.get("title") == row["title"]
            assert row["content_key"] in container.metadata.get("comment", "")
        for key in ("sku", "title", "shot", "kind", "format", "platforms", "width", "height", "duration_s", "fps",
                    "provider", "model", "seed", "prompt", "content_key", "input_fingerprint", "cost_usd", "uri",
                    "sha256", "bytes", "created_at", "tags", "ai_generated"):
            assert key in row
    assert (out / "manifest.csv").exists() and "AUR-TEE-NVY" in (out / "report.html").read_text()
    assert not list(out.rglob("*.tmp")) and not list(out.rglob("*.part.mp4"))

    second = skureel(["run", str(catalog), "--brand", str(AURORA), "--out", str(out), *FAST], run_env)
    assert second.returncode == 0, second.stderr
    summary = manifest(out)["summary"]
    assert summary["composed_this_run"] == 0 and summary["skipped_unchanged"] == 2 and summary["delivered"] == 4

    keys_before = {(r["sku"], r["format"]): r for r in manifest(out)["deliverables"]}
    rows[0]["Price"] = 29  # only the price of the tee changes
    write_catalog(catalog, rows)
    third = skureel(["run", str(catalog), "--brand", str(AURORA), "--out", str(out), *FAST], run_env)
    assert third.returncode == 0, third.stderr
    data = manifest(out)
    assert data["summary"]["composed_this_run"] == 2 and data["summary"]["skipped_unchanged"] == 1
    after = {(r["sku"], r["format"]): r for r in data["deliverables"]}
    for fmt in ("1x1", "9x16"):
        tee_old, tee_new = keys_before[("AUR-TEE-NVY", fmt)], after[("AUR-TEE-NVY", fmt)]
        assert tee_new["content_key"] == tee_old["content_key"]  # base reused, only the composition redone
        assert tee_new["version"] == tee_old["version"] + 1 and tee_new["sha256"] != tee_old["sha256"]
        assert after[("AUR-MUG-WHT", fmt)]["created_at"] == keys_before[("AUR-MUG-WHT", fmt)]["created_at"]

    image = tmp_path / rows[0]["Image"]  # a new photo: the tee must be regenerated
    Image.open(image).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(image)
    fourth = skureel(["run", str(catalog), "--brand", str(AURORA), "--out", str(out), *FAST], run_env)
    assert fourth.returncode == 0, fourth.stderr
    final = {(r["sku"], r["format"]): r for r in manifest(out)["deliverables"]}
    assert final[("AUR-TEE-NVY", "1x1")]["content_key"] != after[("AUR-TEE-NVY", "1x1")]["content_key"]
    assert manifest(out)["summary"]["composed_this_run"] == 2

    write_catalog(catalog, rows[1:])  # the tee leaves the catalog: retired, and with --prune removed
    fifth = skureel(["run", str(catalog), "--brand", str(AURORA), "--out", str(out), *FAST, "--prune"], run_env)
    assert fifth.returncode == 0, fifth.stderr
    data = manifest(out)
    assert data["summary"]["retired"] == 2 and all(r["sku"] == "AUR-MUG-WHT" for r in data["deliverables"])
    assert not (out / "clips" / "AUR-TEE-NVY" / "AUR-TEE-NVY__hero__1x1.mp4").exists()


def test_unusable_input_exits_2_with_one_line(run_env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\x00\x01\x02" * 100)
    result = skureel(["run", str(bad), "--brand", str(AURORA), "--out", str(tmp_path / "o")], run_env)
    assert result.returncode == 2 and "Traceback" not in result.stderr and "binary" in result.stderr
    result = skureel(["run", str(bad), "--brand", str(tmp_path / "nokit"), "--out", str(tmp_path / "o")], run_env)
    assert result.returncode == 2 and "brand kit not found" in result.stderr


def test_bad_rows_are_reported_and_good_rows_delivered(run_env: dict[str, str], tmp_path: Path) -> None:
    rows = sample_rows(tmp_path, ("AUR-MUG-WHT",))
    rows.append({**rows[0], "SKU": "BROKEN", "Price": "twelve"})
    rows.append({**rows[0], "SKU": "NOIMG", "Image": "images/missing.jpg"})
    catalog = write_catalog(tmp_path / "cat.xlsx", rows)
    out = tmp_path / "out"
    result = skureel(["run", str(catalog), "--brand", str(AURORA), "--out", str(out), "--formats", "1x1",
                      "--quality", "draft"], run_env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "NOIMG" in result.stdout and "Traceback" not in result.stderr
    assert "BROKEN" in (out / "errors.csv").read_text(encoding="utf-8-sig")
    assert [r["sku"] for r in manifest(out)["deliverables"]] == ["AUR-MUG-WHT"]


def test_killed_run_resumes_without_partial_files(run_env: dict[str, str], tmp_path: Path) -> None:
    rows = sample_rows(tmp_path, ("AUR-TEE-NVY", "AUR-MUG-WHT", "AUR-SCF-MUL", "AUR-BAG-GRY"))
    catalog = write_catalog(tmp_path / "cat.xlsx", rows)
    out = tmp_path / "out"
    args = [sys.executable, "-m", "skureel", "run", str(catalog), "--brand", str(AURORA), "--out", str(out), *FAST]
    for delay in (6.0, 14.0):  # kill while rendering, then again later while publishing
        proc = subprocess.Popen(args, env={**os.environ, **run_env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        visible = [p for p in out.rglob("*.mp4") if not p.name.startswith(".")]
        for clip in visible:  # whatever is visible is whole
            with av.open(str(clip)) as container:
                assert container.streams.video[0].frames > 0
    final = skureel(args[3:], run_env)
    assert final.returncode == 0, final.stdout + final.stderr
    listed = {Path(r["uri"]).resolve() for r in manifest(out)["deliverables"]}
    present = {p.resolve() for p in (out / "clips").rglob("*.mp4") if not p.name.startswith(".")}
    assert listed == present and len(listed) == 8
    assert not [p for p in out.rglob("*.tmp")]
    for row in manifest(out)["deliverables"]:
        assert hashlib.sha256(Path(row["uri"]).read_bytes()).hexdigest() == row["sha256"]
    shutil.rmtree(out / ".skureel", ignore_errors=True)


def test_killed_run_with_a_hosted_job_in_flight_never_pays_twice(run_env: dict[str, str], tmp_path: Path) -> None:
    from skureel.providers.fake.server import FakeServer

    rows = sample_rows(tmp_path, ("AUR-TEE-NVY", "AUR-MUG-WHT"))
    catalog = write_catalog(tmp_path / "cat.xlsx", rows)
    out = tmp_path / "out"
    with FakeServer("kling", latency_s=25.0) as server:  # slow jobs: the kill lands while they are in flight
        env = {**run_env, "SKUREEL_KLING_BASE_URL": server.url, **server.credentials}
        args = [sys.executable, "-m", "skureel", "run", str(catalog), "--brand", str(AURORA), "--out", str(out),
                "--provider", "kling", *FAST]
        for _ in range(2):
            proc = subprocess.Popen(args, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, start_new_session=True)
            deadline = time.monotonic() + 60
            while len(server.vendor.paid) < 2 and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(1.0)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            assert len(server.vendor.paid) == 2  # killed twice while polling: still one paid job per content key
        server.vendor.latency_s = 0.5
        for job in server.vendor.jobs.values():
            job.ready_at = time.monotonic()
        final = skureel(args[3:], env)
        assert final.returncode == 0, final.stdout + final.stderr
        assert len(server.vendor.paid) == len(set(server.vendor.paid)) == 2
    data = manifest(out)
    assert len(data["deliverables"]) == 4 and {r["provider"] for r in data["deliverables"]} == {"kling"}
    listed = {Path(r["uri"]).resolve() for r in data["deliverables"]}
    assert listed == {p.resolve() for p in (out / "clips").rglob("*.mp4")}


def test_dry_run_plans_and_prices_without_rendering(run_env: dict[str, str], tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path / "cat.xlsx", sample_rows(tmp_path))
    out = tmp_path / "out"
    result = skureel(["run", str(catalog), "--brand", str(AURORA), "--out", str(out), "--provider", "kling",
                      "--dry-run"], run_env)
    assert result.returncode == 0, result.stdout + result.stderr
    # final quality plans Kling 3.0 (kling-v3, catalogue estimate) for both SKUs
    assert "2 SKUs would be produced" in result.stdout and "$1.01" in result.stdout
    assert not (out / "clips").exists()
