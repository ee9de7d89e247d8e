"""A studio reachable beyond this machine (``--host 0.0.0.0`` with auth): base-weights upload and
server-folder import are off, and the Train tab says why instead of offering them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from .studio_page import fill, open_tab, toast, wait_until_loaded

USER, PASSWORD = "ann", "s3cret-pass"


@pytest.fixture(scope="module")
def studio_args() -> list[str]:
    return ["--host", "0.0.0.0", "--auth", f"{USER}:{PASSWORD}"]


@pytest.fixture
def logged_in(browser, studio) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(studio.url)
    page.get_by_label("username").fill(USER)
    page.get_by_label("password").fill(PASSWORD)
    page.get_by_role("button", name="Login").click()
    wait_until_loaded(page)
    yield page
    context.close()


def test_reachable_studio_explains_why_uploads_are_off(logged_in, studio) -> None:
    page = logged_in
    open_tab(page, "Train")
    page.locator("#weights-accordion").get_by_text("Base weights").click()
    note = page.locator("#weights-upload-note")
    expect(note).to_contain_text("Uploading base weights is off")
    expect(note).to_contain_text("pickle")
    expect(note).to_contain_text("--allow-weights-upload")
    expect(page.locator("#weights-upload")).to_have_count(0)
    page.locator("#import-accordion").get_by_text("Import a dataset").click()
    expect(page.locator("#import-folder-note")).to_contain_text("Upload a .zip instead")
    expect(page.locator("#import-folder")).to_have_count(0)
    expect(page.locator("#import-zip")).to_be_visible()


def test_reachable_studio_refuses_a_typed_pt_path(logged_in, studio) -> None:
    page = logged_in
    open_tab(page, "Train")
    evil = studio.root / "datasets" / "bccd-tiny" / "evil.pt"
    fill(page, "base-model-dd", str(evil))
    page.locator("#start-btn").click()
    expect(toast(page, "is not offered here")).to_be_visible()
