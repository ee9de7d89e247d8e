"""Cancel looks inactive with nothing training and active (red) while a job trains, keyed on
values the page already receives (monitor_tab.CANCEL_CSS, training_flag)."""

from __future__ import annotations

from playwright.sync_api import expect

from .studio_page import open_tab, start_training, status


def test_cancel_looks_active_only_while_training(page, studio) -> None:
    cancel = page.locator("#cancel-btn")
    expect(cancel).to_have_css("opacity", "0.55")  # nothing trains: it looked active before
    start_training(page, "browser-cancel-look", epochs=30)
    expect(cancel).to_have_css("opacity", "1", timeout=60_000)  # the Train tab's own flag
    open_tab(page, "Monitor")
    expect(status(page)).to_contain_text("TRAINING", timeout=60_000)
    monitor_cancel = page.locator("#monitor-cancel-btn")
    expect(monitor_cancel).to_have_css("opacity", "1")
    monitor_cancel.click()
    expect(status(page)).to_contain_text("CANCELLED", timeout=30_000)
    expect(monitor_cancel).to_have_css("opacity", "0.55")
