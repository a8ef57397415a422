"""The studio's JSON API and its security edges, over real HTTP against the app served by uvicorn on loopback.

One real run (1 SKU, 9x16, draft) through the catalog-refresh flow in the app's worker process feeds the
deliverables, review and publish tests; a second batch with the same inputs proves a resubmit is the same run.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.test_studio_helpers import (
    PASSWORD,
    Live,
    csrf_of,
    live_studio,
    sample_upload,
    sign_in,
    wait_state,
    zip_bytes,
)

LIMIT = 3 * 1024 * 1024


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    data = tmp_path_factory.mktemp("studio")
    with live_studio(data / "data", max_upload_bytes=LIMIT, max_zip_bytes=4 * 1024 * 1024) as server:
        server.add_user("ann@example.com", "aurora", "admin")
        server.add_user("vic@example.com", "aurora", "viewer")
        server.add_user("bob@example.com", "nordlys", "admin")
        server.add_user("rate@example.com", "aurora", "editor")
        yield server


@pytest.fixture(scope="module")
def tokens(live: Live) -> dict[str, str]:
    return {"aurora": live.token("aurora"), "nordlys": live.token("nordlys")}


@pytest.fixture(scope="module")
def api(live: Live, tokens: dict[str, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, headers={"authorization": f"Bearer {tokens['aurora']}"}, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def other(live: Live, tokens: dict[str, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, headers={"authorization": f"Bearer {tokens['nordlys']}"}, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def upload(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return sample_upload(tmp_path_factory.mktemp("upload"))


def post_batch(client: httpx.Client, sheet: Path, images: Path | None, **form: str) -> httpx.Response:
    files: dict[str, Any] = {"sheet": ("catalog.xlsx", sheet.read_bytes())}
    if images is not None:
        files["images"] = ("images.zip", images.read_bytes())
    return client.post("/api/v1/batches", files=files, data=form)


@pytest.fixture(scope="module")
def reviewed(api: httpx.Client, upload: tuple[Path, Path]) -> dict[str, Any]:
    """A batch uploaded, estimated and run for real; waits until its clips are ready for review."""
    created = post_batch(api, *upload, brand_kit="aurora", formats="9x16", quality="draft")
    assert created.status_code == 201, created.text
    batch = created.json()
    started = api.post(f"/api/v1/batches/{batch['id']}/run")
    assert started.status_code == 202, started.text
    again = api.post(f"/api/v1/batches/{batch['id']}/run")
    assert again.status_code == 409  # a double submit starts one run
    done = wait_state(api, batch["id"], {"review", "failed"})
    assert done["state"] == "review", done
    return {**done, "run_key": started.json()["run_key"]}


def test_tokens_are_required_and_bound_to_one_workspace(live: Live, api: httpx.Client, other: httpx.Client,
                                                        reviewed: dict[str, Any]) -> None:
    batch_id = reviewed["id"]
    assert httpx.get(f"{live.url}/api/v1/batches/{batch_id}").status_code == 401
    wrong = httpx.get(f"{live.url}/api/v1/batches/{batch_id}", headers={"authorization": "Bearer skr_nope"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    for method, path in (("GET", ""), ("GET", "/deliverables"), ("POST", "/run"), ("POST", "/publish"),
                         ("GET", "/clips/1")):
        answer = other.request(method, f"/api/v1/batches/{batch_id}{path}")
        assert answer.status_code == 404, (method, path, answer.text)  # exactly like a batch that does not exist
    assert other.post(f"/api/v1/batches/{batch_id}/review", json={"approve": [1]}).status_code == 404
    assert api.get("/api/v1/batches/nope").status_code == 404
    nordlys = sign_in(live.url, "bob@example.com")
    assert nordlys.get(f"/batches/{batch_id}").status_code == 404
    assert nordlys.get(f"/batches/{batch_id}/clips/1").status_code == 404
    assert nordlys.get(f"/batches/{batch_id}/events").status_code == 404  # checked before the stream starts
    assert httpx.get(f"{live.url}/batches/{batch_id}/events").status_code == 303
    assert "text/html" in nordlys.get("/no/such/page").headers["content-type"]


def test_batch_reports_problems_in_the_users_rows(reviewed: dict[str, Any]) -> None:
    assert reviewed["format"] == "native" and reviewed["counts"]["products"] == 1
    problem = next(p for p in reviewed["problems"] if p["sku"] == "BROKEN-1")
    assert problem["row"] == 3 and problem["column"] == "Title" and problem["severity"] == "error"


def test_progress_stream_sends_the_full_state_then_done(live: Live, reviewed: dict[str, Any]) -> None:
    ann = sign_in(live.url, "ann@example.com")
    events: list[tuple[str, str]] = []
    with ann.stream("GET", f"/batches/{reviewed['id']}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        kind = ""
        for line in stream.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                events.append((kind, line[6:]))
    assert [k for k, _ in events] == ["progress", "done"]  # a finished batch: its state once, then the end
    assert "AUR-TEE-NVY" in events[0][1] and "1 of 1 clips done" in events[0][1] and not events[0][1].startswith('"')


def test_deliverables_review_and_publish(api: httpx.Client, reviewed: dict[str, Any], live: Live) -> None:
    batch_id = reviewed["id"]
    listing = api.get(f"/api/v1/batches/{batch_id}/deliverables").json()["deliverables"]
    assert [(d["sku"], d["format"], d["status"]) for d in listing] == [("AUR-TEE-NVY", "9x16", "ready")]
    clip = api.get(listing[0]["url"])
    assert clip.status_code == 200 and clip.content[4:8] == b"ftyp"
    assert api.post(f"/api/v1/batches/{batch_id}/publish").status_code == 409  # nothing approved yet
    no_reason = api.post(f"/api/v1/batches/{batch_id}/review",
                         json={"reject": [{"sku": "AUR-TEE-NVY", "format": "9x16", "reason": " "}]})
    assert no_reason.status_code == 422
    assert api.post(f"/api/v1/batches/{batch_id}/review", json={"approve": [9999]}).status_code == 404
    assert api.post(f"/api/v1/batches/{batch_id}/review", json={"approve": "all"}).status_code == 422
    rejected = api.post(f"/api/v1/batches/{batch_id}/review",
                        json={"reject": [{"sku": "AUR-TEE-NVY", "format": "9x16", "reason": "logo covers the face"}]})
    assert rejected.status_code == 200 and rejected.json()["changed"] == 1
    assert api.get(f"/api/v1/batches/{batch_id}/deliverables").json()["deliverables"][0]["reason"] == "logo covers the face"
    assert api.post(f"/api/v1/batches/{batch_id}/publish").status_code == 409  # a rejected clip never goes out
    assert api.post(f"/api/v1/batches/{batch_id}/review",
                    json={"approve": [{"sku": "AUR-TEE-NVY", "format": "9x16"}]}).status_code == 200
    published = api.post(f"/api/v1/batches/{batch_id}/publish")
    assert published.status_code == 200 and published.json()["published"] == 1
    out = live.data / "published"
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.mp4"))
    assert len(files) == 1 and files[0].endswith(f"{batch_id}/9x16/AUR-TEE-NVY__hero__9x16.mp4")
    assert api.get(f"/api/v1/batches/{batch_id}").json()["state"] == "done"
    ann = sign_in(live.url, "ann@example.com")
    sheet = ann.get(f"/batches/{batch_id}/sheet.csv")
    lines = sheet.content.decode("utf-8-sig").splitlines()
    assert lines[0].endswith("status,problem,video_url")
    assert "published" in lines[1] and f"/batches/{batch_id}/clips/" in lines[1]
    assert "invalid" in lines[2] and "no title" in lines[2]
    archive = ann.get(f"/batches/{batch_id}/download/9x16.zip")
    assert archive.status_code == 200
    with zipfile.ZipFile(io.BytesIO(archive.content)) as z:
        assert z.namelist() == ["AUR-TEE-NVY__hero__9x16.mp4"]
    manifest = json.loads(ann.get(f"/batches/{batch_id}/manifest.json").content)
    assert manifest["deliverables"][0]["reviewed_by"] == "api token"


def test_same_inputs_are_the_same_run_and_a_dead_worker_is_resubmitted(api: httpx.Client, live: Live,
                                                                       upload: tuple[Path, Path],
                                                                       reviewed: dict[str, Any]) -> None:
    created = post_batch(api, *upload, brand_kit="aurora", formats="9x16", quality="draft")
    batch_id = created.json()["id"]
    store = live.app.state.store  # type: ignore[attr-defined]
    batch = store.batch(batch_id)
    from skureel.web import batches as logic

    key = logic.run_key(batch, logic.RunOptions.model_validate(batch["options"]), live.app.state.config)  # type: ignore[attr-defined]
    assert key == reviewed["run_key"]
    # as after an app restart mid-run: the batch says running, but its worker process is gone
    store.update_batch(batch_id, state="running", run_key=key, run={"phase": "rendering", "pid": 2 ** 22 + 7,
                                                                     "attempts": 1, "run_key": key})
    done = wait_state(api, batch_id, {"review", "failed"})
    assert done["state"] == "review", done
    events = [e["kind"] for e in store.events_of(batch_id)]
    assert "resubmitted" in events
    run = store.batch(batch_id)["run"]
    assert run["summary"]["composed_this_run"] == 0 and run["summary"]["skipped_unchanged"] == 1  # nothing redone


def test_upload_limits_types_and_zip_safety(api: httpx.Client, live: Live, upload: tuple[Path, Path],
                                            tmp_path: Path) -> None:
    sheet, _ = upload
    big = api.post("/api/v1/batches", files={"sheet": ("big.csv", b"sku,title\n" + b"x" * (LIMIT + 10))})
    assert big.status_code == 413 and "limit" in big.json()["detail"]
    huge = api.post("/api/v1/batches", files={"sheet": ("huge.csv", b"x" * (LIMIT + 2 * 1024 * 1024))})
    assert huge.status_code == 413 and "limit" in huge.json()["detail"]  # refused before the form parser runs
    png = api.post("/api/v1/batches", files={"sheet": ("products.csv", b"\x89PNG\r\n\x1a\n" + b"\0" * 100)})
    assert png.status_code == 415 and "PNG" in png.json()["detail"]
    not_xlsx = api.post("/api/v1/batches", files={"sheet": ("products.xlsx", zip_bytes({"a.txt": b"hello"}))})
    assert not_xlsx.status_code == 415
    missing = api.post("/api/v1/batches", data={"brand_kit": "aurora"})
    assert missing.status_code == 422
    uploads = live.data / "uploads"
    before = {p for p in uploads.rglob("*")}
    for name in ("../../evil.txt", "images/../../evil.txt", "/tmp/evil-abs.txt", "..\\..\\evil.txt"):
        evil = zip_bytes({"images/ok.jpg": b"fine", name: b"owned"})
        answer = api.post("/api/v1/batches", files={"sheet": ("c.xlsx", sheet.read_bytes()), "images": ("i.zip", evil)})
        assert answer.status_code == 422 and "outside its folder" in answer.json()["detail"], name
    assert not list(live.data.rglob("evil*")) and not Path("/tmp/evil-abs.txt").exists()
    assert {p for p in uploads.rglob("*")} == before  # a refused upload leaves nothing behind
    bomb = zip_bytes({"images/zeros.jpg": b"\0" * (5 * 1024 * 1024)})  # 5 MiB of zeros packs to a few KB
    answer = api.post("/api/v1/batches", files={"sheet": ("c.xlsx", sheet.read_bytes()), "images": ("i.zip", bomb)})
    assert answer.status_code == 422 and "limit" in answer.json()["detail"]
    bad_options = post_batch(api, sheet, None, brand_kit="aurora", formats="7x3")
    assert bad_options.status_code == 422 and "7x3" in bad_options.json()["detail"]
    unknown_kit = post_batch(api, sheet, None, brand_kit="../aurora")
    assert unknown_kit.status_code == 422 and "unknown brand kit" in unknown_kit.json()["detail"]
    capped = post_batch(api, sheet, None, brand_kit="aurora", providers="kling", max_spend="0.01")
    assert capped.status_code == 201 and capped.json()["state"] == "estimated"
    over = api.post(f"/api/v1/batches/{capped.json()['id']}/run")
    assert over.status_code == 409 and "budget cap" in over.json()["detail"]
    fresh = post_batch(api, sheet, None)
    assert api.post(f"/api/v1/batches/{fresh.json()['id']}/run").status_code == 409  # not estimated yet


def test_pages_need_csrf_same_origin_and_the_right_role(live: Live, upload: tuple[Path, Path]) -> None:
    sheet, _ = upload
    local = httpx.get(f"{live.url}/login").headers["set-cookie"].lower()
    assert "httponly" in local and "samesite=lax" in local and "secure" not in local  # plain http on loopback
    public = httpx.get(f"{live.url}/login", headers={"host": "studio.example.com"}).headers["set-cookie"].lower()
    assert "secure" in public and "httponly" in public
    ann = sign_in(live.url, "ann@example.com")
    home = ann.get("/", follow_redirects=True)
    workspace_url = str(home.url)
    csrf = csrf_of(home.text)
    files = {"sheet": ("catalog.xlsx", sheet.read_bytes())}
    assert ann.post(f"{workspace_url}/batches", files=files).status_code == 403  # no token
    assert ann.post(f"{workspace_url}/batches", files=files, data={"csrf": "forged"}).status_code == 403
    cross = ann.post(f"{workspace_url}/batches", files=files, data={"csrf": csrf},
                     headers={"origin": "https://evil.example"})
    assert cross.status_code == 403
    ok = ann.post(f"{workspace_url}/batches", files=files, data={"csrf": csrf})
    assert ok.status_code == 303 and ok.headers["location"].startswith("/batches/")
    page = ann.get(ok.headers["location"])
    assert "row 3 (SKU BROKEN-1), column <code>Title</code>" in page.text
    viewer = sign_in(live.url, "vic@example.com")
    vhome = viewer.get("/", follow_redirects=True)
    denied = viewer.post(f"{workspace_url}/batches", files=files, data={"csrf": csrf_of(vhome.text)})
    assert denied.status_code == 403 and "may not upload" in denied.text
    assert httpx.get(f"{live.url}{ok.headers['location']}").status_code == 303  # signed out: to the sign-in page


def test_sign_in_is_rate_limited_and_pages_carry_a_strict_csp(live: Live) -> None:
    client = httpx.Client(base_url=live.url)
    csrf = csrf_of(client.get("/login").text)
    codes = [client.post("/login", data={"email": "rate@example.com", "password": "wrong", "csrf": csrf}).status_code
             for _ in range(6)]
    assert codes == [401] * 5 + [429]
    blocked = client.post("/login", data={"email": "rate@example.com", "password": PASSWORD, "csrf": csrf})
    assert blocked.status_code == 429  # even the right password waits out the window
    assert client.post("/login", data={"email": "x@example.com", "password": "y"}).status_code == 403  # no CSRF
    page = client.get("/login")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert "<script>" not in page.text and page.text.count("<script src=") == 2


def test_openapi_lists_the_api(live: Live) -> None:
    schema = httpx.get(f"{live.url}/openapi.json").json()
    paths = set(schema["paths"])
    assert {"/api/v1/batches", "/api/v1/batches/{batch_id}", "/api/v1/batches/{batch_id}/run",
            "/api/v1/batches/{batch_id}/deliverables", "/api/v1/batches/{batch_id}/review",
            "/api/v1/batches/{batch_id}/publish"} <= paths
    assert not any(p.startswith("/batches") for p in paths)  # pages stay out of the API schema
    docs = httpx.get(f"{live.url}/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower() and "nonce-" in docs.headers["content-security-policy"]



def test_image_paths_stay_inside_the_upload(api: httpx.Client, live: Live, tmp_path: Path) -> None:
    from tests.conftest import write_catalog

    secret = tmp_path / "secret.jpg"
    secret.write_bytes(b"\xff\xd8\xff not for you")
    rows = [{"SKU": "ABS-1", "Title": "Absolute", "Price": 10, "Image": str(secret)},
            {"SKU": "UP-1", "Title": "Upward", "Price": 10, "Image": "../../../secret.jpg"},
            {"SKU": "OK-1", "Title": "Inside", "Price": 10, "Image": "images/ok.jpg"}]
    sheet = write_catalog(tmp_path / "paths.xlsx", rows)
    images = tmp_path / "images.zip"
    images.write_bytes(zip_bytes({"images/ok.jpg": (Path(__file__).parents[1] / "catalogs/sample/images/ring.jpg")
                                  .read_bytes()}))
    created = post_batch(api, sheet, images, brand_kit="aurora", formats="9x16")
    assert created.status_code == 201, created.text
    body = created.json()
    outside = {p["sku"]: p for p in body["problems"] if "outside" in p["reason"]}
    assert set(outside) == {"ABS-1", "UP-1"} and outside["ABS-1"]["row"] == 2 and outside["UP-1"]["row"] == 3
    planned = {row["sku"] for row in live.app.state.store.batch(body["id"])["estimate"]["rows"]}  # type: ignore[attr-defined]
    assert "OK-1" in planned


def test_an_app_restart_mid_run_resumes_the_batch(tmp_path: Path) -> None:
    sheet, images = sample_upload(tmp_path / "in", bad_row=False)
    data = tmp_path / "data"
    with live_studio(data) as first:
        first.add_user("ann@example.com", "aurora", "admin")
        token = first.token("aurora")
        headers = {"authorization": f"Bearer {token}"}
        with httpx.Client(base_url=first.url, headers=headers, timeout=60) as api:
            batch_id = post_batch(api, sheet, images, brand_kit="aurora", formats="9x16").json()["id"]
            assert api.post(f"/api/v1/batches/{batch_id}/run").status_code == 202
            deadline = time.monotonic() + 120
            while api.get(f"/api/v1/batches/{batch_id}").json()["phase"] in ("queued", "starting"):
                assert time.monotonic() < deadline
                time.sleep(0.5)
    # the app (and with it its worker) stopped mid-run; a new app on the same data folder picks the batch up
    with live_studio(data) as second, httpx.Client(base_url=second.url, headers=headers, timeout=60) as api:
        assert api.get(f"/api/v1/batches/{batch_id}").json()["state"] == "running"
        done = wait_state(api, batch_id, {"review", "failed"})
        assert done["state"] == "review" and done["counts"]["cells"] == {"ready": 1}, done
        kinds = [e["kind"] for e in second.app.state.store.events_of(batch_id)]  # type: ignore[attr-defined]
        assert kinds.count("started") == 2 and "resubmitted" in kinds
        reviewer = sign_in(second.url, "ann@example.com")  # bulk approval from the review screen
        page = reviewer.get(f"/batches/{batch_id}/review")
        assert reviewer.post(f"/batches/{batch_id}/approve-all", data={"csrf": csrf_of(page.text)}).status_code == 303
        statuses = {d["status"] for d in api.get(f"/api/v1/batches/{batch_id}/deliverables").json()["deliverables"]}
        assert statuses == {"approved"}


def test_the_batch_store_works_on_postgres(postgres_url: str, tmp_path: Path) -> None:
    """A Postgres URL instead of the SQLite file: the app and its run worker share batches through it."""
    sheet, images = sample_upload(tmp_path / "in")
    with live_studio(tmp_path / "data", database_url=postgres_url) as live:
        store = live.app.state.store  # type: ignore[attr-defined]
        assert store.engine.dialect.name == "postgresql"
        mine, theirs = store.workspace("pg-aurora", create=True), store.workspace("pg-other", create=True)
        token, other_token = store.new_token(mine["id"]), store.new_token(theirs["id"])
        with httpx.Client(base_url=live.url, headers={"authorization": f"Bearer {token}"}, timeout=60) as api:
            created = post_batch(api, sheet, images, brand_kit="aurora", formats="9x16")
            assert created.status_code == 201 and created.json()["problems"][0]["row"] == 3
            batch_id = created.json()["id"]
            other = httpx.get(f"{live.url}/api/v1/batches/{batch_id}", headers={"authorization": f"Bearer {other_token}"})
            assert other.status_code == 404
            assert api.post(f"/api/v1/batches/{batch_id}/run").status_code == 202
            done = wait_state(api, batch_id, {"review", "failed"})
            assert done["state"] == "review" and done["counts"]["cells"] == {"ready": 1}, done


def test_a_running_batch_can_be_cancelled(api: httpx.Client, live: Live, tmp_path: Path) -> None:
    sheet, images = sample_upload(tmp_path / "in", ("AUR-MUG-WHT",), bad_row=False)
    batch_id = post_batch(api, sheet, images, brand_kit="aurora", formats="9x16").json()["id"]
    assert api.post(f"/api/v1/batches/{batch_id}/cancel").status_code == 409  # not running yet
    assert api.post(f"/api/v1/batches/{batch_id}/run").status_code == 202
    deadline = time.monotonic() + 60
    while not (pid := live.app.state.store.batch(batch_id)["run"].get("pid")):  # type: ignore[attr-defined]
        assert time.monotonic() < deadline
        time.sleep(0.2)
    cancelled = api.post(f"/api/v1/batches/{batch_id}/cancel")
    assert cancelled.status_code == 200
    body = api.get(f"/api/v1/batches/{batch_id}").json()
    assert body["state"] == "failed" and body["error"] == "cancelled by api token"
    deadline = time.monotonic() + 30
    while Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]:
        assert time.monotonic() < deadline, "the worker kept running"
        time.sleep(0.2)
    time.sleep(2 * live.app.state.config.worker_poll_s)  # type: ignore[attr-defined]
    assert api.get(f"/api/v1/batches/{batch_id}").json()["state"] == "failed"  # and it is not resubmitted
