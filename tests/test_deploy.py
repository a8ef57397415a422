"""deploy/prefect.yaml validated against Prefect's own schema, and its parameters against the flow's signature."""

from __future__ import annotations

import yaml
from tests.conftest import ROOT


def test_prefect_yaml_is_valid_and_matches_the_flow() -> None:
    from prefect.cli.deploy._models import PrefectYamlModel  # the model `prefect deploy` validates with
    from prefect.flows import load_flow_from_entrypoint

    data = yaml.safe_load((ROOT / "deploy" / "prefect.yaml").read_text())
    model = PrefectYamlModel.model_validate(data)
    names = {d.name: d for d in model.deployments}
    nightly = names["nightly-catalog-refresh"]
    assert nightly.concurrency_limit == 1 and nightly.schedules and nightly.schedules[0].cron == "0 2 * * *"
    assert "on-demand-upload" in names
    assert names["cluster-refresh"].entrypoint == "flows/catalog_fanout.py:catalog_fanout"
    assert names["chunk"].entrypoint == "flows/catalog_refresh.py:catalog_refresh"
    for deployment in model.deployments:
        path, function = deployment.entrypoint.split(":")
        flow = load_flow_from_entrypoint(f"{ROOT / path}:{function}")
        accepted = set(flow.parameters.properties)
        assert set(deployment.parameters) <= accepted, set(deployment.parameters) - accepted
    fanout = load_flow_from_entrypoint(str(ROOT / "flows" / "catalog_fanout.py") + ":catalog_fanout")
    child = load_flow_from_entrypoint(str(ROOT / "flows" / "catalog_refresh.py") + ":catalog_refresh")
    # every parameter the parent hands each child exists on the child
    assert {"only", "chunk", "qa", "languages", "max_spend"} <= set(child.parameters.properties)
    assert {"chunk_skus", "max_attempts"} <= set(fanout.parameters.properties)
