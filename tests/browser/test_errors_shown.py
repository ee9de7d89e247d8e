"""Errors reach the user in the browser: the health-check report, and refused Starts as toasts."""

from __future__ import annotations

from playwright.sync_api import expect

from .studio_page import choose, open_tab, toast


def test_health_report_blocks_a_broken_dataset(page) -> None:
    open_tab(page, "Train")
    choose(page, "dataset-dd", "bccd-broken")
    info = page.locator("#dataset-info")
    expect(info).to_contain_text("BLOCKED")
    row = info.locator("tr.health-blocking", has_text="class_out_of_range")
    expect(row).to_contain_text("labels/train/BloodImage_00001.txt: ")  # file: what is wrong
    expect(row).to_contain_text("class")
    expect(row).to_have_css("color", "rgb(153, 27, 27)")  # blocking in red
    choose(page, "base-model-dd", "yolo11n.yaml")
    page.locator("#start-btn").click()
    expect(toast(page, "cannot be trained on")).to_be_visible()
    expect(page.locator("#jobs-table")).not_to_contain_text("bccd-broken")


def test_missing_offline_weights_is_explained(page) -> None:
    open_tab(page, "Train")
    choose(page, "dataset-dd", "bccd-tiny")
    expect(page.locator("#dataset-info")).to_contain_text("OK, ready to train")
    choose(page, "base-model-dd", "yolo11m.pt (download)")  # its label: not on this machine
    page.locator("#start-btn").click()
    message = toast(page, "yolo11m.pt")
    expect(message).to_be_visible()
    expect(message).to_contain_text("yolo11m.yaml")


def test_invalid_field_is_explained(page) -> None:
    open_tab(page, "Train")
    choose(page, "dataset-dd", "bccd-tiny")
    choose(page, "base-model-dd", "yolo11n.yaml")
    page.locator("#lrf input").fill("2")
    page.locator("#lrf input").press("Tab")
    page.locator("#start-btn").click()
    expect(toast(page, "lrf must be between 0 and 1")).to_be_visible()


def test_epochs_below_one_names_the_field(page) -> None:
    """Gradio's own minimum check said only "Value 0 is less than minimum value 1."."""
    open_tab(page, "Train")
    page.locator("#lrf input").fill("0.01")
    page.locator("#lrf input").press("Tab")
    page.locator("#epochs input").fill("0")
    page.locator("#epochs input").press("Tab")
    page.locator("#start-btn").click()
    expect(toast(page, "epochs must be an integer >= 1")).to_be_visible()
    page.locator("#epochs input").fill("2")
    page.locator("#epochs input").press("Tab")
