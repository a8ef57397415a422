"""Column remap, saved mappings, the diff against the last batch and edited prompts, over real HTTP.

A sheet whose title column has an unknown name is remapped by hand and re-validated; the mapping is saved for the
workspace and applied by itself to the next sheet with the same columns (never in another workspace). The diff
and the edited prompts come from the estimate's own keys (keys.product_hash, keys.content_key).
"""

from __future__ import annotations

import html
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import CORPUS, needs_corpus, sample_rows, write_catalog
from tests.test_studio_helpers import Live, csrf_of, live_studio, sign_in


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with live_studio(tmp_path_factory.mktemp("mapping") / "data") as server:
        server.add_user("ann@example.com", "aurora", "admin")
        server.add_user("vic@example.com", "aurora", "viewer")
        server.add_user("bob@example.com", "nordlys", "admin")
        yield server


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sheets")
    sample_rows(out, ("AUR-TEE-NVY", "AUR-MUG-WHT", "AUR-SER-AMB"))  # copies the images
    with zipfile.ZipFile(out / "images.zip", "w") as archive:
        for image in sorted((out / "images").iterdir()):
            archive.write(image, f"images/{image.name}")
    return out


def _sheet(folder: Path, name: str, rows: list[dict[str, object]]) -> Path:
    return write_catalog(folder / name, rows)


def _upload(client: httpx.Client, sheet: Path, folder: Path) -> str:
    home = client.get("/", follow_redirects=True)
    answer = client.post(f"{home.url}/batches", data={"csrf": csrf_of(home.text)},
                         files={"sheet": (sheet.name, sheet.read_bytes()),
                                "images": ("images.zip", (folder / "images.zip").read_bytes())})
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"])


def _estimate(client: httpx.Client, batch: str, providers: str = "local") -> None:
    plan = client.get(f"{batch}/plan")
    answer = client.post(f"{batch}/estimate", data={"csrf": csrf_of(plan.text), "brand_kit": "aurora",
                                                    "providers": providers, "formats": "9x16"})
    assert answer.status_code == 303, answer.text


def _stored(live: Live, batch: str) -> dict[str, Any]:
    found: dict[str, Any] = live.app.state.store.batch(batch.rsplit("/", 1)[1])  # type: ignore[attr-defined]
    return found


def _keys(live: Live, batch: str, sku: str) -> dict[str, str]:
    """The content key of each of the SKU's shots, as the estimate recorded them for the diff."""
    from skureel.web.diff import fingerprints_of

    found: dict[str, str] = fingerprints_of(live.app.state.store, batch.rsplit("/", 1)[1])["rows"][sku]["keys"]  # type: ignore[attr-defined]
    return found


def _renamed(folder: Path) -> list[dict[str, object]]:
    """The sample rows with the title under a column name no alias knows."""
    return [{("Bezeichnung" if k == "Title" else k): v for k, v in row.items()}
            for row in sample_rows(folder, ("AUR-TEE-NVY", "AUR-MUG-WHT"))]


def test_a_remapped_column_revalidates_and_the_mapping_is_saved_for_the_workspace(live: Live, folder: Path) -> None:
    ann, vic, bob = (sign_in(live.url, e) for e in ("ann@example.com", "vic@example.com", "bob@example.com"))
    sheet = _sheet(folder, "renamed.xlsx", _renamed(folder))
    batch = _upload(ann, sheet, folder)
    page = ann.get(batch).text
    assert 'id="invalid-count">2<' in page and "no title" in page  # title not found: every row is refused
    assert '<select name="field.title"' in page and "<option>Bezeichnung</option>" in page
    csrf = csrf_of(page)
    assert ann.post(f"{batch}/mapping", data={"field.title": "Bezeichnung"}).status_code == 403  # no CSRF token
    assert vic.post(f"{batch}/mapping", data={"field.title": "Bezeichnung", "csrf": csrf_of(vic.get(batch).text)}
                    ).status_code == 403
    assert bob.post(f"{batch}/mapping", data={"field.title": "Bezeichnung", "csrf": csrf_of(bob.get("/", follow_redirects=True).text)}
                    ).status_code == 404  # another workspace's batch answers like a missing one
    remapped = ann.post(f"{batch}/mapping", data={"field.title": "Bezeichnung", "save": "1", "csrf": csrf})
    assert remapped.status_code == 303 and remapped.headers["location"].endswith("#mapping")
    page = ann.get(batch).text
    assert 'id="invalid-count">0<' in page and "No problems" in page
    assert "<td>title</td><td><code>Bezeichnung</code></td>" in page  # the user's column beside the field
    assert _stored(live, batch)["report"]["remap"] == {"title": "Bezeichnung"}
    assert "saved for these columns by ann@example.com" in page

    again = _upload(ann, _sheet(folder, "next-week.xlsx", _renamed(folder)[:1]), folder)  # same columns, new rows
    page = ann.get(again).text
    assert "Using the mapping saved for these columns by ann@example.com" in page
    assert 'id="invalid-count">0<' in page and _stored(live, again)["state"] == "validated"
    theirs = _upload(bob, sheet, folder)  # another workspace does not get aurora's mapping
    assert "Using the mapping saved" not in bob.get(theirs).text and _stored(live, theirs)["report"]["remap"] == {}
    bad = ann.post(f"{again}/mapping", data={"field.title": "No such column", "field.nope": "SKU", "csrf": csrf})
    assert bad.status_code == 303 and _stored(live, again)["report"]["remap"] == {}  # unknown column: not used
    assert _stored(live, again)["state"] == "invalid" and "no title" in ann.get(again).text  # and said so
    assert ann.post(f"{again}/mapping", data={"field.title": "Bezeichnung", "csrf": csrf}).status_code == 303
    assert _stored(live, again)["state"] == "validated"
    reset = ann.post(f"{again}/mapping", data={"reset": "1", "csrf": csrf})
    assert reset.status_code == 303 and _stored(live, again)["report"]["remap"] == {}
    fresh = _upload(ann, sheet, folder)  # the reset also forgot the saved mapping
    assert "Using the mapping saved" not in ann.get(fresh).text


