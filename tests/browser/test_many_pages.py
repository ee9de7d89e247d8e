"""Many pages open at once: each holds one of Gradio's queue slots per monitor stream."""

from __future__ import annotations

from playwright.sync_api import expect

from .studio_page import open_tab, status

PAGES = 12  # 4 streams each: 48 slots, more than Gradio's default of 40 in all


def test_a_dozen_open_pages_leave_the_studio_usable(browser, studio) -> None:
    contexts = []
    try:
        for _ in range(PAGES):  # a context each, as separate browsers (6 connections each)
            context = browser.new_context(viewport={"width": 1200, "height": 900})
            contexts.append(context)
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.goto(studio.url)
            page.wait_for_selector("#start-btn")
        # the last page's own page-load event ran: its dataset list is filled
        expect(page.locator("#dataset-dd input")).not_to_have_value("", timeout=30_000)
        open_tab(page, "Monitor")
        expect(status(page)).to_contain_text("IDLE", timeout=30_000)
        expect(page.locator("#resource-plot .js-plotly-plot")).to_be_visible(timeout=30_000)
    finally:
        for context in contexts:
            context.close()
