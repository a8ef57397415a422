"""The studio's one door to Prefect: runs of the catalog-refresh flow in a worker process owned by the app.

App side (`Runner`): a submitted batch is marked `running` / phase `queued` in the store; a dispatcher started by
the app spawns `python -m skureel.web.runs` for it (one at a time: the embedded, ephemeral Prefect keeps its state
in one SQLite file) and watches the worker. A worker that dies (the app or the machine restarted mid-run) is
resubmitted up to three times; that is idempotent because the output folder and its ledger are keyed by the run key
(same sheet + mapping + kit + options): finished clips are reused, nothing is paid twice.

Worker side (`main`): drives the flow as `skureel run` does, writes the flow's progress events (skureel.progress)
into the batch store, and at the end turns the run's manifest into review cells.
With PREFECT_API_URL set (and deploy/prefect.yaml applied), paid runs go to the server instead (`Remote`):
`run_deployment(..., timeout=0, idempotency_key=...)`, then the app follows that flow run (state, task runs, error
log count; never raw log text, which can carry provider payloads) through the Prefect client, and turns the run's
manifest into review cells as the worker does. The run's folder must be shared with the server's workers (one
machine, or a shared mount). The free preview always renders here, in the app's own worker. Provider keys
entered in the studio are never sent as parameters or job variables, which Prefect stores in the clear: right
before a deployment run each becomes a Prefect Secret block of its own (one per studio, workspace and key), and
the run gets only the blocks' names, loads them and sets them in its own environment for that run only
(tasks.with_secret_blocks).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

from skureel.paths import load_flow
from skureel.web import scopes, vault
from skureel.web.config import StudioConfig
from skureel.web.runwork import finish, flow_arguments, stable_inputs
from skureel.web.store import Store

MAX_ATTEMPTS = 3


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a recycled pid is not our worker
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        status = Path(f"/proc/{pid}/stat").read_text().split()
        return b"skureel.web.runs" in cmdline and status[2] != "Z"
    except (OSError, IndexError):
        return True


def remote_api() -> str | None:
    return os.environ.get("PREFECT_API_URL") or None


class Runner:
    def __init__(self, config: StudioConfig, store: Store) -> None:
        self.config, self.store = config, store
        self.remote = Remote(config, store)
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._task: asyncio.Task[None] | None = None

    def submit(self, batch_id: str, run_key: str) -> bool:
        """Queue a run; False when the batch is already running (a double submit starts one run)."""
        return self.store.claim_state(batch_id, ("estimated", "failed", "review", "done"), "running",
                                      run_key=run_key, error=None,
                                      run={"phase": "queued", "attempts": 0, "run_key": run_key})

    def cancel(self, batch_id: str, who: str) -> bool:
        """Stop a running batch: the store says so first (the dispatcher will not resubmit it), then its worker
        and the worker's render processes end. False when the batch was not running."""
        batch = self.store.batch(batch_id)
        if batch is None or not self.store.claim_state(batch_id, ("running",), "failed", error=f"cancelled by {who}",
                                                       run={**batch["run"], "phase": "cancelled"}):
            return False
        if batch["run"].get("flow_run_id"):
            self.remote.cancel(batch)
        pid = batch["run"].get("pid")
        if _alive(pid):
            try:
                os.killpg(int(pid), signal.SIGTERM)  # workers lead their own process group (start_new_session)
            except OSError:
                pass
        self.store.add_event(batch_id, "cancelled", {"by": who})
        return True

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        """Stop dispatching and end this process's workers (with their render processes); the next start
        resubmits their batches, which resumes from the ledger instead of starting over."""
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        for proc in self._procs.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(10)
                except (OSError, subprocess.TimeoutExpired):
                    proc.kill()
        self._procs.clear()

    async def _loop(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.tick)
            except Exception:  # noqa: BLE001 - the dispatcher must outlive one bad batch; the log keeps why
                traceback.print_exc()
            await asyncio.sleep(self.config.worker_poll_s)

    def tick(self) -> None:
        """One dispatcher step: reap workers, resubmit the dead ones, start queued runs while slots are free."""
        for batch_id, proc in list(self._procs.items()):
            if proc.poll() is not None:
                del self._procs[batch_id]
        running = self.store.batches_in(("running",))
        busy = sum(1 for b in running if b["run"].get("phase") != "queued" and _alive(b["run"].get("pid")))
        for batch in running:
            run = batch["run"]
            if run.get("flow_run_id") or (run.get("phase") == "queued" and remote_api()
                                          and scopes.scope_of(batch).kind != "preview"):
                self.remote.step(batch)
            elif run.get("phase") == "queued":
                if busy < self.config.max_workers:
                    self._spawn(batch)
                    busy += 1
            elif not _alive(run.get("pid")):
                attempts = int(run.get("attempts", 0))
                if attempts >= MAX_ATTEMPTS:
                    self.store.update_batch(batch["id"], state="failed", run={**run, "phase": "failed"},
                                            error="the run stopped unexpectedly three times; see the worker log")
                else:
                    self.store.add_event(batch["id"], "resubmitted", {"attempt": attempts + 1})
                    self.store.update_batch(batch["id"], run={**run, "phase": "queued", "pid": None})

    def _spawn(self, batch: dict[str, Any]) -> None:
        run = batch["run"]
        folder = Path(batch["upload_dir"])
        env = dict(os.environ)
        env.setdefault("DO_NOT_TRACK", "1")
        env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        env.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
        env.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
        if "PREFECT_API_URL" not in env:
            env.setdefault("PREFECT_HOME", str((self.config.data_dir / "prefect").resolve()))
        # one cache per workspace, inside this studio's data dir (workspace ids are per data dir): its paid clips
        # serve its next batches, never another brand's nor another studio's. A SKUREEL_CACHE_DIR in the app's
        # environment is overridden on purpose; `--data` is what moves a studio's caches to a bigger disk.
        env["SKUREEL_CACHE_DIR"] = str((self.config.data_dir / "cache" / "workspaces"
                                        / str(int(batch["workspace_id"]))).resolve())
        # the provider keys this workspace entered, for its own run only (web/vault.py)
        env = vault.run_environment(env, vault.environment(self.store, vault.Vault(self.config.data_dir),
                                                           batch["workspace_id"]))
        log = (folder / "worker.log").open("ab")
        proc = subprocess.Popen([sys.executable, "-m", "skureel.web.runs", self.config.db_url, batch["id"],
                                 str(self.config.runs_dir.resolve()), str(self.config.brand_kits_dir.resolve())],
                                env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)  # its own process group: stop() ends it with its children
        log.close()
        self._procs[batch["id"]] = proc
        self.store.update_batch(batch["id"], run={**run, "phase": "starting", "pid": proc.pid,
                                                  "attempts": int(run.get("attempts", 0)) + 1})
        self.store.add_event(batch["id"], "started", {"attempt": int(run.get("attempts", 0)) + 1})


