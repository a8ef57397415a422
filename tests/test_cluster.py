"""deploy/cluster.sh on this machine: PostgreSQL, a Prefect server on it, two process workers; a 60-SKU catalog (a
few rendered locally, the rest on the Kling fake with latency) fanned out in 6 chunks; one worker and its flow-run
process SIGKILLed mid-run; everything still completes, each hosted content key is paid once, the manifest is exact,
and `down` leaves no process and no open port."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from tests.conftest import AURORA, ROOT, free_port, write_catalog
from tests.pg import pg_bin

from skureel.providers.fake.server import FakeServer

CLUSTER = ROOT / "deploy" / "cluster.sh"
pytestmark = [pytest.mark.slow, pytest.mark.skipif(pg_bin() is None, reason="PostgreSQL not installed")]


def _api(url: str, path: str, body: dict | None = None) -> dict | list:
    response = httpx.post(f"{url}{path}", json=body or {}, timeout=30) if body is not None else httpx.get(f"{url}{path}", timeout=30)
    response.raise_for_status()
    return response.json()


def _flow_runs(url: str) -> list[dict]:
    return _api(url, "/flow_runs/filter", {"limit": 200})  # type: ignore[return-value]


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _cluster_env(env: dict[str, str]) -> dict[str, str]:
    line = subprocess.run([str(CLUSTER), "env"], env=env, capture_output=True, text=True, check=True).stdout
    return dict(part.split("=", 1) for part in line.removeprefix("export ").replace("'", "").split())


LOCAL_EVERY = 15  # every 15th SKU is rendered locally (its row names the provider), the rest go to the Kling fake


def _catalog(folder: Path, count: int) -> Path:
    images = sorted((ROOT / "catalogs" / "sample" / "images").glob("*.jpg"))
    (folder / "images").mkdir(parents=True)
    rows = []
    for i in range(count):
        image = images[i % len(images)]
        shutil.copy(image, folder / "images" / image.name)
        rows.append({"SKU": f"CL-{i:03d}", "Title": f"Cluster product {i}", "Price": 10 + i, "Currency": "EUR",
                     "Image": f"images/{image.name}", "Shots": "hero", "Duration": 5, "Material": "cotton",
                     "Provider": "local" if i % LOCAL_EVERY == 0 else ""})
    return write_catalog(folder / "catalog.xlsx", rows)


def test_a_killed_worker_loses_nothing_and_pays_nothing_twice(tmp_path: Path) -> None:
    state = Path(tempfile.mkdtemp(prefix="skureel-cluster-"))  # under /tmp: PostgreSQL's user must reach it
    api_port, pg_port = free_port(), free_port()
    out, skus = tmp_path / "out", 60
    catalog = _catalog(tmp_path / "cat", skus)
    hosted = len([i for i in range(skus) if i % LOCAL_EVERY])
    with FakeServer("kling", latency_s=1.0) as kling:
        kling.vendor.clip_seconds = 1.0  # the vendor's clips are short: composing them stays cheap on 2 cores
        env = {**os.environ, "SKUREEL_CLUSTER_DIR": str(state), "SKUREEL_CLUSTER_API_PORT": str(api_port),
               "SKUREEL_CLUSTER_PG_PORT": str(pg_port), "SKUREEL_CLUSTER_UI": "false",
               "SKUREEL_CLUSTER_PG_OPTIONS": "-c fsync=off -c synchronous_commit=off",
               "PREFECT_WORKER_QUERY_SECONDS": "2", "SKUREEL_CLAIM_LEASE_S": "20", "SKUREEL_CHUNK_SKUS": "10", "SKUREEL_CHUNK_TIMEOUT_S": "400",
               "SKUREEL_CACHE_DIR": str(tmp_path / "cache"), "SKUREEL_KLING_BASE_URL": kling.url,
               "SKUREEL_MAX_PARALLEL_RENDERS": "1", **kling.credentials}
        env.pop("PREFECT_API_URL", None)
        api = f"http://127.0.0.1:{api_port}/api"
        try:
            up = subprocess.run([str(CLUSTER), "up", "--workers", "2", "--limit", "2"], env=env, capture_output=True,
                                text=True, timeout=400)
            assert up.returncode == 0, up.stdout + up.stderr
            status = subprocess.run([str(CLUSTER), "status"], env=env, capture_output=True, text=True, timeout=60)
            assert status.returncode == 0 and "worker-2  pid" in status.stdout, status.stdout
            client_env = {**env, "PREFECT_API_URL": api, "PREFECT_HOME": str(state / "client-home"),
                          "SKUREEL_LEDGER_URL": _cluster_env(env)["SKUREEL_LEDGER_URL"]}
            cli = subprocess.Popen([sys.executable, "-m", "skureel", "run", str(catalog), "--brand", str(AURORA),
                                    "--provider", "kling", "--formats", "9x16", "--quality", "draft", "--qa", "off",
                                    "--bases", "per-family", "--out", str(out), "--on-cluster"], env=client_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True)

            victim = None
            deadline = time.monotonic() + 300
            while victim is None and time.monotonic() < deadline:  # a chunk running on a worker, mid-work
                for run in _flow_runs(api):
                    if run["parent_task_run_id"] and run["state_type"] == "RUNNING" and run["infrastructure_pid"]:
                        victim = run
                        break
                time.sleep(1)
            assert victim is not None, "no chunk ever ran"
            time.sleep(4)  # let it submit and start paying
            assert victim["parameters"]["bases"] == "per-family"  # the fan-out carries the run's options to each chunk
            worker = victim["labels"]["prefect.worker.name"].rsplit("-", 1)[-1]
            worker_pid = int((state / f"worker-{worker}.pid").read_text())
            os.kill(worker_pid, signal.SIGKILL)
            os.kill(int(victim["infrastructure_pid"]), signal.SIGKILL)
            shown = subprocess.run([sys.executable, "-m", "skureel", "cluster", "status"], env=client_env,
                                   capture_output=True, text=True, timeout=120).stdout
            # the killed chunk still shows running (its host's loss is noticed by heartbeat), and Kling's shared slots
            assert f"chunk {victim['parameters']['chunk']}" in shown and "slots  kling" in shown, shown
            assert "worker  skureel-worker-1" in shown, shown

            output, _ = cli.communicate(timeout=900)
            assert cli.returncode == 0, output[-4000:]
            assert f"{skus} clips delivered" in output, output[-2000:]
            killed = _api(api, f"/flow_runs/{victim['id']}")
            assert killed["state_type"] == "CRASHED"  # type: ignore[index]

            manifest = json.loads((out / "manifest.json").read_text())
            delivered = [d for d in manifest["deliverables"] if d["status"] == "delivered"]
            assert sorted(d["sku"] for d in delivered) == [f"CL-{i:03d}" for i in range(skus)], manifest["summary"]
            assert all(Path(d["uri"]).is_file() for d in delivered) and not manifest["summary"]["failures"]
            keys = {d["content_key"] for d in delivered if d["provider"] == "kling"}
            assert len(keys) == hosted and len(kling.vendor.paid) == hosted  # paid once per content key, crash or not
            assert len([d for d in delivered if d["provider"] == "local"]) == skus - hosted
        finally:
            down = subprocess.run([str(CLUSTER), "down"], env=env, capture_output=True, text=True, timeout=120)
            pids = [int(p.read_text()) for p in state.glob("*.pid")]
            shutil.rmtree(state, ignore_errors=True)
        assert down.returncode == 0, down.stderr
        assert not pids  # down removed every pid file it stopped
        time.sleep(1)
        assert not _port_open(api_port)
        leftovers = subprocess.run(["pgrep", "-f", str(state)], capture_output=True, text=True).stdout.split()
        assert not leftovers, leftovers