def test_the_diff_says_new_changed_unchanged_and_removed(live: Live, folder: Path) -> None:
    ann = sign_in(live.url, "ann@example.com")
    rows = {str(r["SKU"]): r for r in sample_rows(folder, ("AUR-TEE-NVY", "AUR-MUG-WHT", "AUR-SER-AMB"))}
    first = _upload(ann, _sheet(folder, "week1.xlsx", list(rows.values())), folder)
    assert "No plan yet" in ann.get(f"{first}/diff").text  # empty state before an estimate
    _estimate(ann, first)
    tee, mug = rows["AUR-TEE-NVY"], rows["AUR-MUG-WHT"]
    week2 = [dict(tee), {**mug, "Price": 99.0}, {**tee, "SKU": "AUR-NEW-1", "Title": "A new tee"}]
    second = _upload(ann, _sheet(folder, "week2.xlsx", week2), folder)
    _estimate(ann, second)
    page = html.unescape(ann.get(f"{second}/diff").text)
    assert "1 new, 1 changed, 1 unchanged (free), 1 removed" in " ".join(page.replace("<strong>", "").replace(
        "</strong>", "").split())
    token = live.token("aurora")
    body = httpx.get(f"{live.url}/api/v1/batches/{second.rsplit('/', 1)[1]}/diff",
                     headers={"authorization": f"Bearer {token}"}).json()
    assert body["against"]["id"] == first.rsplit("/", 1)[1]
    assert [r["sku"] for r in body["new"]] == ["AUR-NEW-1"] and [r["sku"] for r in body["unchanged"]] == ["AUR-TEE-NVY"]
    assert [r["sku"] for r in body["removed"]] == ["AUR-SER-AMB"]
    changed = body["changed"][0]
    assert changed["sku"] == "AUR-MUG-WHT" and "price" in changed["fields"] and "title" not in changed["fields"]
    assert changed["regenerate"] == []  # a new price is an overlay: the clip's content key is the same
    other = httpx.get(f"{live.url}/api/v1/batches/{second.rsplit('/', 1)[1]}/diff",
                      headers={"authorization": f"Bearer {live.token('nordlys')}"})
    assert other.status_code == 404


