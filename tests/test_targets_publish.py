"""Publishing a real run to the fake Shopify, Cloudinary and Bynder (and a Standard Webhooks receiver) over
HTTP on 127.0.0.1: first publish, unchanged rerun, an overlay-only price change, a discontinued SKU, a publish
killed mid-flight, bad credentials, throttling and faults."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import AURORA, sample_rows, write_catalog

from skureel.publish.fakes.server import FakeTargetServer, credentials
from skureel.publish.targets.output import publish_output
from skureel.publish.targets.state import PublishState
from skureel.publish.webhook import new_secret, verify

SKUS = ("AUR-TEE-NVY", "AUR-MUG-WHT")
BRAND_ID = "00000000-0000-0000-0000000000000001"


def skureel(args: list[str], env: dict[str, str], timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "skureel", *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **env})


@pytest.fixture(scope="module")
def made(prefect_server: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One small real run (2 SKUs, 9x16, draft), plus a pristine copy for the publish-only tests."""
    root = tmp_path_factory.mktemp("targets")
    rows = sample_rows(root, SKUS)
    catalog = write_catalog(root / "cat.xlsx", rows)
    env = {**prefect_server, "SKUREEL_CACHE_DIR": str(root / "cache")}
    out = root / "out"
    args = ["run", str(catalog), "--brand", str(AURORA), "--out", str(out), "--formats", "9x16", "--quality", "draft"]
    done = skureel(args, env)
    assert done.returncode == 0, done.stdout + done.stderr
    pristine = root / "pristine"
    shutil.copytree(out, pristine)
    kit = root / "kit"
    shutil.copytree(AURORA, kit)
    (kit / "targets.yaml").write_text(
        "targets:\n  shopify: {poll_s: 0.05}\n"
        f"  bynder: {{brand_id: '{BRAND_ID}', block_s: 0.3, metaproperties: {{ai_generated: mp-ai}}}}\n"
        "  cloudinary: {folder: aurora}\n", encoding="utf-8")
    return {"root": root, "rows": rows, "catalog": catalog, "env": env, "out": out, "pristine": pristine,
            "kit": kit, "run_args": args}


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The published copies (XMP inside) are cached under the cache folder: keep them in the test's folder."""
    monkeypatch.setenv("SKUREEL_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture()
def fakes(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, FakeTargetServer]]:
    servers = {name: FakeTargetServer(name, latency_s=0.05) for name in ("shopify", "cloudinary", "bynder")}
    for server in servers.values():
        server.__enter__()
        for key, value in credentials(server.name).items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv(f"SKUREEL_{server.name.upper()}_BASE_URL", server.url)
    try:
        yield servers
    finally:
        for server in servers.values():
            server.__exit__(None, None, None)


class Receiver:
    """A Standard Webhooks receiver that verifies every delivery and keeps what it accepted."""

    def __init__(self, secret: str) -> None:
        self.secret, self.events = secret, []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    payload = verify(outer.secret, dict(self.headers), body)
                except Exception:  # noqa: BLE001 - any failure to verify is a refusal
                    self.send_response(401)
                else:
                    outer.events.append((self.headers["webhook-id"], payload))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def types(self) -> list[str]:
        return [str(p.get("type")) for _, p in self.events]  # the run's own notification has an `event` instead


def stats(server: FakeTargetServer) -> dict[str, Any]:
    """The fake's counters, read over HTTP like any client would."""
    return dict(httpx.get(f"{server.url}/_fake/stats", timeout=10).json())


