"""A hostile catalog end to end through `skureel run`: every bad row reported, every good row delivered, nothing
written outside the output and the cache, no traceback, the manifest exact."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import AURORA
from tests.hostile import image_server, write_catalog

from skureel.catalog import ingest
from skureel.naming import clip_rel


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


@pytest.mark.slow
def test_hostile_catalog_runs_to_the_end(prefect_server: dict[str, str], tmp_path: Path) -> None:
    catalog_dir = tmp_path / "upload" / "catalog"
    out, cache = tmp_path / "out", tmp_path / "cache"
    with image_server(catalog_dir / "images") as base:
        catalog, table = write_catalog(catalog_dir, base)
        before = _files(tmp_path)
        env = {**os.environ, **prefect_server, "SKUREEL_CACHE_DIR": str(cache),
               "SKUREEL_ALLOW_PRIVATE_URLS": "127.0.0.1/32", "SKUREEL_IMAGE_FETCH_TIMEOUT_S": "1",
               "SKUREEL_IMAGE_MAX_BYTES": "1500000"}
        result = subprocess.run([sys.executable, "-m", "skureel", "run", str(catalog), "--brand", str(AURORA),
                                 "--out", str(out), "--formats", "9x16", "--quality", "draft"],
                                capture_output=True, text=True, timeout=900, env=env, cwd=tmp_path)
    text = result.stdout + result.stderr
    assert result.returncode == 1, text
    assert "Traceback" not in text and not re.search(r"object at 0x[0-9a-f]+", text), text

    products = {p.source_row: p for p in ingest(catalog).products}
    by_row = {i + 2: row for i, row in enumerate(table)}  # header is sheet row 1
    assert len(table) >= 40 and set(products) == set(by_row)
    manifest = json.loads((out / "manifest.json").read_text())
    failures = manifest["summary"]["failures"]
    delivered = {d["sku"] for d in manifest["deliverables"] if d["status"] == "delivered"}
    errors_csv = (out / "errors.csv").read_text(encoding="utf-8") if (out / "errors.csv").exists() else ""

    for number, row in by_row.items():
        sku = products[number].sku
        if row.expect == "ok":
            assert sku in delivered, f"row {number} ({sku!r}) was not delivered: {text[-3000:]}"
            continue
        assert sku not in delivered, f"row {number} ({sku!r}) should have failed"
        reasons = [f["reason"] for f in failures if f.get("row") == str(number)]
        assert reasons, f"row {number} ({sku!r}) has no failure with its sheet row: {failures}"
        assert any(re.search(row.expect, r) for r in reasons), f"row {number}: {reasons} !~ {row.expect}"
        assert not any(re.search(r"0x[0-9a-f]{6,}|[A-Z][a-z]+Error\b|Traceback", r) for r in reasons), reasons
    assert delivered == {products[n].sku for n, r in by_row.items() if r.expect == "ok"}
    assert "outside the catalog's folder" in errors_csv  # ingest problems land in errors.csv with their row

    # the manifest is exact: one clip per good row, each where the naming function puts it, each file present
    assert len(manifest["deliverables"]) == len(delivered)
    for deliverable in manifest["deliverables"]:
        expected = out / clip_rel(deliverable["sku"], deliverable["shot"], deliverable["format"], ".mp4")
        assert Path(deliverable["uri"]) == expected and expected.is_file()
        assert Path(deliverable["poster_uri"]).is_file() and Path(deliverable["sidecar_uri"]).is_file()
    folders = [p.name for p in (out / "clips").iterdir()]
    assert len(folders) == len(set(folders)) == len(delivered)  # distinct SKUs never share or nest a folder
    for folder in (out / "clips").iterdir():
        assert all(f.parent == folder for f in folder.rglob("*"))

    created = _files(tmp_path) - before
    stray = [p for p in created if not (p.is_relative_to(out) or p.is_relative_to(cache))]
    assert not stray, stray
    assert not list(out.rglob("*.tmp")) and not (cache / "escape__hero__9x16.mp4").exists()
    assert (out / "skureel.log").exists()