def test_an_edited_prompt_is_linted_and_changes_what_is_paid_for(live: Live, folder: Path) -> None:
    ann, vic = sign_in(live.url, "ann@example.com"), sign_in(live.url, "vic@example.com")
    rows = sample_rows(folder, ("AUR-MUG-WHT",))
    batch = _upload(ann, _sheet(folder, "prompts.xlsx", rows), folder)
    plan = ann.get(f"{batch}/plan").text
    csrf = csrf_of(plan)
    before = ann.post(f"{batch}/prompts", data={"sku": "AUR-MUG-WHT", "shot": "hero", "prompt": "x", "csrf": csrf})
    assert before.status_code == 409 and "estimate the batch first" in before.text  # error state
    assert "No plan yet" in ann.get(f"{batch}/prompts", params={"sku": "AUR-MUG-WHT"}).text  # empty state
    _estimate(ann, batch, providers="kling")
    estimate = _stored(live, batch)["estimate"]
    shot = estimate["rows"][0]["shots"][0]
    key = _keys(live, batch, "AUR-MUG-WHT")[shot["shot"]]
    plan_page = ann.get(f"{batch}/plan").text
    assert 'name="prompt"' not in plan_page and "/prompts?sku=AUR-MUG-WHT" in plan_page  # a link: the plan stays light
    page = html.unescape(ann.get(f"{batch}/prompts", params={"sku": "AUR-MUG-WHT"}).text)
    assert shot["prompt"] in page and 'name="prompt"' in page
    assert ann.get(f"{batch}/prompts", params={"sku": "NOPE"}).status_code == 404
    edited = ("Slow push-in camera move toward a white ceramic mug on a linen table, soft window light from the "
              "upper left, steam rising gently, a miracle of a morning")
    form = {"sku": "AUR-MUG-WHT", "shot": shot["shot"], "prompt": edited, "csrf": csrf}
    assert ann.post(f"{batch}/prompts", data={**form, "csrf": ""}).status_code == 403
    assert vic.post(f"{batch}/prompts", data={**form, "csrf": csrf_of(vic.get(batch).text)}).status_code == 403
    bob = sign_in(live.url, "bob@example.com")
    bob_csrf = csrf_of(bob.get("/", follow_redirects=True).text)
    assert bob.post(f"{batch}/prompts", data={**form, "csrf": bob_csrf}).status_code == 404  # another workspace
    assert bob.get(f"{batch}/prompts", params={"sku": "AUR-MUG-WHT"}).status_code == 404
    assert bob.get(f"{batch}/diff").status_code == 404
    assert ann.post(f"{batch}/prompts", data={**form, "shot": "nope"}).status_code == 404
    saved = ann.post(f"{batch}/prompts", data=form)
    assert saved.status_code == 303 and saved.headers["location"].endswith("/prompts?sku=AUR-MUG-WHT")
    stored = _stored(live, batch)
    row = stored["estimate"]["rows"][0]
    assert stored["options"]["prompts"] == {"AUR-MUG-WHT": {shot["shot"]: edited}}
    assert row["shots"][0]["prompt"] == edited and row["shots"][0]["edited"] is True
    assert "banned brand word 'miracle'" in " ".join(f["text"] for f in row["findings"])  # lint reads the edit
    assert _keys(live, batch, "AUR-MUG-WHT")[shot["shot"]] != key  # a new prompt is a new purchase, paid once
    again = {**form, "prompt": edited.replace(", a miracle of a morning", "")}
    assert ann.post(f"{batch}/prompts", data=again).status_code == 303
    row = _stored(live, batch)["estimate"]["rows"][0]
    assert not [f for f in row["findings"] if "banned" in f["text"]] and _keys(live, batch, "AUR-MUG-WHT") != {
        shot["shot"]: key}
    assert "edited</span>" in ann.get(f"{batch}/plan").text
    assert ann.post(f"{batch}/prompts", data={**form, "reset": "1"}).status_code == 303
    row = _stored(live, batch)["estimate"]["rows"][0]
    assert _keys(live, batch, "AUR-MUG-WHT")[shot["shot"]] == key and row["shots"][0]["prompt"] == shot["prompt"]


def test_the_run_reads_the_sheet_with_the_remap_and_the_edited_prompts(folder: Path, settings: Any, tmp_path: Path) -> None:
    """What the flow's first task does with the studio's remap and prompts (pipeline.refresh.prepare_run)."""
    from tests.conftest import ROOT

    from skureel.pipeline.refresh import RunRequest, prepare_run

    sheet = _sheet(folder, "run.xlsx", _renamed(folder))
    request = RunRequest(catalog=str(sheet), brand_kit=str(ROOT / "brand_kits/aurora"), providers=["kling"],
                         formats=["9x16"], out=str(tmp_path / "out"))
    plain = prepare_run(request, settings)
    assert not plain.work and all(i.reason.startswith("no title") for i in plain.report.errors)
    edited = "Slow push-in camera move on a ceramic mug, soft light from the upper left"
    run = prepare_run(request.model_copy(update={"remap": {"title": "Bezeichnung"},
                                                 "prompts": {"AUR-MUG-WHT": {"hero": edited}}}), settings)
    work = {w.product.sku: w for w in run.work}
    assert set(work) == {"AUR-TEE-NVY", "AUR-MUG-WHT"} and work["AUR-MUG-WHT"].product.title == "Stoneware Mug"
    prompts = {s.shot.shot_id: s.rendered.prompt for s in work["AUR-MUG-WHT"].shots}
    assert prompts["hero"] == edited
    assert all(s.rendered.prompt != edited for s in work["AUR-TEE-NVY"].shots)


@needs_corpus
def test_a_remap_of_a_real_shopify_export_keeps_the_users_coordinates() -> None:
    from skureel.catalog import ingest
    from skureel.domain import UnusableInput

    export = CORPUS / "catalogs" / "shopify_large_vietjewelers.csv"
    plain = ingest(export)
    moved = ingest(export, remap={"title": "SEO Title"})  # a column that is empty on most rows of this export
    assert len(plain.products) == 577 and not moved.products
    first = moved.issues[0]
    assert (first.row, first.column) == (2, "SEO Title") and first.reason.startswith("first row of a product has no title")
    described = ingest(export, remap={"body": "SEO Description"})
    assert len(described.products) == 577 and [p.title for p in described.products] == [p.title for p in plain.products]
    for remap, words in (({"colour": "Title"}, "unknown field 'colour'"), ({"title": "Nope"}, "no column 'Nope'")):
        with pytest.raises(UnusableInput, match=words):
            ingest(export, remap=remap)
