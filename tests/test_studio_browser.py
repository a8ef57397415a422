"""The studio end to end in a real Chromium (Debian's chromium-headless-shell driven by Playwright).

Sign in; upload a real Shopify export (when ../shared/corpus is present) and see its rows reported by number;
upload a 2-SKU sheet with an images zip and see its row error; estimate; run it locally (9x16, draft) and watch
the progress change without a reload; reject one clip with a reason, approve the other, publish, download the
zip. A screenshot of every screen goes to the test's tmp dir, and the review grid to docs/studio.png.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import CORPUS, ROOT
from tests.test_studio_helpers import PASSWORD, Live, live_studio, sample_upload

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = os.environ.get("SYSTEM_CHROMIUM", "/usr/lib/chromium/chromium-headless-shell")
PLAYWRIGHT_CHROMIUM_MAJOR = 155  # the build Playwright 1.65.2 was made for; Debian ships its own
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason=f"{CHROMIUM} missing: apt-get install chromium-headless-shell (make install)")
SHOPIFY = CORPUS / "catalogs" / "shopify_large_vietjewelers.csv"


@pytest.fixture()
def studio(tmp_path: Path) -> Iterator[Live]:
    with live_studio(tmp_path / "data") as live:
        live.add_user("mia@example.com", "aurora", "admin")
        yield live


@pytest.fixture()
def page(tmp_path: Path) -> Iterator[object]:
    home = tmp_path / "chromium-home"  # crashpad wants a writable HOME (webapp.md §5.8)
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
           "XDG_CACHE_HOME": str(home / ".cache")}
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, env=env)
        major = int(browser.version.split(".")[0])
        assert abs(major - PLAYWRIGHT_CHROMIUM_MAJOR) <= 2, f"Chromium {browser.version} is too far from Playwright's"
        context = browser.new_context(accept_downloads=True, viewport={"width": 1200, "height": 900})
        tab = context.new_page()
        tab.csp_errors = []  # type: ignore[attr-defined]
        tab.on("console", lambda m: "Content Security Policy" in m.text and tab.csp_errors.append(m.text))  # type: ignore[attr-defined]
        yield tab
        context.close()
        browser.close()


def test_marketer_uploads_runs_reviews_and_downloads(studio: Live, page: object, tmp_path: Path) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    shots = tmp_path / "screens"
    shots.mkdir()

    def snap(name: str) -> Path:
        path = shots / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    page.goto(f"{studio.url}/batches/nope")
    expect(page).to_have_url(f"{studio.url}/login")  # signed out: every screen leads to the sign-in form
    page.fill("input[name=email]", "mia@example.com")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_have_text("Wrong email or password.")
    page.fill("input[name=email]", "mia@example.com")
    page.fill("input[name=password]", PASSWORD)
    snap("01-sign-in")
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_contain_text("aurora")
    expect(page.locator(".empty")).to_contain_text("No batches yet")
    snap("02-workspace-empty")
    workspace = page.url

    if SHOPIFY.exists():  # a real export: format detected, its rows reported by the numbers the shop owner sees
        from skureel.catalog import ingest

        first = ingest(SHOPIFY).issues[0]
        page.set_input_files("input[name=sheet]", str(SHOPIFY))
        page.click("text=Upload and validate")
        expect(page.locator("#detected-format")).to_have_text("shopify")
        expect(page.locator("#problems")).to_contain_text(f"row {first.row} (SKU {first.sku})")
        snap("03-validate-shopify")
        page.goto(workspace)
    else:
        print(f"{SHOPIFY} absent (no ../shared/corpus): the real Shopify export part is skipped")

    sheet, images = sample_upload(tmp_path / "upload", ("AUR-TEE-NVY", "AUR-MUG-WHT"))
    page.set_input_files("input[name=sheet]", str(sheet))
    page.set_input_files("input[name=images]", str(images))
    page.click("text=Upload and validate")
    expect(page.locator("#detected-format")).to_have_text("native")
    expect(page.locator("#invalid-count")).to_have_text("1")
    expect(page.locator("#problems")).to_contain_text("row 4 (SKU BROKEN-1), column Title: no title")
    expect(page.locator("table.mapping")).to_contain_text("AUR-TEE-NVY")  # sample values beside each field
    snap("04-validate")
    batch_url = page.url

    page.click("text=Next: plan and estimate")
    expect(page.locator(".empty")).to_contain_text("No estimate yet")
    page.select_option("select[name=brand_kit]", "aurora")
    page.select_option("select[name=quality]", "draft")
    for box in page.locator("input[name=formats]").all():
        box.set_checked(box.get_attribute("value") == "9x16")
    page.click("form.options button[type=submit]")
    expect(page.locator("#estimate-total")).to_have_text("$0.00")  # the local renderer costs nothing
    expect(page.locator("#run-button")).to_have_text("Run 2 clips")
    snap("05-estimate")

    page.click("#run-button")
    expect(page).to_have_url(f"{batch_url}/progress")
    phase = page.locator("#run-phase")
    expect(phase).to_contain_text("running")
    page.evaluate("window.notReloaded = true")
    first_text = phase.inner_text()
    expect(phase).not_to_have_text(first_text, timeout=120_000)  # pushed over SSE, no reload
    assert page.evaluate("window.notReloaded") is True
    snap("06-progress")
    page.reload()  # a reload mid-run (or a second tab) sees the same run going on
    expect(phase).to_contain_text("review", timeout=400_000)
    expect(page.locator("#run-counts")).to_contain_text("2 of 2 clips done")
    snap("07-progress-finished")

    page.click("#to-review")
    cells = page.locator("figure.cell")
    expect(cells).to_have_count(2)
    expect(page.locator("video").first).to_have_attribute("preload", "none")
    poster = page.request.get(studio.url + (page.locator("video").first.get_attribute("poster") or ""))
    assert poster.ok and poster.body()[:3] == b"\xff\xd8\xff"
    tee = page.locator("figure.cell[data-sku=AUR-TEE-NVY]")
    tee.locator("input[name=reason]").fill("logo covers the print")
    tee.locator("button[value=reject]").click()
    expect(tee).to_contain_text("rejected")
    expect(tee).to_contain_text("logo covers the print")
    mug = page.locator("figure.cell[data-sku=AUR-MUG-WHT]")
    mug.locator("button[value=approve]").click()
    expect(mug).to_contain_text("approved")
    review_png = snap("08-review")
    docs = ROOT / "docs"
    docs.mkdir(exist_ok=True)
    shutil.copyfile(review_png, docs / "studio.png")

    page.click("#publish-button")
    expect(page).to_have_url(f"{batch_url}/deliver")
    snap("09-deliver")
    with page.expect_download() as download_info:
        page.click("#zip-9x16")
    archive = tmp_path / "9x16.zip"
    download_info.value.save_as(archive)
    with zipfile.ZipFile(archive) as z:
        assert z.namelist() == ["AUR-MUG-WHT__hero__9x16.mp4"]  # the rejected tee stays out
        assert z.read("AUR-MUG-WHT__hero__9x16.mp4")[4:8] == b"ftyp"
    assert not page.csp_errors, page.csp_errors  # type: ignore[attr-defined]
