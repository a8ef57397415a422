"""A clip the QA gate holds, end to end in the studio on the Kling fake (real HTTP on 127.0.0.1, paid submissions
counted by the fake): the fake shows another product (`content=other`), so the clip and its automatic retry both
fail and the cell is held. The held clip is composed for 9:16 like any cell, but under the run's review/ folder,
never among the delivered clips; the review grid plays it, the deliverables API links it, and a reviewer approves
it: it is then published like any approved cell, and nothing is paid again (a full re-run neither)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import av
import httpx
import pytest
from tests.test_studio_helpers import Live, csrf_of, live_studio, run_on_kling, sample_upload, sign_in, wait_state

from skureel.providers.fake.server import FakeServer

SKU = "AUR-MUG-WHT"


@pytest.fixture()
def kling(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    with FakeServer("kling", latency_s=0.2, content="other") as server:
        monkeypatch.setenv("SKUREEL_KLING_BASE_URL", server.url)
        for name, value in server.credentials.items():
            monkeypatch.setenv(name, value)
        yield server


def test_a_held_clip_is_composed_watched_approved_and_published_without_paying_again(
        tmp_path: Path, kling: FakeServer) -> None:
    with live_studio(tmp_path / "data") as live:
        live.add_user("rex@example.com", "aurora", "reviewer")
        with httpx.Client(base_url=live.url, headers={"authorization": f"Bearer {live.token('aurora')}"},
                          timeout=60) as api:
            _held_flow(live, api, kling, tmp_path)


def _held_flow(live: Live, api: httpx.Client, kling: FakeServer, tmp_path: Path) -> None:
    sheet, images = sample_upload(tmp_path / "upload", (SKU,), bad_row=False)
    done = run_on_kling(live, "aurora", sheet, images)
    assert done["state"] == "review", done
    batch_id = str(done["id"])
    assert len(kling.vendor.paid) == 2  # the clip and its automatic retry, both of another product

    # held, with a composed 9:16 clip to watch, outside the delivered clips
    listed = api.get(f"/api/v1/batches/{batch_id}/deliverables").json()["deliverables"]
    assert [(d["sku"], d["format"], d["status"]) for d in listed] == [(SKU, "9x16", "held")], listed
    held = listed[0]
    assert held["reason"].startswith("held by the QA check: the clip shows a different product") and held["url"]
    clip = api.get(held["url"])
    assert clip.status_code == 200 and clip.headers["content-type"] == "video/mp4"
    with av.open(io.BytesIO(clip.content)) as container:
        video = container.streams.video[0]
        assert (video.codec_context.width, video.codec_context.height) == (1080, 1920)  # composed, not the base
    assert api.get(held["poster_url"]).content[:2] == b"\xff\xd8"
    out = next((live.data / "runs").iterdir()) / "out"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["deliverables"] == [] and manifest["summary"]["needs_review"] == 1
    reviewed = list((out / "review").rglob("*.mp4"))
    assert not list(out.glob("clips/**/*.mp4")) and len(reviewed) == 1

    # the grid plays it and offers approve, reject and re-run
    rex = sign_in(live.url, "rex@example.com")
    grid = rex.get(f"/batches/{batch_id}/review").text
    assert f'src="/batches/{batch_id}/clips/{held["id"]}"' in grid and 'data-qa="held"' in grid
    assert f'action="/batches/{batch_id}/cells/{held["id"]}"' in grid and "no clip kept" not in grid
    approved = rex.post(f"/batches/{batch_id}/cells/{held['id']}", data={"decision": "approve", "csrf": csrf_of(grid)})
    assert approved.status_code == 303, approved.text

    # approved: published like any approved cell; nothing bought
    published = api.post(f"/api/v1/batches/{batch_id}/publish")
    assert published.status_code == 200 and published.json()["published"] == 1, published.text
    listed = api.get(f"/api/v1/batches/{batch_id}/deliverables").json()["deliverables"]
    assert [d["status"] for d in listed] == ["published"]
    shipped = list((live.data / "published").rglob("*.mp4"))
    assert len(shipped) == 1 and shipped[0].read_bytes() == clip.content
    assert len(kling.vendor.paid) == 2

    # a full re-run answers from the ledger: nothing paid, not composed again (the same file), the decision kept
    stamp = reviewed[0].stat().st_mtime_ns
    assert api.post(f"/api/v1/batches/{batch_id}/run").status_code == 202
    again = wait_state(api, batch_id, {"review", "failed"})
    assert again["state"] == "review", again
    assert len(kling.vendor.paid) == 2 and reviewed[0].stat().st_mtime_ns == stamp
    assert [d["status"] for d in api.get(f"/api/v1/batches/{batch_id}/deliverables").json()["deliverables"]] == [
        "published"]
