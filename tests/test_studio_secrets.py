"""Provider keys entered in the studio reach a deployment run as Prefect Secret blocks: a real `prefect server` on
loopback, the catalog-refresh flow served from a child process whose environment holds an operator's wrong Kling
keys, and the Kling fake (JWTs checked as the vendor does). The run is paid with the workspace's keys, which appear
in neither the flow run's parameters, its job variables nor its logs: those carry block names only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.test_studio_helpers import Live, csrf_of, live_studio, run_on_kling, sample_upload, serve_deployment, sign_in

from skureel.providers.fake.server import FakeServer
from skureel.web.runs import secret_block_name

OPERATOR = {"KLING_API_KEY": "operator-bearer-key", "KLING_ACCESS_KEY": "ak-operator", "KLING_SECRET_KEY": "sk-operator"}


@pytest.fixture()
def live(prefect_server: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Live, FakeServer]]:
    with FakeServer("kling", latency_s=0.2) as kling:
        monkeypatch.setenv("SKUREEL_KLING_BASE_URL", kling.url)
        for name, value in OPERATOR.items():  # what the server's worker has: keys that Kling refuses
            monkeypatch.setenv(name, value)
        with serve_deployment(prefect_server, tmp_path):
            monkeypatch.setenv("PREFECT_API_URL", prefect_server["PREFECT_API_URL"])
            with live_studio(tmp_path / "data") as server:
                server.add_user("ann@example.com", "aurora", "admin")
                yield server, kling


def test_a_deployment_run_is_paid_with_the_workspaces_keys_passed_as_secret_blocks(
        live: tuple[Live, FakeServer], prefect_server: dict[str, str], tmp_path: Path) -> None:
    from prefect.blocks.system import Secret
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.settings import PREFECT_API_URL, temporary_settings

    studio, kling = live
    ann = sign_in(studio.url, "ann@example.com")
    settings = ann.get("/", follow_redirects=False).headers["location"] + "/settings"
    saved = ann.post(settings + "/keys", data={"provider": "kling", "csrf": csrf_of(ann.get(settings).text),
                                               **kling.credentials})
    assert saved.status_code == 303, saved.text

    sheet, images = sample_upload(tmp_path / "upload", bad_row=False)
    done = run_on_kling(studio, "aurora", sheet, images)
    assert done["state"] == "review", done
    batch_id = str(done["id"])
    assert len(kling.vendor.paid) == 1  # the operator's keys would have been refused: the workspace's paid

    store = studio.app.state.store  # type: ignore[attr-defined]
    run = store.batch(batch_id)["run"]
    assert run.get("flow_run_id") and not run.get("pid")  # the server ran it, not the app's own worker
    workspace = store.workspace("aurora")["id"]
    names = {name: secret_block_name(studio.app.state.config, workspace, name)  # type: ignore[attr-defined]
             for name in kling.credentials}
    assert all(n.startswith("skureel-") and n.endswith(k.lower().replace("_", "-")) for k, n in names.items())
    values = [*kling.credentials.values()]
    with temporary_settings({PREFECT_API_URL: prefect_server["PREFECT_API_URL"]}), \
            get_client(sync_client=True) as client:
        flow_run = client.read_flow_run(run["flow_run_id"])
        assert flow_run.parameters["secrets"] == {**names, "KLING_API_KEY": ""}  # names only; the operator's unset
        deployment = client.read_deployment(flow_run.deployment_id)  # type: ignore[arg-type]
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run.id])))
        seen = json.dumps([flow_run.parameters, flow_run.job_variables, deployment.job_variables,
                           [log.message for log in logs]], default=str)
        assert not any(v in seen for v in values)
        for name, block in names.items():  # the blocks hold the keys, for the run to load by name
            stored: Secret[str] = Secret.load(block, _sync=True)  # type: ignore[call-arg]
            assert stored.value.get_secret_value() == kling.credentials[name]
