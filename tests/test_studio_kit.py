"""The brand kit screens over real HTTP: view, edit (admin only, CSRF), validated uploads, previews, isolation.

An edit becomes the workspace's own copy of the kit; the bundled kit and other workspaces never see it, and the
next estimate of that workspace plans with it.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from PIL import Image
from tests.conftest import ROOT
from tests.test_studio_helpers import Live, csrf_of, live_studio, sample_upload, sign_in


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with live_studio(tmp_path_factory.mktemp("kit") / "data") as server:
        server.add_user("ann@example.com", "aurora", "admin")
        server.add_user("ed@example.com", "aurora", "editor")
        server.add_user("bob@example.com", "nordlys", "admin")
        yield server


def _workspace(client: httpx.Client) -> str:
    return str(client.get("/", follow_redirects=True).url).rstrip("/")


def _form(page: str) -> dict[str, str]:
    """The edit form's text values as the page shows them (what a browser would post back)."""
    values = dict(re.findall(r'<input type="(?:text|color|number)" name="([\w.]+)"[^>]*?value="([^"]*)"', page))
    return {**values, "csrf": csrf_of(page)}


def _png(colour: tuple[int, int, int], size: tuple[int, int] = (120, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, colour + (255,)).save(out, "PNG")
    return out.getvalue()


def test_kits_are_listed_viewed_and_only_admins_edit(live: Live) -> None:
    ann, ed, bob = (sign_in(live.url, e) for e in ("ann@example.com", "ed@example.com", "bob@example.com"))
    mine = _workspace(ann)
    listing = ann.get(f"{mine}/kits")
    assert listing.status_code == 200 and 'href="/w/' in listing.text and ">aurora</a>" in listing.text
    page = ed.get(f"{mine}/kits/aurora")
    assert page.status_code == 200 and "Only a workspace admin edits brand kits." in page.text
    assert 'id="save-kit"' not in page.text and "<fieldset disabled>" in page.text
    denied = ed.post(f"{mine}/kits/aurora", data={**_form(page.text), "colour_primary": "#000000"})
    assert denied.status_code == 403 and "may not edit brand kits" in denied.text
    admin_page = ann.get(f"{mine}/kits/aurora").text
    assert ann.post(f"{mine}/kits/aurora", data={**_form(admin_page), "csrf": ""}).status_code == 403
    assert ann.post(f"{mine}/kits/aurora", data=_form(admin_page), headers={"origin": "https://evil.example"}
                    ).status_code == 403
    assert ann.get(f"{mine}/kits/../etc").status_code == 404
    assert ann.get(f"{mine}/kits/nope").status_code == 404 and ann.get(f"{mine}/kits/aurora/preview/7x3.jpg").status_code == 404
    for path in ("/kits", "/kits/aurora", "/kits/aurora/preview/9x16.jpg"):  # another workspace: as if it did not exist
        assert bob.get(f"{mine}{path}").status_code == 404, path
    assert bob.post(f"{mine}/kits/aurora", data={**_form(admin_page), "csrf": csrf_of(bob.get("/", follow_redirects=True).text)}
                    ).status_code == 404
    assert httpx.get(f"{mine}/kits/aurora").status_code == 303  # signed out: to the sign-in page


def test_an_admin_edit_is_the_workspaces_own_kit_and_changes_its_preview(live: Live, tmp_path: Path) -> None:
    ann, bob = sign_in(live.url, "ann@example.com"), sign_in(live.url, "bob@example.com")
    mine, theirs = _workspace(ann), _workspace(bob)
    page = ann.get(f"{mine}/kits/aurora").text
    before = re.search(r'preview/9x16\.jpg\?v=(\w+)', page)
    assert before is not None
    still = ann.get(f"{mine}/kits/aurora/preview/9x16.jpg?v={before.group(1)}")
    assert still.status_code == 200 and still.content[:3] == b"\xff\xd8\xff"
    assert Image.open(io.BytesIO(still.content)).height == 640
    values = {**_form(page), "colour_primary": "#1e88e5", "banned_words": "cheap, miracle, guaranteed, unbeatable",
              "end_call_to_action": "Buy it today"}
    saved = ann.post(f"{mine}/kits/aurora", data=values, files={"logo": ("my logo.png", _png((30, 136, 229)))})
    assert saved.status_code == 303, saved.text
    after = ann.get(f"{mine}/kits/aurora").text
    assert 'value="#1e88e5"' in after and "unbeatable" in after and "Buy it today" in after
    assert "edited in this workspace" in after
    version = re.search(r'preview/9x16\.jpg\?v=(\w+)', after)
    assert version is not None and version.group(1) != before.group(1)  # a changed kit is a new still URL
    new_still = ann.get(f"{mine}/kits/aurora/preview/9x16.jpg?v={version.group(1)}")
    assert new_still.status_code == 200 and new_still.content != still.content
    copies = list((live.data / "kits").glob("*/aurora/brand.yaml"))
    assert len(copies) == 1
    stored = yaml.safe_load(copies[0].read_text())
    assert stored["colours"]["primary"] == "#1e88e5" and stored["end_card"]["call_to_action"] == "Buy it today"
    assert stored["logo"].startswith("logo-") and stored["logo"].endswith(".png")  # a generated name, not theirs
    assert stored["default_lighting"] == "softbox upper left"  # fields left alone keep their values
    assert yaml.safe_load((ROOT / "brand_kits/aurora/brand.yaml").read_text())["colours"]["primary"] == "#c45c3c"
    other = bob.get(f"{theirs}/kits/aurora").text  # the other workspace still has the bundled kit
    assert 'value="#c45c3c"' in other and "edited in this workspace" not in other

    sheet, images = sample_upload(tmp_path / "up", bad_row=False)  # the next plan uses the edited kit
    home = ann.get(f"{mine}")
    created = ann.post(f"{mine}/batches", data={"csrf": csrf_of(home.text)},
                       files={"sheet": ("c.xlsx", sheet.read_bytes()), "images": ("i.zip", images.read_bytes())})
    batch = created.headers["location"]
    plan = ann.get(f"{batch}/plan").text
    estimated = ann.post(f"{batch}/estimate", data={"csrf": csrf_of(plan), "brand_kit": "aurora", "providers": "kling",
                                                    "formats": "9x16"})
    assert estimated.status_code == 303
    stored_batch = live.app.state.store.batch(batch.rsplit("/", 1)[1])  # type: ignore[attr-defined]
    assert stored_batch["estimate"]["kit_dir"] == str(copies[0].parent.resolve())


def test_unusable_assets_and_values_are_refused_and_the_kit_is_kept(live: Live) -> None:
    ann = sign_in(live.url, "ann@example.com")
    mine = _workspace(ann)
    page = ann.get(f"{mine}/kits/nordlys").text
    base = _form(page)
    cases = [
        ({"colour_primary": "#12"}, {}, "colours primary: colour '#12' must be a hex colour"),
        ({"end_duration_s": "9"}, {}, "end card duration s"),
        ({}, {"logo": ("logo.png", b"not an image at all")}, "the logo is not usable"),
        ({}, {"logo": ("logo.gif", _gif())}, "upload PNG, JPEG or WebP"),
        ({}, {"font": ("brand.ttf", b"\x00\x01\x00\x00" + b"garbage" * 20)}, "font is unusable"),
        ({}, {"music": ("bed.mp3", b"plain text, not music")}, "not an audio file"),
    ]
    for values, files, expected in cases:
        answer = ann.post(f"{mine}/kits/nordlys", data={**base, **values}, files=files or None)
        assert answer.status_code == 422, (expected, answer.text)
        text = html.unescape(answer.text)
        assert expected in text, (expected, text)
        assert "Traceback" not in text and str(live.data) not in text  # one line in the user's terms
    assert not list((live.data / "kits").glob("*/nordlys")), "a refused edit leaves no copy behind"
    assert not list((live.data / "kits").glob("*/.nordlys.*"))
    # an edit, then back to the bundled kit
    assert ann.post(f"{mine}/kits/nordlys", data={**base, "tone": "calm, nordic"}).status_code == 303
    assert "calm" in ann.get(f"{mine}/kits/nordlys").text
    copy = next((live.data / "kits").glob("*/nordlys"))
    (copy / "brand.yaml").write_text("name: [unclosed\n")  # a kit broken on disk: the page says why, still editable
    broken = ann.get(f"{mine}/kits/nordlys")
    assert broken.status_code == 200 and "This kit cannot be used as it is" in broken.text and "not valid YAML" in broken.text
    assert ann.get(f"{mine}/kits/nordlys/preview/1x1.jpg").status_code == 422
    mended = ann.post(f"{mine}/kits/nordlys", data={**base, "tone": "mended"})
    assert mended.status_code == 303 and "This kit cannot be used" not in ann.get(f"{mine}/kits/nordlys").text
    reset = ann.post(f"{mine}/kits/nordlys/reset", data={"csrf": base["csrf"]})
    assert reset.status_code == 303 and not list((live.data / "kits").glob("*/nordlys"))
    assert ann.post(f"{mine}/kits/nordlys/reset", data={"csrf": base["csrf"]}).status_code == 409  # nothing to undo


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (10, 10), (1, 2, 3)).save(out, "GIF")
    return out.getvalue()
