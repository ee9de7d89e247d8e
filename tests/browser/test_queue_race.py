"""Two browser tabs press Start at the same moment: two queued jobs, one training at a time;
the queue panel cancels, removes (a tab still holding the removed job is told it is gone), and
a new Start works after a cancelled job (no reset)."""

from __future__ import annotations

import json
import re
import time

from playwright.sync_api import Page, expect

from .studio_page import choose, fill, open_tab, table_rows, toast, wait_until_loaded

#: Each page schedules its click for the same wall-clock millisecond (both pages run in one
#: Chromium on this machine, so Date.now() is the same clock): the two Start requests race.
CLICK_AT = "t => setTimeout(() => document.querySelector('#start-btn').click(), t - Date.now())"
def _fill_form(page: Page, model_name: str) -> None:
    open_tab(page, "Train")
    choose(page, "dataset-dd", "bccd-tiny")
    expect(page.locator("#dataset-info")).to_contain_text("OK, ready to train")
    choose(page, "base-model-dd", "yolo11n.yaml")
    fill(page, "epochs", 30)
    fill(page, "imgsz", 64)
    fill(page, "batch", 8)
    fill(page, "model-name", model_name)
    page.locator("#advanced").get_by_text("Advanced").click()
    fill(page, "workers", 0)


def _rows(page: Page, text: str):  # noqa: ANN202 (a Locator)
    return table_rows(page, "jobs-table", text)


def _states(studio) -> dict[str, str]:
    data = json.loads((studio.root / "jobs" / "queue.json").read_text())
    return {job["model_name"]: job["state"] for job in data["jobs"]}


def test_simultaneous_starts_queue_two_jobs_and_train_one(page, studio) -> None:
    other = page.context.new_page()  # a second tab in the same browser context
    other.set_default_timeout(30_000)
    other.goto(studio.url)
    wait_until_loaded(other)
    _fill_form(page, "race-a")
    _fill_form(other, "race-b")
    at = int(time.time() * 1000) + 500
    page.evaluate(CLICK_AT, at)
    other.evaluate(CLICK_AT, at)
    for tab in (page, other):
        expect(_rows(tab, "race-a")).to_have_count(1, timeout=30_000)
        expect(_rows(tab, "race-b")).to_have_count(1, timeout=30_000)
    expect(_rows(page, "TRAINING")).to_have_count(1, timeout=30_000)
    expect(_rows(page, "QUEUED")).to_have_count(1)
    states = _states(studio)
    assert sorted(states[n] for n in ("race-a", "race-b")) == ["QUEUED", "TRAINING"], states
    queued = next(n for n in ("race-a", "race-b") if states[n] == "QUEUED")
    running = "race-b" if queued == "race-a" else "race-a"

    other.locator("#job-select input").click()  # the other tab picks the queued job too
    other.get_by_role("option", name=re.compile(f"QUEUED · {queued}$")).click()
    page.locator("#job-select input").click()  # remove the queued job from the panel
    # exactly the queued one is offered as QUEUED: the one that started is no longer
    expect(page.get_by_role("option", name=re.compile("QUEUED"))).to_have_count(1)
    page.get_by_role("option", name=re.compile(f"QUEUED · {queued}$")).click()
    page.locator("#job-remove-btn").click()
    expect(_rows(page, queued)).to_have_count(0, timeout=30_000)
    expect(_rows(other, queued)).to_have_count(0, timeout=30_000)
    other.locator("#job-remove-btn").click()  # the other tab acts on the job now gone
    expect(toast(other, "is no longer in the queue")).to_be_visible(timeout=30_000)
    expect(other.locator("#job-select input")).to_have_value("")  # and it left the selector
    page.locator("#cancel-btn").click()  # and cancel the running one
    expect(_rows(page, running)).to_contain_text("CANCELLED", timeout=60_000)
    expect(_rows(other, running)).to_contain_text("CANCELLED")

    page.locator("#start-btn").click()  # a new Start right after a cancelled job: no reset
    fresh = _rows(page, "race-a").filter(has_not_text="CANCELLED")
    expect(fresh).to_contain_text("TRAINING", timeout=30_000)
    page.locator("#cancel-btn").click()
    expect(_rows(page, "TRAINING")).to_have_count(0, timeout=60_000)
    other.close()
