"""The hosted part of the studio in a real Chromium: an admin enters the Kling keys on the settings screen (shown
back only by their last four characters), then runs 2 SKUs on the Kling fake (real HTTP on 127.0.0.1) from the
browser and reviews them; the fake counts exactly one paid job per SKU. Reuses the browser fixtures of
test_studio_browser.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.test_studio_browser import page, pytestmark  # noqa: F401 - the Chromium page fixture, its skip
from tests.test_studio_helpers import PASSWORD, Live, live_studio, sample_upload

from skureel.providers.fake.server import FakeServer

SKUS = ("AUR-TEE-NVY", "AUR-MUG-WHT")


@pytest.fixture()
def kling(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    with FakeServer("kling", latency_s=0.2) as server:
        monkeypatch.setenv("SKUREEL_KLING_BASE_URL", server.url)  # the run worker inherits it; keys come from the UI
        for name in ("KLING_API_KEY", "KLING_ACCESS_KEY", "KLING_SECRET_KEY"):
            monkeypatch.delenv(name, raising=False)
        yield server


@pytest.fixture()
def studio(tmp_path: Path, kling: FakeServer) -> Iterator[Live]:
    with live_studio(tmp_path / "data") as live:
        live.add_user("mia@example.com", "aurora", "admin")
        yield live


def test_two_skus_on_kling_from_the_browser(studio: Live, kling: FakeServer, page: object, tmp_path: Path) -> None:  # noqa: F811
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    shots = tmp_path / "screens"
    shots.mkdir()
    page.goto(f"{studio.url}/login")
    page.fill("input[name=email]", "mia@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    workspace = page.url

    page.click("#settings-link")
    expect(page.locator("#keys .empty")).to_contain_text("No keys yet")
    page.click("#keys summary:text-is('kling')")
    form = page.locator("form.keys[data-provider=kling]")
    for name, value in kling.credentials.items():
        form.locator(f"input[name={name}]").fill(value)
    form.locator("button[type=submit]").click()
    listing = page.locator("#key-list")
    expect(listing).to_contain_text("KLING_SECRET_KEY")
    expect(listing).to_contain_text("…test")
    assert "sk-test" not in page.content()  # never shown again
    page.screenshot(path=str(shots / "01-settings.png"), full_page=True)

    sheet, images = sample_upload(tmp_path / "upload", SKUS, bad_row=False)
    page.goto(workspace)
    page.set_input_files("input[name=sheet]", str(sheet))
    page.set_input_files("input[name=images]", str(images))
    page.click("text=Upload and validate")
    page.click("text=Next: plan and estimate")
    page.select_option("select[name=brand_kit]", "aurora")
    page.select_option("select[name=providers]", "kling")
    page.select_option("select[name=quality]", "draft")
    for box in page.locator("input[name=formats]").all():
        box.set_checked(box.get_attribute("value") == "9x16")
    page.click("form.options button[type=submit]")
    expect(page.locator("#estimate-total")).not_to_have_text("$0.00")  # Kling costs money
    page.click("#run-button")
    phase = page.locator("#run-phase")
    expect(phase).to_contain_text("review", timeout=400_000)  # pushed over SSE
    page.screenshot(path=str(shots / "02-progress.png"), full_page=True)
    page.click("#to-review")
    cells = page.locator("figure.cell")
    expect(cells).to_have_count(2)
    expect(page.locator("button[name=rerun]")).to_have_count(2)  # each cell can be made again with a new seed
    page.screenshot(path=str(shots / "03-review.png"), full_page=True)
    assert len(kling.vendor.paid) == 2 and len(set(kling.vendor.paid)) == 2
    assert not page.csp_errors, page.csp_errors  # type: ignore[attr-defined]
