"""With PREFECT_API_URL set, the studio submits a deployment run and follows it: a real `prefect server` on
loopback (the session's prefect_server fixture), the catalog-refresh flow served from a child process as the
`catalog-refresh/on-demand-upload` deployment, and the studio's runner calling run_deployment(timeout=0,
idempotency_key=...) and reading the flow run's state and task runs through the Prefect client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.test_studio_helpers import DEPLOYMENT, Live, live_studio, sample_upload, serve_deployment, wait_state


@pytest.fixture()
def served(prefect_server: dict[str, str], tmp_path: Path) -> Iterator[dict[str, str]]:
    with serve_deployment(prefect_server, tmp_path):
        yield prefect_server


@pytest.fixture()
def live(tmp_path: Path, served: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    monkeypatch.setenv("PREFECT_API_URL", served["PREFECT_API_URL"])
    with live_studio(tmp_path / "data") as server:
        server.add_user("ann@example.com", "aurora", "admin")
        yield server


def test_a_batch_runs_as_a_deployment_run_that_the_studio_follows(live: Live, served: dict[str, str],
                                                                  tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    sheet, images = sample_upload(tmp_path / "upload", bad_row=False)
    api = httpx.Client(base_url=live.url, headers={"authorization": f"Bearer {live.token('aurora')}"}, timeout=60)
    created = api.post("/api/v1/batches", data={"brand_kit": "aurora", "formats": "9x16", "quality": "draft"},
                       files={"sheet": ("catalog.xlsx", sheet.read_bytes()), "images": ("i.zip", images.read_bytes())})
    batch_id = created.json()["id"]
    assert api.post(f"/api/v1/batches/{batch_id}/run").status_code == 202
    done = wait_state(api, batch_id, {"review", "failed"})
    assert done["state"] == "review", done
    cells = api.get(f"/api/v1/batches/{batch_id}/deliverables").json()["deliverables"]
    assert [c["status"] for c in cells] == ["ready"] and cells[0]["url"]
    assert api.get(cells[0]["url"]).content[4:8] == b"ftyp"

    run = live.app.state.store.batch(batch_id)["run"]  # type: ignore[attr-defined]
    assert not run.get("pid")  # no worker of the app's own ran it
    with temporary_settings({PREFECT_API_URL: served["PREFECT_API_URL"]}), get_client(sync_client=True) as client:
        flow_run = client.read_flow_run(run["flow_run_id"])
        assert flow_run.state_type is not None and flow_run.state_type.value == "COMPLETED"
        assert f"batch:{batch_id}" in flow_run.tags and flow_run.parameters["review"] is False
        again = run_deployment(DEPLOYMENT, parameters=flow_run.parameters, timeout=0,
                               idempotency_key=run["idempotency_key"])
        assert str(again.id) == run["flow_run_id"]  # a resubmit after a crash gets the same flow run
    kinds = [e["kind"] for e in live.app.state.store.events_of(batch_id)]  # type: ignore[attr-defined]
    assert "started" in kinds and kinds[-1] == "finished"


def test_a_missing_deployment_is_one_clear_line(prefect_server: dict[str, str], tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_API_URL", prefect_server["PREFECT_API_URL"])
    sheet, images = sample_upload(tmp_path / "upload", bad_row=False)
    with live_studio(tmp_path / "data", deployment="catalog-refresh/not-applied") as live:
        live.add_user("ann@example.com", "aurora", "admin")
        api = httpx.Client(base_url=live.url, headers={"authorization": f"Bearer {live.token('aurora')}"}, timeout=60)
        created = api.post("/api/v1/batches", data={"brand_kit": "aurora", "formats": "9x16", "quality": "draft"},
                           files={"sheet": ("c.xlsx", sheet.read_bytes()), "images": ("i.zip", images.read_bytes())})
        batch_id = created.json()["id"]
        assert api.post(f"/api/v1/batches/{batch_id}/run").status_code == 202
        failed = wait_state(api, batch_id, {"failed", "review"}, timeout=60)
        assert failed["error"] == ("the deployment catalog-refresh/not-applied is not on the Prefect server at "
                                   f"{prefect_server['PREFECT_API_URL']}; apply deploy/prefect.yaml (prefect deploy) "
                                   "or unset PREFECT_API_URL")