def test_lifecycle_publish_rerun_price_change_and_retire(made: dict[str, Any], fakes: dict[str, FakeTargetServer],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    receiver = Receiver(new_secret())
    monkeypatch.setenv("SKUREEL_WEBHOOK_URL", receiver.url)
    monkeypatch.setenv("SKUREEL_WEBHOOK_SECRET", receiver.secret)
    out, kit = made["out"], made["kit"]
    names = ["shopify", "cloudinary", "bynder", "webhook"]
    shop, cld, byn = fakes["shopify"], fakes["cloudinary"], fakes["bynder"]

    first = publish_output(str(out), names, brand_kit=kit)
    assert not first.failures, first.failures
    assert first.count("uploaded") == 8
    assert stats(shop)["media_created"] == 2 and stats(shop)["storage_uploads"] == 2
    assert stats(cld)["uploads"] == 2 and stats(byn)["assets_created"] == 2
    assert receiver.types().count("clip.published") == 2 and "batch.finished" in receiver.types()
    rows = json.loads((out / "manifest.json").read_text())["deliverables"]
    for row in rows:
        assert set(row["targets"]) == set(names)
        assert row["targets"]["shopify"]["remote_id"].startswith("gid://shopify/Video/")
        assert row["targets"]["cloudinary"]["remote_id"] == f"aurora/{row['sku']}/{row['sku']}__hero__9x16"
        assert row["targets"]["shopify"]["url"] and row["targets"]["bynder"]["state"] == "ready"
    published_ids = {i for i, p in receiver.events if p.get("type") == "clip.published"}
    meta = (out / "feeds" / "meta_video_supplemental.csv").read_text(encoding="utf-8-sig").splitlines()
    assert meta[0].startswith("id,video[0].url,video[0].tag[0]")
    for row in rows:  # the public URL of the first target that has one (Cloudinary's here)
        assert f"{row['sku']},{row['targets']['cloudinary']['url']},9x16,hero" in meta
    gmc = (out / "feeds" / "gmc_video_supplemental.tsv").read_text().splitlines()
    long_enough = {r["sku"] for r in rows if r["duration_s"] >= 6}  # Merchant Center takes 6-240 s clips only
    assert gmc[0] == "id\tvideo_link" and {line.split("\t")[0] for line in gmc[1:]} == long_enough

    again = publish_output(str(out / "manifest.json"), names, brand_kit=kit)
    assert again.count("unchanged") == 8 and again.count("uploaded") == 0
    assert stats(shop)["storage_uploads"] == 2 and stats(cld)["uploads"] == 2 and stats(byn)["uploads"] == 2
    assert receiver.types().count("clip.published") == 2  # nothing new to announce

    # an overlay-only change (the price of one SKU) re-composes one clip: exactly that media is replaced
    rows_now = [dict(r, Price=(float(r["Price"]) + 5 if r["SKU"] == SKUS[0] else r["Price"])) for r in made["rows"]]
    write_catalog(made["catalog"], rows_now)
    rerun = skureel(made["run_args"], made["env"])
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    changed = publish_output(str(out), names, brand_kit=kit)
    assert not changed.failures, changed.failures
    assert {(r.target, r.sku) for r in changed.results if r.action == "uploaded"} == {(n, SKUS[0]) for n in names}
    assert changed.count("unchanged") == 4
    assert stats(shop)["media_created"] == 3 and stats(shop)["media_deleted"] == 1 and stats(shop)["live_media"] == 2
    assert stats(cld)["overwrites"] == 1 and stats(cld)["assets"] == 2
    assert stats(byn)["versions"] == 1 and stats(byn)["assets_created"] == 2 and stats(byn)["assets"] == 2
    new_ids = {i for i, p in receiver.events if p.get("type") == "clip.published"} - published_ids
    assert len(new_ids) == 1

    # the second SKU leaves the catalog: `run --publish` marks it retired and removes it everywhere
    write_catalog(made["catalog"], [r for r in rows_now if r["SKU"] == SKUS[0]])
    args = [a if a != str(AURORA) else str(kit) for a in made["run_args"]] + ["--publish", ",".join(names)]
    dropped = skureel(args, made["env"])
    assert dropped.returncode == 0, dropped.stdout + dropped.stderr
    for name in names:
        assert f"{name}: 1 unchanged, 1 retired" in dropped.stdout, dropped.stdout
    rows = json.loads((out / "manifest.json").read_text())["deliverables"]
    assert {r["sku"]: r["targets"]["cloudinary"]["state"] for r in rows} == {SKUS[0]: "ready", SKUS[1]: "retired"}
    assert stats(shop)["live_media"] == 1 and stats(cld)["assets"] == 1 and stats(byn)["assets"] == 1
    assert stats(cld)["destroys"] == 1 and stats(byn)["deleted"] == 1
    assert receiver.types().count("clip.retired") == 1
    state = PublishState(f"sqlite:///{out / '.skureel' / 'ledger.sqlite'}")
    assert {r["state"] for r in state.all() if r["sku"] == SKUS[1]} == {"retired"}


@pytest.mark.parametrize("name", ["shopify", "bynder"])
def test_killed_publish_resumes_without_a_second_media_item(made: dict[str, Any], name: str, tmp_path: Path) -> None:
    work = tmp_path / "out"
    shutil.copytree(made["pristine"], work)
    with FakeTargetServer(name, latency_s=2.0) as fake:
        env = {**credentials(name), f"SKUREEL_{name.upper()}_BASE_URL": fake.url}
        args = [sys.executable, "-m", "skureel", "publish", str(work), "--to", name, "--brand", str(made["kit"])]
        proc = subprocess.Popen(args, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        made_key = "media_created" if name == "shopify" else "assets_created"
        deadline = time.monotonic() + 60
        while stats(fake).get(made_key, 0) < 1 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)  # the remote holds a media item the publisher never recorded as done
        proc.wait(10)
        assert stats(fake).get(made_key, 0) >= 1
        done = skureel(["publish", str(work), "--to", name, "--brand", str(made["kit"]), "--json"], env)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "adopted" in {r["action"] for r in json.loads(done.stdout)}  # found by our key, not uploaded again
        assert stats(fake)[made_key] == 2, stats(fake)  # one per clip, never a duplicate
        assert (stats(fake)["live_media"] if name == "shopify" else stats(fake)["assets"]) == 2
        again = skureel(["publish", str(work), "--to", name, "--brand", str(made["kit"]), "--json"], env)
        assert {r["action"] for r in json.loads(again.stdout)} == {"unchanged"}


def test_two_publishers_at_once_never_duplicate(made: dict[str, Any], tmp_path: Path) -> None:
    work = tmp_path / "out"
    shutil.copytree(made["pristine"], work)
    with FakeTargetServer("shopify", latency_s=1.5) as fake:
        env = {**os.environ, **credentials("shopify"), "SKUREEL_SHOPIFY_BASE_URL": fake.url}
        args = [sys.executable, "-m", "skureel", "publish", str(work), "--to", "shopify", "--brand", str(made["kit"]),
                "--json"]
        procs = [subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
        outcomes = [p.communicate(timeout=120) for p in procs]
        actions = [r["action"] for out, _ in outcomes for r in json.loads(out)]
        assert stats(fake)["media_created"] == 2 and stats(fake)["live_media"] == 2, (stats(fake), outcomes)
        errors = {r["error"] for out, _ in outcomes for r in json.loads(out) if r["action"] == "failed"}
        assert errors <= {"another publish of this clip is in progress"}, errors
        assert actions.count("uploaded") + actions.count("adopted") == 2


def test_bad_credentials_one_line_and_nothing_half_published(made: dict[str, Any], tmp_path: Path) -> None:
    work = tmp_path / "out"
    shutil.copytree(made["pristine"], work)
    with FakeTargetServer("cloudinary") as cld, FakeTargetServer("shopify") as shop:
        env = {**credentials("cloudinary"), "SKUREEL_CLOUDINARY_BASE_URL": cld.url,
               "SKUREEL_SHOPIFY_BASE_URL": shop.url, "SHOPIFY_STORE_DOMAIN": "x.myshopify.com",
               "SHOPIFY_ACCESS_TOKEN": "shpat_wrong-and-secret"}
        done = skureel(["publish", str(work), "--to", "cloudinary,shopify", "--brand", str(made["kit"])], env)
        assert done.returncode == 2
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and "SHOPIFY_ACCESS_TOKEN" in lines[0], done.stderr
        assert "Traceback" not in done.stderr and "shpat_wrong-and-secret" not in done.stderr + done.stdout
        assert stats(cld).get("uploads", 0) == 0 and stats(shop).get("staged", 0) == 0
        missing = skureel(["publish", str(work), "--to", "bynder"], {"BYNDER_DOMAIN": "", "BYNDER_CLIENT_ID": ""})
        assert missing.returncode == 2 and "BYNDER_CLIENT_ID" in missing.stderr and "Traceback" not in missing.stderr


def test_throttled_in_the_body_faults_and_failed_processing(made: dict[str, Any], tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "out"
    shutil.copytree(made["pristine"], work)
    # THROTTLED answered with HTTP 200 is detected in the body and waited out; a small bucket is paced, not hit
    with FakeTargetServer("shopify", bucket=200.0, restore=1000.0, throttle_status=200) as shop, \
            FakeTargetServer("cloudinary") as cld:
        for server in (shop, cld):
            for key, value in credentials(server.name).items():
                monkeypatch.setenv(key, value)
            monkeypatch.setenv(f"SKUREEL_{server.name.upper()}_BASE_URL", server.url)
        shop.state.forced.extend(["429", "429"])
        cld.state.forced.extend(["5xx", "drop_response"])  # a 500, then an upload whose answer is lost
        report = publish_output(str(work), ["shopify", "cloudinary"], brand_kit=made["kit"])
        assert not report.failures, report.failures
        assert stats(shop)["throttled"] >= 2 and stats(shop)["media_created"] == 2  # the two forced, at least
        assert stats(cld)["assets"] == 2
        # the vendor cannot process the new file: the item fails with the media errors in words, the old one stays
        (work / "manifest.json").write_text((work / "manifest.json").read_text().replace(
            json.loads((work / "manifest.json").read_text())["deliverables"][0]["sha256"], "0" * 64))
        shop.state.forced.append("fail")
        failed = publish_output(str(work), ["shopify"], brand_kit=made["kit"])
        assert len(failed.failures) == 1 and "VIDEO_VALIDATION_ERROR" in failed.failures[0].error
        assert stats(shop)["live_media"] == 2
