"""Provider keys entered in the studio: encrypted at rest, never shown again (last four only), used for that
workspace's runs only. A run on the Kling fake (real HTTP on 127.0.0.1, JWTs checked as the vendor does) is
paid with the keys of the workspace that entered them; another workspace's run of the same sheet has none."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.test_studio_helpers import Live, csrf_of, live_studio, run_on_kling, sample_upload, sign_in

from skureel.providers.fake.server import FakeServer
from skureel.web import vault


@pytest.fixture()
def kling(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    with FakeServer("kling", latency_s=0.2) as server:
        monkeypatch.setenv("SKUREEL_KLING_BASE_URL", server.url)  # the run workers inherit it
        for name in ("KLING_API_KEY", "KLING_ACCESS_KEY", "KLING_SECRET_KEY"):
            monkeypatch.delenv(name, raising=False)  # only keys entered in the studio exist
        yield server


@pytest.fixture()
def live(tmp_path: Path) -> Iterator[Live]:
    with live_studio(tmp_path / "data") as server:
        server.add_user("ann@example.com", "aurora", "admin")
        server.add_user("eve@example.com", "aurora", "editor")
        server.add_user("bob@example.com", "nordlys", "admin")
        yield server


def db_holds(data: Path, values: list[str]) -> bool:
    """Whether the studio's database files contain any of these strings, read in a child process: opening and
    closing a SQLite file in the process that has it open drops that process's POSIX locks on it."""
    script = ("import glob, sys; data = b''.join(open(p, 'rb').read() for p in glob.glob(sys.argv[1] + '/studio.db*'));"
              "sys.exit(int(any(v.encode() in data for v in sys.argv[2:])))")
    assert list(data.glob("studio.db*"))
    return subprocess.run([sys.executable, "-c", script, str(data), *values], timeout=60).returncode == 1


def _settings(client: httpx.Client) -> str:
    return client.get("/", follow_redirects=False).headers["location"] + "/settings"


def test_keys_are_encrypted_write_only_and_per_workspace(live: Live, kling: FakeServer, tmp_path: Path) -> None:
    ann, bob = sign_in(live.url, "ann@example.com"), sign_in(live.url, "bob@example.com")
    aurora, nordlys = _settings(ann), _settings(bob)
    page = ann.get(aurora)
    assert "No keys yet" in page.text
    assert sign_in(live.url, "eve@example.com").get(aurora).status_code == 403  # editors run, admins key
    form = {"provider": "kling", "csrf": csrf_of(page.text), **kling.credentials}
    assert ann.post(aurora + "/keys", data={**form, "csrf": "forged"}).status_code == 403
    saved = ann.post(aurora + "/keys", data=form)
    assert saved.status_code == 303, saved.text
    shown = ann.get(aurora).text
    for name, value in kling.credentials.items():
        assert name in shown and f"…{value[-4:]}" in shown
        assert f">{value}<" not in shown and f'value="{value}"' not in shown  # never shown again
    assert not db_holds(live.data, list(kling.credentials.values()))  # the database holds ciphertext only
    assert (live.data / "secret.key").stat().st_mode & 0o077 == 0

    other = bob.get(nordlys).text
    assert "KLING_ACCESS_KEY</td>" not in other and "No keys yet" in other  # another workspace sees none
    assert bob.get(aurora).status_code == 404
    assert bob.post(nordlys + "/keys/delete", data={"name": "KLING_ACCESS_KEY",
                                                    "csrf": csrf_of(other)}).status_code == 404
    store = live.app.state.store  # type: ignore[attr-defined]
    ids = {w: store.workspace(w)["id"] for w in ("aurora", "nordlys")}
    own = vault.environment(store, vault.Vault(live.data), ids["aurora"])
    assert own == kling.credentials
    assert vault.environment(store, vault.Vault(live.data), ids["nordlys"]) == {}
    mixed = vault.run_environment({"KLING_API_KEY": "operator-key", "PATH": "/bin"}, own)
    assert "KLING_API_KEY" not in mixed and mixed["PATH"] == "/bin"  # a workspace's keys never mix with others

    sheet, images = sample_upload(tmp_path / "upload", bad_row=False)
    theirs = run_on_kling(live, "nordlys", sheet, images)
    assert theirs["state"] == "failed" and not kling.vendor.paid, theirs  # nordlys entered no keys: nothing paid
    reasons = str(theirs["error"]) + " ".join(str(c["reason"]) for c in theirs["cells"])  # type: ignore[attr-defined]
    assert "KLING_ACCESS_KEY" in reasons, reasons
    ours = run_on_kling(live, "aurora", sheet, images)
    assert ours["state"] == "review", ours
    assert len(kling.vendor.paid) == 1  # paid once, with aurora's keys (the fake checks the JWT they sign)

    assert ann.post(aurora + "/keys/delete", data={"name": "KLING_SECRET_KEY", "csrf": csrf_of(shown)}).status_code == 303
    assert "KLING_SECRET_KEY</td>" not in ann.get(aurora).text
