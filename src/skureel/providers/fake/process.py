"""A fake vendor in its own process (the soak benchmark): the client measured is then the only code in its process.

In a thread beside the client, the fake's request handling and clip encoding share the client's interpreter lock,
so a soak measured the two together. Here the fake runs under `python -m skureel.providers.fake.process CONFIG`,
prints its port, and is steered over loopback: `/_fake/account` sets the account's credit, `/_fake/stats` reads
what it was paid for (providers/fake/common.py).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel

from skureel.providers.fake.server import FAKE_CREDENTIALS


class FakeConfig(BaseModel):
    name: str
    faults: str = ""
    latency_s: float = 0.5
    concurrency: int = 4
    seed: int = 7
    clip_seconds: float = 60.0
    timeout_s: float = 0.5  # how long a `timeout` fault holds the create request
    retry_after_s: float = 1.0  # the Retry-After a throttled create is given (fakes that send one)
    credit: int | None = None  # paid jobs the account covers; None = unlimited
    tiny_clips: bool = False  # every job answers with one small MP4 made at start (see FakeVendor.tiny_clip)


class FakeStats(BaseModel):
    paid: list[str]  # external ids, else digests of what was sent (FakeJob.paid_as), duplicates included
    failed: list[str]  # keys of jobs the vendor ran whose generation failed (no clip came of them)
    jobs: int
    credit: int | None
    spans: list[tuple[float, float]] = []  # each job's (created, ready) on the system's monotonic clock


class FakeProcess:
    """`with FakeProcess(FakeConfig(name="kling", ...)) as fake:` serves on `fake.url` until the block ends."""

    def __init__(self, config: FakeConfig) -> None:
        self.config = config
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def __enter__(self) -> FakeProcess:
        self.proc = subprocess.Popen([sys.executable, "-m", "skureel.providers.fake.process",
                                      self.config.model_dump_json()], stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # the child prints its port once it listens
        if not line.strip().isdigit():
            self.proc.kill()
            raise RuntimeError(f"the fake {self.config.name} did not start: {line.strip() or 'no output'}")
        self.url = f"http://127.0.0.1:{int(line)}"
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            if self.proc.stdout is not None:
                self.proc.stdout.close()

    @property
    def credentials(self) -> dict[str, str]:
        return FAKE_CREDENTIALS[self.config.name]

    def cpu_s(self) -> float:
        """CPU seconds the fake's process has used so far (Linux /proc; 0.0 where that is absent)."""
        assert self.proc is not None
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime, in clock ticks

    def set_credit(self, jobs: int | None) -> None:
        """The account now covers `jobs` more paid jobs (None: unlimited), as a top-up does."""
        httpx.post(f"{self.url}/_fake/account", json={"credit": jobs}, timeout=10).raise_for_status()

    def stats(self) -> FakeStats:
        response = httpx.get(f"{self.url}/_fake/stats", timeout=30)
        response.raise_for_status()
        data = response.json()
        return FakeStats(paid=data["keys"], failed=data["failed"], jobs=data["jobs"], credit=data["credit"],
                         spans=[(c, r) for c, r in data.get("spans", [])])


def _orphaned(parent: int) -> None:
    """Exit with the parent: a benchmark killed mid-run must not leave its fake serving."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _serve(config: FakeConfig) -> None:
    import threading

    import uvicorn

    threading.Thread(target=_orphaned, args=(os.getppid(),), daemon=True).start()

    from skureel.providers.fake.common import FakeVendor, parse_faults
    from skureel.providers.fake.content import split_content
    from skureel.providers.fake.server import build_app

    vendor = FakeVendor(config.name, faults=parse_faults(config.faults), latency_s=config.latency_s,
                        concurrency=config.concurrency, seed=config.seed, clip_seconds=config.clip_seconds,
                        content=split_content(config.faults)[1])
    vendor.timeout_s, vendor.credit, vendor.retry_after_s = config.timeout_s, config.credit, config.retry_after_s
    from skureel.providers.local import render_base_clip

    clip = render_base_clip(None, 64, 64, 0.1)  # the renderer's imports paid before the port is announced
    if config.tiny_clips:
        vendor.tiny_clip = clip
    # IPPROTO_TCP named, not left 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and without it
    # every answer written in two parts waits out the client's delayed ACK (40 ms a request on Linux)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = int(sock.getsockname()[1])
    vendor.base_url = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(uvicorn.Config(build_app(config.name, vendor), log_level="critical", lifespan="off",
                                           access_log=False))
    print(port, flush=True)  # listening already: the parent's first request waits in the kernel's backlog
    server.run(sockets=[sock])


if __name__ == "__main__":
    _serve(FakeConfig.model_validate(json.loads(sys.argv[1])))
