"""`skureel cluster status`: the cluster's Prefect server over its REST API (plain HTTP, no prefect import)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import typer

from skureel.domain import UnusableInput

if TYPE_CHECKING:
    import httpx

POOL = "skureel-process"


def api_url() -> str:
    url = os.environ.get("PREFECT_API_URL", "").rstrip("/")
    if not url:
        raise UnusableInput("--on-cluster needs PREFECT_API_URL (eval \"$(deploy/cluster.sh env)\")")
    return url


def _call(client: httpx.Client, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    import httpx

    try:
        response = client.request(method, path, json=body)
    except httpx.HTTPError as exc:
        raise UnusableInput(f"the cluster's Prefect server at {client.base_url} does not answer ({type(exc).__name__});"
                            " start it with deploy/cluster.sh up") from exc
    response.raise_for_status()
    return response.json() if response.content else None


def status_lines() -> list[str]:
    """Workers, running chunks and provider slots, one line each."""
    import httpx

    lines = []
    with httpx.Client(base_url=api_url(), timeout=15) as client:
        _call(client, "GET", "/health")
        lines.append(f"server  {client.base_url}  healthy")
        for worker in _call(client, "POST", f"/work_pools/{POOL}/workers/filter", {}) or []:
            lines.append(f"worker  {worker['name']}  {str(worker.get('status', '')).lower()}  "
                         f"last heartbeat {worker.get('last_heartbeat_time', '')}")
        running = _call(client, "POST", "/flow_runs/filter", {
            "flow_runs": {"state": {"type": {"any_": ["RUNNING", "PENDING"]}}}, "limit": 200}) or []
        for run in running:
            params = run.get("parameters") or {}
            chunk = params.get("chunk") or ""
            kind = f"chunk {chunk} ({len(params.get('only') or [])} SKUs)" if chunk else "run"
            lines.append(f"{kind}  {run['name']}  {run['state_type'].lower()}  pid {run.get('infrastructure_pid') or '-'}"
                         f"  on {(run.get('labels') or {}).get('prefect.worker.name', '-')}")
        for limit in _call(client, "POST", "/v2/concurrency_limits/filter", {}) or []:
            if str(limit["name"]).startswith("skureel-"):
                lines.append(f"slots  {limit['name'].removeprefix('skureel-')}  {limit.get('active_slots', 0)}"
                             f"/{limit['limit']} in use")
    return lines


cluster_app = typer.Typer(no_args_is_help=True, help="The scale-out cluster (deploy/cluster.sh) at PREFECT_API_URL.")


@cluster_app.command("status")
def cluster_status() -> None:
    """Workers, running chunks and provider slots of the cluster; exit 2 when it does not answer."""
    from rich.console import Console

    try:
        for line in status_lines():
            Console().print(line, highlight=False, markup=False, soft_wrap=True)  # one line each, never wrapped
    except UnusableInput as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from exc
