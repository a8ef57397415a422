"""The QA gate's verdicts in the review grid: a manifest and run summary as the flow writes them (a warned clip with
`qa_flags`, a held clip with a `needs_review` status, and the current `needs review: ...` failure without a clip)
become cells that say the failing measure in words; a held clip can be approved (then published) or re-run, a
held cell without a clip only re-run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.test_studio_helpers import Live, csrf_of, live_studio, sample_upload, sign_in

from skureel.web.scopes import cells_from_run

TEXT = "the label reads 'MUG' where the photo has 'CUP'"


def _run_output(out: Path, clip: Path) -> dict[str, object]:
    out.mkdir(parents=True)
    rows = [{"sku": "AUR-TEE-NVY", "shot": "hero", "format": "9x16", "status": "delivered", "uri": str(clip),
             "seed": 1, "qa_score": 0.8, "qa_flags": ["colour"], "qa_reasons": []},
            {"sku": "AUR-MUG-WHT", "shot": "hero", "format": "9x16", "status": "needs_review", "uri": str(clip),
             "seed": 2, "qa_score": 0.5, "qa_flags": ["text", "identity"], "qa_reasons": [TEXT]}]
    (out / "manifest.json").write_text(json.dumps({"summary": {}, "deliverables": rows}), encoding="utf-8")
    # what the gate's summary holds: held shots under `held`, with no format (a held cell is a shot)
    return {"held": [{"sku": "BROKEN-1", "shot": "hero", "status": "needs_review", "reason": f"needs review: {TEXT}",
                      "qa_flags": ["text"], "qa_score": 0.4}],
            "failures": [{"sku": "AUR-TEE-NVY", "shot": "detail", "reason": "kling refused the image"}]}


@pytest.fixture()
def live(tmp_path: Path) -> Iterator[Live]:
    with live_studio(tmp_path / "data", run_worker=False) as server:
        server.add_user("rex@example.com", "aurora", "reviewer")
        server.add_user("ann@example.com", "aurora", "admin")
        yield server


def test_held_and_flagged_cells_are_shown_in_words_and_decided(live: Live, tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 64)
    batch = {"options": {"formats": ["9x16"]},
             "estimate": {"rows": [{"sku": s} for s in ("AUR-TEE-NVY", "AUR-MUG-WHT", "BROKEN-1")]}}
    cells = {(c["sku"], c["shot"]): c for c in cells_from_run(batch, tmp_path / "out",
                                                                _run_output(tmp_path / "out", clip))}
    warned, held, no_clip = (cells[("AUR-TEE-NVY", "hero")], cells[("AUR-MUG-WHT", "hero")],
                             cells[("BROKEN-1", "hero")])
    assert warned["status"] == "ready" and warned["reason"] == "QA warning: the colours drift from the photo"
    assert held["status"] == "held" and held["reason"] == f"held by the QA check: {TEXT}" and held["clip_path"]
    assert no_clip["status"] == "held" and no_clip["reason"] == f"held by the QA check: {TEXT}"
    assert "clip_path" not in no_clip
    assert cells[("AUR-TEE-NVY", "detail")]["status"] == "failed"

    sheet, images = sample_upload(tmp_path / "upload", ("AUR-TEE-NVY", "AUR-MUG-WHT"))
    ann = sign_in(live.url, "ann@example.com")
    workspace = ann.get("/", follow_redirects=False).headers["location"]
    page = ann.get(workspace).text
    made = ann.post(f"{workspace}/batches", data={"csrf": csrf_of(page)},
                    files={"sheet": ("c.xlsx", sheet.read_bytes()), "images": ("i.zip", images.read_bytes())})
    batch_id = made.headers["location"].rsplit("/", 1)[1]
    store = live.app.state.store  # type: ignore[attr-defined]
    store.update_batch(batch_id, state="review", estimate={"rows": [{"sku": "AUR-TEE-NVY", "shots": []}]},
                       options={"brand_kit": "aurora", "formats": ["9x16"]})
    store.set_cells(batch_id, list(cells.values()))
    ids = {(c["sku"], c["shot"]): c["id"] for c in store.cells_of(batch_id)}

    rex = sign_in(live.url, "rex@example.com")
    grid = rex.get(f"/batches/{batch_id}/review").text
    assert "QA warning: the colours drift from the photo" in grid
    assert "held by the QA check: the label reads &#39;MUG&#39; where the photo has &#39;CUP&#39;" in grid
    assert grid.count('data-qa="held"') == 2 and "Held for review (no clip kept)" in grid
    held_id, bare_id = ids[("AUR-MUG-WHT", "hero")], ids[("BROKEN-1", "hero")]
    assert f'action="/batches/{batch_id}/cells/{held_id}"' in grid  # a held clip can be approved ...
    assert f'action="/batches/{batch_id}/cells/{bare_id}"' not in grid  # ... one without a clip cannot
    refused = rex.post(f"/batches/{batch_id}/cells/{bare_id}", data={"decision": "approve", "csrf": csrf_of(grid)})
    assert refused.status_code == 409
    approved = rex.post(f"/batches/{batch_id}/cells/{held_id}", data={"decision": "approve", "csrf": csrf_of(grid)})
    assert approved.status_code == 303
    assert store.cell(batch_id, held_id)["status"] == "approved"
    grid = ann.get(f"/batches/{batch_id}/review").text
    assert f'action="/batches/{batch_id}/cells/{bare_id}/rerun"' in grid  # ... but it can be re-run
    published = ann.post(f"/batches/{batch_id}/publish", data={"csrf": csrf_of(grid)})
    assert published.status_code == 303
    assert store.cell(batch_id, held_id)["status"] == "published"
