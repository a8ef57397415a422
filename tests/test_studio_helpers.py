"""Shared parts of the studio tests: a live app served by uvicorn on 127.0.0.1 in a thread, users, sample uploads."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from tests.conftest import ROOT, free_port, sample_rows, write_catalog

PASSWORD = "correct horse battery"
DEPLOYMENT = "catalog-refresh/on-demand-upload"


@dataclass
class Live:
    url: str
    data: Path
    app: object

    def cli(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "skureel", "studio", *args, "--data", str(self.data)],
                              input=stdin, capture_output=True, text=True, timeout=120)

    def add_user(self, email: str, workspace: str, role: str) -> None:
        result = self.cli("adduser", email, "--workspace", workspace, "--role", role, stdin=PASSWORD + "\n")
        assert result.returncode == 0, result.stderr

    def token(self, workspace: str) -> str:
        result = self.cli("token", workspace)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()


@contextmanager
def live_studio(data: Path, **overrides: object) -> Iterator[Live]:
    from skureel.web.app import create_app
    from skureel.web.config import StudioConfig

    config = StudioConfig.model_validate({"data_dir": data, "worker_poll_s": 0.5, **overrides})
    app = create_app(config)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the studio did not start"
        time.sleep(0.05)
    try:
        yield Live(url=f"http://127.0.0.1:{port}", data=data, app=app)
    finally:
        server.should_exit = True
        thread.join(20)


def sample_upload(folder: Path, skus: tuple[str, ...] = ("AUR-TEE-NVY",), bad_row: bool = True) -> tuple[Path, Path]:
    """A small sheet from the bundled sample (plus one row without a title), and a zip with its images."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = sample_rows(folder, skus)
    if bad_row:
        rows.append({**rows[0], "SKU": "BROKEN-1", "Title": None})
    sheet = write_catalog(folder / "catalog.xlsx", rows)
    archive = folder / "images.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for image in sorted((folder / "images").iterdir()):
            out.write(image, f"images/{image.name}")
    return sheet, archive


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in entries.items():
            out.writestr(name, data)
    return buffer.getvalue()


def sign_in(url: str, email: str) -> httpx.Client:
    """A browser-like client: takes the sign-in form's CSRF token, posts it, keeps the session cookie."""
    client = httpx.Client(base_url=url, timeout=60)
    page = client.get("/login")
    assert page.status_code == 200
    csrf = csrf_of(page.text)
    answer = client.post("/login", data={"email": email, "password": PASSWORD, "csrf": csrf})
    assert answer.status_code == 303, answer.text
    return client


def csrf_of(html: str) -> str:
    marker = 'name="csrf" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]


def wait_state(client: httpx.Client, batch_id: str, states: set[str], timeout: float = 400) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, object] = client.get(f"/api/v1/batches/{batch_id}").json()
        if body["state"] in states:
            return body
        assert time.monotonic() < deadline, f"batch stuck in {body['state']} ({body.get('phase')})"
        time.sleep(1)


@contextmanager
def serve_deployment(prefect_server: dict[str, str], tmp_path: Path) -> Iterator[None]:
    """The catalog-refresh flow served from a child process as DEPLOYMENT on the session's Prefect server, with
    this process's environment (set provider base URLs and keys before)."""
    env = {**os.environ, **prefect_server, "SKUREEL_CACHE_DIR": str(tmp_path / "cache"), "PREFECT_LOGGING_LEVEL": "WARNING"}
    script = "from flows.catalog_refresh import catalog_refresh; catalog_refresh.serve(name='on-demand-upload')"
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    api = prefect_server["PREFECT_API_URL"]
    deadline = time.monotonic() + 180
    try:
        while httpx.post(f"{api}/deployments/filter", json={}, timeout=10).json() == []:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "the deployment was not served"
            time.sleep(1)
        yield
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(30)


def run_on_kling(live: Live, workspace: str, sheet: Path, images: Path) -> dict[str, object]:
    """Upload through the API as the workspace, run on Kling at 9x16 draft, wait: the batch, with its cells."""
    api = httpx.Client(base_url=live.url, headers={"authorization": f"Bearer {live.token(workspace)}"}, timeout=60)
    created = api.post("/api/v1/batches", data={"brand_kit": "aurora", "formats": "9x16", "quality": "draft",
                                                "providers": "kling"},
                       files={"sheet": ("catalog.xlsx", sheet.read_bytes()), "images": ("i.zip", images.read_bytes())})
    assert created.status_code == 201, created.text
    batch_id = created.json()["id"]
    assert api.post(f"/api/v1/batches/{batch_id}/run").status_code == 202
    done = wait_state(api, batch_id, {"review", "failed"})
    cells = api.get(f"/api/v1/batches/{batch_id}/deliverables").json()["deliverables"]
    return {**done, "cells": cells}
