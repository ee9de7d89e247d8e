"""Importing datasets and base weights through the Train tab, in Chromium."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from dataset_files import TINY, broken_copy, zip_folder
from playwright.sync_api import expect

from .studio_page import open_tab, toast


def _import(page, archive: Path, name: str = "") -> None:
    open_tab(page, "Train")
    page.locator("#import-accordion").get_by_text("Import a dataset").click()
    page.locator("#import-zip input[type=file]").set_input_files(str(archive))
    # Gradio's File may lay the name out as "stem .zip" (CI saw "bad-cells .zip")
    expect(page.locator("#import-zip")).to_contain_text(
        re.compile(re.escape(archive.stem) + r"\s*" + re.escape(archive.suffix)))
    if name:
        page.locator("#import-name input, #import-name textarea").first.fill(name)
    page.locator("#import-btn").click()


def test_zip_import_selects_the_dataset_and_shows_its_health(page, studio, tmp_path) -> None:
    archive = zip_folder(TINY, tmp_path / "cells.zip", top="cells")
    _import(page, archive, "uploaded-cells")
    report = page.locator("#import-report")
    expect(report).to_contain_text("Imported uploaded-cells", timeout=60_000)
    expect(page.locator("#dataset-dd input")).to_have_value("uploaded-cells")
    expect(page.locator("#dataset-info")).to_contain_text("28 images, 3 classes")
    expect(page.locator("#dataset-info")).to_contain_text("OK, ready to train")
    assert (studio.root / "datasets" / "uploaded-cells" / "data.yaml").is_file()
    open_tab(page, "Models")  # the Models tab's list has it too
    page.locator("#models-dataset-dd input").click()
    expect(page.get_by_role("option", name="uploaded-cells", exact=True)).to_be_visible()


def test_broken_zip_is_refused_with_a_per_file_report(page, studio, tmp_path) -> None:
    src = broken_copy(tmp_path / "bad-src")
    _import(page, zip_folder(src, tmp_path / "bad-cells.zip"))
    expect(toast(page, "was not imported")).to_be_visible(timeout=60_000)
    report = page.locator("#import-report")
    expect(report).to_contain_text("Not imported")
    expect(report).to_contain_text("labels/train/BloodImage_00001.txt")
    expect(report).to_contain_text("class id")
    expect(page.locator("#dataset-dd input")).not_to_have_value("bad-cells")
    assert not (studio.root / "datasets" / "bad-cells").exists()


def test_local_studio_accepts_base_weights_upload(page, studio, tmp_path) -> None:
    weights = tmp_path / "my-base.pt"
    with zipfile.ZipFile(weights, "w") as archive:  # torch.save's format is a zip archive
        archive.writestr("my-base/data.pkl", b"\x80\x02}q\x00.")
    open_tab(page, "Train")
    page.locator("#weights-accordion").get_by_text("Base weights").click()
    expect(page.locator("#weights-upload-note")).to_contain_text("runs on this machine")
    page.locator("#weights-upload input[type=file]").set_input_files(str(weights))
    stored = studio.root / "weights" / "my-base.pt"
    expect(page.locator("#base-model-dd input")).to_have_value("my-base.pt (uploaded)",
                                                               timeout=30_000)
    assert stored.read_bytes() == weights.read_bytes()
