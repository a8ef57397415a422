"""The studio's brand kit, column remap and review shortcuts in a real Chromium (fixtures of test_studio_browser).

An admin edits the brand kit and sees its preview stills; remaps a column of a real Shopify export (when
../shared/corpus is present) and sees the next upload of that export take the saved mapping by itself; then
walks a review grid with the keyboard only: j/k, a, r + reason + Enter, ?. No run: the grid's clips are real
MP4s written with PyAV into the batch store, so this test stays short.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from tests.test_qa_clips import write_mp4
from tests.test_studio_browser import SHOPIFY, page, pytestmark, studio  # noqa: F401 - fixtures and the skip mark
from tests.test_studio_helpers import PASSWORD, Live, sample_upload


def _mp4(path: Path, colour: tuple[int, int, int]) -> Path:
    return write_mp4(path, [np.zeros((112, 64, 3), np.uint8) + np.array(colour, np.uint8)] * 10)


def test_admin_edits_the_kit_remaps_a_column_and_reviews_by_keyboard(studio: Live, page: object,  # noqa: F811
                                                                     tmp_path: Path) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    shots = tmp_path / "screens"
    shots.mkdir()

    def snap(name: str) -> None:
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)

    page.goto(f"{studio.url}/login")
    page.fill("input[name=email]", "mia@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_contain_text("aurora")
    workspace = page.url

    # brand kit: view, edit, see the preview change
    page.click("#kits-link")
    page.click("#kits >> text=aurora")
    still = page.locator("#still-9x16")
    expect(still).to_have_js_property("complete", True, timeout=60_000)
    assert still.evaluate("img => img.naturalWidth") > 0
    before = still.get_attribute("src")
    page.fill("#call-to-action", "Buy it today")
    page.fill("input[name=colour_primary]", "#1e88e5")
    page.fill("#banned-words", "cheap, miracle, guaranteed, unbeatable")
    page.click("#save-kit")
    expect(page.locator(".crumbs")).to_contain_text("edited in this workspace")
    expect(page.locator("#call-to-action")).to_have_value("Buy it today")
    expect(page.locator("input[name=colour_primary]")).to_have_value("#1e88e5")
    expect(still).not_to_have_attribute("src", before or "")
    for fmt in ("9x16", "4x5", "1x1", "16x9"):  # one still per format, each rendered by the local renderer
        image = page.locator(f"#still-{fmt}")
        expect(image).to_have_js_property("complete", True, timeout=60_000)
        assert image.evaluate("img => img.naturalWidth") > 0, fmt
    snap("01-brand-kit")

    if SHOPIFY.exists():  # a real export: its description column remapped and remembered for the next upload
        page.goto(workspace)
        page.set_input_files("input[name=sheet]", str(SHOPIFY))
        page.click("text=Upload and validate")
        expect(page.locator("#detected-format")).to_have_text("shopify")
        page.click("#mapping summary")
        page.select_option("select[name='field.body']", label="SEO Description")
        page.click("#remap-button")
        expect(page.locator("table.mapping")).to_contain_text("SEO Description")
        expect(page.locator("#saved-mapping")).to_contain_text("mia@example.com")
        snap("02-remap")
        page.goto(workspace)
        page.set_input_files("input[name=sheet]", str(SHOPIFY))
        page.click("text=Upload and validate")
        expect(page.locator("#saved-mapping")).to_contain_text("Using the mapping saved for these columns")
        expect(page.locator("table.mapping")).to_contain_text("SEO Description")
    else:
        print(f"{SHOPIFY} absent (no ../shared/corpus): the real Shopify export part is skipped")

    # a review grid of two real clips, walked with the keyboard
    page.goto(workspace)
    sheet, images = sample_upload(tmp_path / "upload", ("AUR-TEE-NVY", "AUR-MUG-WHT"), bad_row=False)
    page.set_input_files("input[name=sheet]", str(sheet))
    page.set_input_files("input[name=images]", str(images))
    page.click("text=Upload and validate")
    batch_id = page.url.rsplit("/", 1)[1]
    store = studio.app.state.store  # type: ignore[attr-defined]
    store.update_batch(batch_id, state="review")
    store.set_cells(batch_id, [{"sku": sku, "shot": "hero", "format": "9x16", "status": "ready",
                                "clip_path": str(_mp4(tmp_path / f"{sku}.mp4", colour)),
                                "row": json.dumps({"sku": sku})}
                               for sku, colour in (("AUR-MUG-WHT", (200, 200, 200)), ("AUR-TEE-NVY", (20, 30, 90)))])
    page.goto(f"{studio.url}/batches/{batch_id}/review")
    cells = page.locator("figure.cell")
    expect(cells).to_have_count(2)
    page.keyboard.press("?")
    expect(page.locator("#keys-help")).to_be_visible()
    snap("03-review-keys-help")
    page.keyboard.press("Escape")
    expect(page.locator("#keys-help")).to_be_hidden()
    page.keyboard.press("j")
    expect(cells.nth(0)).to_have_class("cell ready focused")
    page.keyboard.press("j")
    expect(cells.nth(1)).to_have_class("cell ready focused")
    page.keyboard.press("k")
    expect(cells.nth(0)).to_have_class("cell ready focused")
    page.keyboard.press("a")  # approve the mug
    mug = page.locator("figure.cell[data-sku=AUR-MUG-WHT]")
    expect(mug).to_contain_text("approved")
    expect(mug).to_have_class("cell approved focused")  # the place is kept after the page comes back
    page.keyboard.press("j")
    page.keyboard.press("r")
    tee = page.locator("figure.cell[data-sku=AUR-TEE-NVY]")
    expect(tee.locator("input[name=reason]")).to_be_focused()
    page.keyboard.type("logo covers the print")
    page.keyboard.press("Enter")  # Enter in the reason field rejects (never approves)
    expect(tee).to_contain_text("rejected")
    expect(tee).to_contain_text("logo covers the print")
    snap("04-review-keys")
    assert {c["sku"]: c["status"] for c in store.cells_of(batch_id)} == {"AUR-MUG-WHT": "approved",
                                                                         "AUR-TEE-NVY": "rejected"}
    assert not page.csp_errors, page.csp_errors  # type: ignore[attr-defined]
