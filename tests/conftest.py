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


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test its own clip cache: CI exports one SKUREEL_CACHE_DIR for the whole run, and a clip another test
    paid for must never make a pay-once assertion pass (or fail) by accident."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("SKUREEL_CACHE_DIR", str(cache))
    return cache


@pytest.fixture()
def settings(tmp_path: Path):  # noqa: ANN201
    from skureel.settings import Settings

    return Settings(cache_dir=tmp_path / "cache", allow_private_urls=True)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 90.0) -> None:
    import time

    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up in {timeout}s")


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """A real `prefect server` on loopback, shared by the CLI runs of the session (flows run unchanged against it)."""
    import subprocess
    import sys

    home = tmp_path_factory.mktemp("prefect-home")
    port = free_port()
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
           "PREFECT_UI_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING"}
    log = (home / "server.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port",
                             str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/api"
    try:
        wait_http(f"{url}/health", 180)
        yield {"PREFECT_API_URL": url, "PREFECT_HOME": str(home)}
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def write_catalog(path: Path, rows: list[dict[str, object]]) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    header = list(rows[0])
    sheet.append(header)
    for row in rows:
        sheet.append([row.get(h) for h in header])
    workbook.save(path)
    return path


def sample_rows(folder: Path, skus: tuple[str, ...] = ("AUR-TEE-NVY", "AUR-MUG-WHT")) -> list[dict[str, object]]:
    """Rows of the sample catalog, with their images copied next to the new catalog."""
    import shutil

    from skureel.catalog import ingest

    out: list[dict[str, object]] = []
    (folder / "images").mkdir(parents=True, exist_ok=True)
    for product in ingest(SAMPLE).products:
        if product.sku not in skus:
            continue
        image = Path(product.resolve_image(product.images[0]))
        shutil.copy(image, folder / "images" / image.name)
        out.append({"SKU": product.sku, "Title": product.title, "Material": product.material, "Colour": product.color,
                    "Category": product.category, "Price": float(product.price.amount) if product.price else None,
                    "Currency": "USD", "Image": f"images/{image.name}", "Duration": 2})
    return out


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """A real PostgreSQL (Debian's package) for the session; its data lives in a temporary folder."""
    from tests.pg import Postgres, pg_bin

    if pg_bin() is None:
        pytest.skip("PostgreSQL is not installed (make test-services installs it)")
    import shutil
    import tempfile

    del tmp_path_factory  # pytest's folders are private to root; the postgres user needs its own under /tmp
    root = Path(tempfile.mkdtemp(prefix="skureel-pg-"))
    server = Postgres(root, port=free_port())
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
