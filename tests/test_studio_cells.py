"""Runs of part of a batch on the Kling fake (real HTTP on 127.0.0.1, paid submissions counted by the fake):
the free local preview pays nothing, a canary of one SKU pays for that SKU, the rest of the batch pays only for
the others (the canary's approved clip stays approved), and re-running one cell with a new seed pays exactly once
more, is recorded in the ledger and replaces only that cell. Retry-only-failed and its refusals are checked too."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.test_studio_helpers import Live, csrf_of, live_studio, sample_upload, sign_in, wait_state

from skureel.ledger import Ledger
from skureel.providers.fake.server import FakeServer

SKUS = ("AUR-TEE-NVY", "AUR-MUG-WHT")


@pytest.fixture(scope="module")
def kling() -> Iterator[FakeServer]:
    mp = pytest.MonkeyPatch()
    with FakeServer("kling", latency_s=0.2) as server:
        mp.setenv("SKUREEL_KLING_BASE_URL", server.url)
        for name, value in server.credentials.items():
            mp.setenv(name, value)
        yield server
    mp.undo()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, kling: FakeServer) -> Iterator[Live]:
    with live_studio(tmp_path_factory.mktemp("cells") / "data") as server:
        server.add_user("ann@example.com", "aurora", "admin")
        server.add_user("rex@example.com", "aurora", "reviewer")
        yield server


@pytest.fixture(scope="module")
def api(live: Live) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, headers={"authorization": f"Bearer {live.token('aurora')}"}, timeout=60) as c:
        yield c


def _cells(live: Live, batch_id: str) -> dict[str, dict[str, Any]]:
    store = live.app.state.store  # type: ignore[attr-defined]
    return {c["sku"]: {**c, "row": json.loads(c["row"] or "{}")} for c in store.cells_of(batch_id)}


def test_preview_canary_rest_and_one_cell_again(live: Live, api: httpx.Client, kling: FakeServer,
                                                tmp_path_factory: pytest.TempPathFactory) -> None:
    sheet, images = sample_upload(tmp_path_factory.mktemp("upload"), SKUS, bad_row=False)
    created = api.post("/api/v1/batches", data={"brand_kit": "aurora", "formats": "9x16", "quality": "draft",
                                                "providers": "kling"},
                       files={"sheet": ("catalog.xlsx", sheet.read_bytes()), "images": ("i.zip", images.read_bytes())})
    assert created.status_code == 201, created.text
    batch_id = created.json()["id"]
    assert api.post(f"/api/v1/batches/{batch_id}/retry-failed").status_code == 409  # nothing ran yet

    # the free preview: the local renderer for every SKU, nothing paid, the batch back to `estimated`
    assert api.post(f"/api/v1/batches/{batch_id}/preview").status_code == 202
    assert api.post(f"/api/v1/batches/{batch_id}/preview").status_code == 409  # a double submit starts one run
    assert wait_state(api, batch_id, {"estimated", "failed"})["state"] == "estimated"
    assert not kling.vendor.paid
    ann = sign_in(live.url, "ann@example.com")
    page = ann.get(f"/batches/{batch_id}/preview").text
    assert page.count("<figure") == 2 and 'id="canary-button"' in page
    clip = ann.get(f"/batches/{batch_id}/preview/0.mp4")
    assert clip.status_code == 200 and clip.content[4:8] == b"ftyp"
    assert ann.get(f"/batches/{batch_id}/preview/7.mp4").status_code == 404

    # a paid canary of one SKU, from the preview screen's form
    answer = ann.post(f"/batches/{batch_id}/canary", data={"csrf": csrf_of(page), "skus": "", "count": "1"})
    assert answer.status_code == 303 and answer.headers["location"].endswith("/progress")
    assert wait_state(api, batch_id, {"review", "failed"})["state"] == "review"
    cells = _cells(live, batch_id)
    assert list(cells) == [SKUS[0]] and len(kling.vendor.paid) == 1
    review = api.post(f"/api/v1/batches/{batch_id}/review", json={"approve": [cells[SKUS[0]]["id"]]})
    assert review.status_code == 200, review.text

    # the rest: only the other SKU is paid for; the canary's approved clip stays approved
    assert api.post(f"/api/v1/batches/{batch_id}/run").status_code == 202
    assert wait_state(api, batch_id, {"review", "failed"})["state"] == "review"
    cells = _cells(live, batch_id)
    assert set(cells) == set(SKUS) and len(kling.vendor.paid) == 2
    assert cells[SKUS[0]]["status"] == "approved", cells[SKUS[0]]
    before = cells[SKUS[1]]
    assert before["status"] in ("ready", "held") and before["clip_path"], before

    # one cell again with a new seed: paid once more, in the ledger, only that cell replaced
    rex = sign_in(live.url, "rex@example.com")
    grid = rex.get(f"/batches/{batch_id}/review").text
    assert "Re-run with a new seed" not in grid  # a reviewer rejects; re-running spends money (editors, admins)
    grid = ann.get(f"/batches/{batch_id}/review").text
    assert f'action="/batches/{batch_id}/cells/{before["id"]}/rerun"' in grid
    answer = ann.post(f"/batches/{batch_id}/cells/{before['id']}/rerun", data={"csrf": csrf_of(grid)})
    assert answer.status_code == 303, answer.text
    assert wait_state(api, batch_id, {"review", "failed"})["state"] == "review"
    after = _cells(live, batch_id)
    assert len(kling.vendor.paid) == 3 and len(set(kling.vendor.paid)) == 3  # exactly one new paid job
    assert after[SKUS[0]]["status"] == "approved" and after[SKUS[0]]["row"] == cells[SKUS[0]]["row"]
    new = after[SKUS[1]]
    assert new["row"]["seed"] != before["row"]["seed"] and new["row"]["content_key"] != before["row"]["content_key"]
    out = Path(live.data / "runs")
    ledger = Ledger.for_output(str(next(out.iterdir()) / "out"), live.data / "cache")
    old_job, new_job = ledger.job(before["row"]["content_key"]), ledger.job(new["row"]["content_key"])
    assert old_job and new_job and new_job["provider"] == "kling"
    batch = api.get(f"/api/v1/batches/{batch_id}").json()
    assert batch["options"]["seeds"] == {SKUS[1]: new["row"]["seed"]}  # a later full run keeps the new seed

    # the full run again: nothing new is paid (the new seed is remembered), nothing failed to retry
    assert api.post(f"/api/v1/batches/{batch_id}/retry-failed").status_code == 409
    assert api.post(f"/api/v1/batches/{batch_id}/cells/99999/rerun").status_code == 404
    assert httpx.post(f"{live.url}/api/v1/batches/{batch_id}/retry-failed").status_code == 401