# ---------------------------------------------------------------- a deployment run on a Prefect server


PHASES = {"SCHEDULED": "queued on Prefect", "PENDING": "starting on Prefect", "PAUSED": "paused on Prefect",
          "CANCELLING": "cancelling on Prefect"}


class Remote:
    def __init__(self, config: StudioConfig, store: Store) -> None:
        self.config, self.store = config, store

    def step(self, batch: dict[str, Any]) -> None:
        from prefect.settings import PREFECT_API_URL, temporary_settings

        api = batch["run"].get("api") or remote_api()
        with temporary_settings({PREFECT_API_URL: api}):  # the batch's own server, even after PREFECT_API_URL moved
            if batch["run"].get("flow_run_id"):
                self._follow(batch)
            else:
                self._submit(batch, str(api))

    def _submit(self, batch: dict[str, Any], api: str) -> None:
        import hashlib
        import secrets

        from prefect.client.schemas.objects import FlowRun
        from prefect.deployments import run_deployment
        from prefect.exceptions import ObjectNotFound

        run, scope = batch["run"], scopes.scope_of(batch)
        # stored before the call: an app that dies mid-submit asks again with the same key and gets the same run
        key = run.get("idempotency_key") or hashlib.sha256(
            f"{batch['run_key']}:{scope.model_dump_json()}:{secrets.token_hex(8)}".encode()).hexdigest()
        run = {**run, "idempotency_key": key, "api": api, "phase": "submitting to Prefect"}
        self.store.update_batch(batch["id"], run=run)
        run_dir = self.config.runs_dir.resolve() / str(batch["run_key"])[:32]
        skus = scope.skus or [row["sku"] for row in batch["estimate"].get("rows", [])]
        formats = scope.formats or batch["options"]["formats"]
        params = {**flow_arguments(batch, stable_inputs(batch, run_dir), run_dir / "out",
                                   self.config.brand_kits_dir.resolve(), skus, formats), "review": False}
        blocks = self._secret_blocks(int(batch["workspace_id"]))
        if blocks:  # only then: a deployment applied before this parameter existed still takes keyless runs
            params["secrets"] = blocks
        try:
            # called from the dispatcher's thread, where no event loop runs: the synchronous form
            flow_run: FlowRun = run_deployment(  # type: ignore[assignment]
                self.config.deployment, parameters=params, timeout=0, idempotency_key=key,
                tags=[f"batch:{batch['id']}", "skureel-studio"], flow_run_name=f"studio-{batch['id']}")
        except ObjectNotFound:
            self.store.claim_state(batch["id"], ("running",), "failed", run={**run, "phase": "failed"},
                                   error=f"the deployment {self.config.deployment} is not on the Prefect server at "
                                         f"{api}; apply deploy/prefect.yaml (prefect deploy) or unset PREFECT_API_URL")
            return
        self.store.update_batch(batch["id"], run={**run, "flow_run_id": str(flow_run.id), "flow_run": flow_run.name,
                                                  "phase": "submitted to Prefect", "attempts": 1})
        self.store.set_cells(batch["id"], [{"sku": sku, "shot": s["shot"], "format": fmt, "status": "queued"}
                                           for row in batch["estimate"].get("rows", []) if (sku := row["sku"]) in skus
                                           for s in row["shots"] for fmt in formats])
        self.store.add_event(batch["id"], "started", {"attempt": 1, "flow_run": flow_run.name})

    def _secret_blocks(self, workspace_id: int) -> dict[str, str]:
        """The workspace's provider keys saved as Secret blocks right before its run: environment name -> block
        name, or "" for a name the run must unset (vault.run_overrides). Blocks of keys removed since are deleted."""
        from prefect.blocks.system import Secret

        changes = vault.run_overrides(vault.environment(self.store, vault.Vault(self.config.data_dir), workspace_id))
        blocks: dict[str, str] = {}
        for name in vault.all_key_names():
            block = secret_block_name(self.config, workspace_id, name)
            value = changes.get(name)
            if value:
                Secret(value=value).save(block, overwrite=True, _sync=True)  # type: ignore[call-arg]
                blocks[name] = block
                continue
            if name in changes:
                blocks[name] = ""
            try:
                Secret.delete(block, _sync=True)  # type: ignore[call-arg]
            except Exception:  # noqa: BLE001 - Prefect says ValueError for a missing block: nothing to forget
                pass
        return blocks if any(blocks.values()) else {}

    def _follow(self, batch: dict[str, Any]) -> None:
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.filters import (
            FlowRunFilter,
            FlowRunFilterId,
            LogFilter,
            LogFilterFlowRunId,
            LogFilterLevel,
        )

        run = batch["run"]
        with get_client(sync_client=True) as client:
            flow_run = client.read_flow_run(run["flow_run_id"])
            tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run.id])))
            errors = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run.id]),
                                                           level=LogFilterLevel(ge_=40)), limit=50)
        state = flow_run.state_type.value if flow_run.state_type else "PENDING"
        done = sum(1 for t in tasks if t.state_type is not None and t.state_type.value == "COMPLETED")
        phase = PHASES.get(state, f"running on Prefect: {done} of {len(tasks)} tasks done")
        if state in ("COMPLETED", "FAILED", "CANCELLED", "CRASHED"):
            out = self.config.runs_dir.resolve() / str(batch["run_key"])[:32] / "out"
            manifest = out / "manifest.json"
            if state == "COMPLETED" and manifest.exists():
                finish(self.store, batch, out, json.loads(manifest.read_text(encoding="utf-8")).get("summary", {}))
                return
            self.store.claim_state(batch["id"], ("running",), "failed", run={**run, "phase": "failed"},
                                   error=f"the Prefect flow run {flow_run.name} ended {flow_run.state_name}"
                                         f"{'' if state != 'COMPLETED' else ' without a manifest'}; "
                                         "see it on the Prefect server")
            self.store.add_event(batch["id"], "finished", {"state": flow_run.state_name})
        elif phase != run.get("phase"):
            self.store.update_batch(batch["id"], run={**run, "phase": phase, "tasks": len(tasks), "errors": len(errors)})
            if state == "RUNNING" and not str(run.get("phase", "")).startswith("running"):
                self.store.set_cells(batch["id"], [{**{k: c[k] for k in ("sku", "shot", "format")}, "status": "rendering"}
                                                   for c in self.store.cells_of(batch["id"]) if c["status"] == "queued"])

    def cancel(self, batch: dict[str, Any]) -> None:
        from prefect.client.orchestration import get_client
        from prefect.settings import PREFECT_API_URL, temporary_settings
        from prefect.states import Cancelling

        with temporary_settings({PREFECT_API_URL: batch["run"].get("api") or remote_api()}), \
                get_client(sync_client=True) as client:
            client.set_flow_run_state(batch["run"]["flow_run_id"], Cancelling())


