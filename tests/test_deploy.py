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
    flow = load_flow_from_entrypoint(str(ROOT / "flows" / "catalog_refresh.py") + ":catalog_refresh")
    accepted = set(flow.parameters.properties)
    for deployment in model.deployments:
        assert deployment.entrypoint == "flows/catalog_refresh.py:catalog_refresh"
        assert set(deployment.parameters) <= accepted, set(deployment.parameters) - accepted
