"""In Chromium: an augmentation argument changed in the Advanced section is marked, shows in the
YAML view and the command preview, reaches the real run's args.yaml, and the form comes back
with it on reload (the last configuration of the dataset)."""

from __future__ import annotations

import yaml
from playwright.sync_api import expect

from .studio_page import TRAIN_TIMEOUT_MS, choose, fill, open_tab, table_rows


def test_an_augmentation_argument_reaches_the_command_and_the_run(page, studio) -> None:
    open_tab(page, "Train")
    choose(page, "dataset-dd", "bccd-tiny")
    choose(page, "base-model-dd", "yolo11n.yaml")
    for elem_id, value in (("epochs", 1), ("imgsz", 64), ("batch", 8), ("model-name", "aug")):
        fill(page, elem_id, value)
    page.locator("#advanced").get_by_text("Advanced").click()
    fill(page, "workers", 0)
    fill(page, "device", "cpu")
    page.locator("#args-augmentation").get_by_text("Augmentation").click()
    expect(page.locator("#arg-mosaic")).to_contain_text("mosaic augmentation probability")
    fill(page, "arg-mosaic", 0)
    expect(page.locator("#arg-mosaic")).to_contain_text("mosaic ● changed (default 1.0)")
    expect(page.locator("#args-augmentation")).to_contain_text("Augmentation (1 changed)")
    expect(page.locator("#extra-args")).to_contain_text("mosaic: 0.0")
    page.locator("#command-accordion").get_by_text("Command preview").click()
    preview = page.locator("#command-preview")
    expect(preview).to_contain_text("mosaic=0.0")
    expect(preview).to_contain_text("model=yolo11n.yaml epochs=1")
    page.locator("#start-btn").click()
    row = table_rows(page, "jobs-table", "aug")
    expect(row).to_contain_text("COMPLETED", timeout=TRAIN_TIMEOUT_MS)
    [args_yaml] = (studio.root / "jobs" / "runs").glob("*/args.yaml")
    args = yaml.safe_load(args_yaml.read_text())
    assert (args["mosaic"], args["epochs"], args["imgsz"]) == (0.0, 1, 64)
    page.reload()  # the dataset's last configuration comes back
    page.wait_for_selector("#start-btn")
    expect(page.locator("#epochs input")).to_have_value("1")
    page.locator("#advanced").get_by_text("Advanced").click()
    expect(page.locator("#extra-args")).to_contain_text("mosaic: 0.0")
    page.locator("#args-augmentation").get_by_text("Augmentation").click()
    expect(page.locator("#arg-mosaic input").first).to_have_value("0")
    expect(page.locator("#arg-mosaic")).to_contain_text("changed")
