from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
SAMPLE = ROOT / "catalogs" / "sample" / "products.xlsx"
AURORA = ROOT / "brand_kits" / "aurora"
NORDLYS = ROOT / "brand_kits" / "nordlys"

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

needs_corpus = pytest.mark.skipif(not CORPUS.exists(), reason="../shared/corpus is absent in this checkout")


@pytest.fixture()
def settings(tmp_path: Path):  # noqa: ANN201
    from skureel.settings import Settings

    return Settings(cache_dir=tmp_path / "cache", allow_private_urls=True)