def secret_block_name(config: StudioConfig, workspace_id: int, name: str) -> str:
    """`skureel-<studio>-w<workspace>-<key>` in the lower case, digits and dashes of Prefect's block names; <studio>
    (a digest of the data dir) keeps apart studios that share a server, whose workspace ids overlap."""
    import hashlib
    import re

    studio = hashlib.sha256(str(config.data_dir.resolve()).encode()).hexdigest()[:10]
    key = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return f"skureel-{studio}-w{int(workspace_id)}-{key}"


# ---------------------------------------------------------------- worker process


def work(store: Store, batch_id: str, runs_dir: Path, kits_dir: Path) -> None:
    from skureel import progress
    from skureel.domain import SkureelError

    batch = store.batch(batch_id)
    if batch is None:
        return
    options = batch["options"]
    scope = scopes.scope_of(batch)  # a part of the batch: one cell, the failed rows, a canary, the preview
    run_dir = runs_dir / str(batch["run_key"])[:32]
    out = run_dir / "out"
    sheet = stable_inputs(batch, run_dir)
    skus = scope.skus or [row["sku"] for row in batch["estimate"].get("rows", [])]
    formats = scope.formats or options["formats"]
    if scope.kind == "preview":
        preview = run_dir / "preview"
        scopes.preview(store, batch, load_flow(), flow_arguments(batch, sheet, preview, kits_dir, skus, formats))
        return
    shots = {row["sku"]: [s["shot"] for s in row["shots"]] for row in batch["estimate"].get("rows", [])}
    store.set_cells(batch_id, [{"sku": sku, "shot": shot, "format": fmt, "status": "queued"}
                               for sku in skus for shot in shots[sku] for fmt in formats])

    def listen(event: str, data: dict[str, Any]) -> None:
        store.add_event(batch_id, event, data)
        if event == "planned":
            store.update_batch(batch_id, run={**batch["run"], "pid": os.getpid(), "phase": "rendering", **data})
            store.set_cells(batch_id, [{"sku": s, "shot": sh, "format": f, "status": "rendering"}
                                       for s in skus for sh in shots[s] for f in formats])
        elif event == "sku_done" and data.get("sku") in shots:
            sku = str(data["sku"])
            store.set_cells(batch_id, [{"sku": sku, "shot": sh, "format": f, "status": "composed"}
                                       for sh in shots[sku] for f in formats])

    progress.subscribe(listen)
    store.update_batch(batch_id, run={**batch["run"], "pid": os.getpid(), "phase": "starting Prefect"})
    try:
        flow = load_flow()
        summary = asyncio.run(flow(**flow_arguments(batch, sheet, out, kits_dir, skus, formats)))
    except SkureelError as exc:
        store.claim_state(batch_id, ("running",), "failed", error=str(exc), run={**batch["run"], "phase": "failed"})
        return
    finally:
        progress.unsubscribe(listen)
    finish(store, batch, out, summary)


def main(argv: list[str]) -> int:
    db_url, batch_id, runs_dir, kits_dir = argv
    store = Store(db_url)
    try:
        work(store, batch_id, Path(runs_dir), Path(kits_dir))
    except Exception as exc:  # noqa: BLE001 - a bug or an outage: the batch says one line, the log keeps the rest
        traceback.print_exc()
        store.claim_state(batch_id, ("running",), "failed", error=f"the run failed unexpectedly ({type(exc).__name__}); "
                                                          "see the worker log", run={"phase": "failed"})
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
