"""A throwaway PostgreSQL cluster from Debian's package, on a Unix socket in a temporary folder."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path


def pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: [int(x) for x in p.split("/")[4].split(".")])
    return Path(found[-1]).parent if found else None


def _as_postgres(cmd: list[str]) -> list[str]:
    # initdb refuses root; Debian's package brings a `postgres` user to run it as
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


class Postgres:
    def __init__(self, root: Path, port: int = 55432) -> None:
        binary = pg_bin()
        if binary is None:
            raise RuntimeError("PostgreSQL is not installed (make test-services installs it)")
        self.bin, self.root, self.port = binary, root, port
        self.data, self.sock = root / "pg", root / "sock"

    def start(self) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        self.sock.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.sock, "postgres")
        subprocess.run(_as_postgres([str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "skureel",
                                     "-E", "UTF8", "--no-sync"]), check=True, capture_output=True)
        options = f"-k {self.sock} -p {self.port} -c listen_addresses='' -c fsync=off -c synchronous_commit=off " \
                  "-c full_page_writes=off -c max_connections=60"
        subprocess.run(_as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "pg.log"),
                                     "-w", "-o", options, "start"]), check=True, capture_output=True)
        subprocess.run(_as_postgres([str(self.bin / "createdb"), "-h", str(self.sock), "-p", str(self.port),
                                     "-U", "skureel", "skureel"]), check=True, capture_output=True)
        return self.url()

    def url(self, driver: str = "psycopg") -> str:
        return f"postgresql+{driver}://skureel@/skureel?host={self.sock}&port={self.port}"

    def stop(self) -> None:
        subprocess.run(_as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"]),
                       capture_output=True)
