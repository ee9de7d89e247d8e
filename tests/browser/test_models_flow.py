"""The Models tab in Chromium on REAL trained models, and the Gradio API through gradio_client.

The app starts on a root holding the session's trained model (tests/conftest.py:
``trained_model_root``, dataset ``tiny``, model ``real``) plus ``second``, the same weights
registered again with another config (epochs 5), so nothing trains here.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import RunningApp, launch_studio
from .studio_page import TRAIN_TIMEOUT_MS, choose, open_tab, toast, try_first_val_image

DATASET = "tiny"


def _register_second(root: Path) -> None:
    from yolo_studio.persistence.model_store import ModelStore

    store = ModelStore(root / "models")
    first = store.get(DATASET, "real")
    config = dict(store.load_config(DATASET, "real"), epochs=5, model_name="second")
    store.save(DATASET, "second", first.weights_path, config, store.load_metrics(DATASET, "real"),
               {"base_model": first.base_model, "epochs_completed": first.epochs_completed,
                "best_map50": first.best_map50, "dataset_snapshot": first.dataset_snapshot,
                "dataset_hash": first.dataset_hash})


@pytest.fixture(scope="module")
def studio(tmp_path_factory, chromium_path, trained_model_root) -> Iterator[RunningApp]:
    """The app (``python app.py``) on a copy of the trained root with two registered models."""
    root = tmp_path_factory.mktemp("models-root")
    for part in ("datasets", "models"):
        shutil.copytree(trained_model_root.root / part, root / part)
    _register_second(root)
    with launch_studio(root) as app:
        yield app


def _open_models(page, subtab: str) -> None:
    open_tab(page, "Models")
    choose(page, "models-dataset-dd", DATASET)
    expect(page.locator("#models-table")).to_contain_text("second")
    page.get_by_role("tab", name=subtab).click()


def test_try_a_real_val_image_shows_boxes_and_detections(page) -> None:
    _open_models(page, "Try on an image")
    expect(page.locator("#try-model-dd input")).to_have_value("the active model (real)")
    try_first_val_image(page)
    expect(page.locator("#try-text-a")).to_contain_text(" ms")
    expect(page.locator("#try-text-a")).to_contain_text("real")
    expect(page.locator("#try-text-a")).to_contain_text(re.compile(r"[1-9]\d* detections? \("))
    rows = page.locator("#try-detections-a .virtual-row")  # Gradio's body rows
    expect(rows.first).to_contain_text(re.compile("RBC|WBC|Platelets"))
    expect(page.locator("#try-text-b")).to_contain_text("No candidate")
    choose(page, "model-dd", "second")  # Set active: Try's "active model" follows
    page.locator("#set-active-btn").click()
    expect(page.locator("#try-model-dd input")).to_have_value("the active model (second)")
    page.locator("#try-run-btn").click()
    expect(page.locator("#try-text-a")).to_contain_text("second", timeout=60_000)
    page.locator("#rollback-btn").click()
    expect(page.locator("#try-model-dd input")).to_have_value("the active model (real)")


def test_compare_two_models_overlays_charts_and_highlights_config(page) -> None:
    _open_models(page, "Compare")
    chosen = page.locator("#compare-dd")
    expect(chosen).to_contain_text("real")
    expect(chosen).to_contain_text("second")
    page.locator("#compare-btn").click()
    legend = page.locator("#compare-map50-plot .legend")
    expect(legend).to_contain_text("real", timeout=30_000)
    expect(legend).to_contain_text("second")
    table = page.locator("#compare-config-table")
    expect(table).to_contain_text("epochs")
    expect(table.locator("thead")).to_contain_text("second")
    rows = table.locator(".virtual-row")  # Gradio's body rows (a hidden table sizes columns)
    differing = rows.filter(has_text="≠")
    expect(differing).to_have_count(1)
    expect(differing).to_contain_text("epochs")
    expect(differing.locator("> *").first).to_have_css("background-color", "rgb(255, 233, 168)")
    same = rows.filter(has_text="imgsz")
    expect(same.locator("> *").first).not_to_have_css("background-color", "rgb(255, 233, 168)")
    expect(page.locator("#compare-summary")).to_contain_text("1 setting(s) differ: epochs")


def test_gradio_client_lists_models_and_predicts(studio) -> None:
    """The README's "Gradio API" example, run against the app."""
    from gradio_client import Client, handle_file

    client = Client(studio.url, verbose=False)
    table, dropdown, summary = client.predict(DATASET, None, api_name="/list_models")
    assert sorted(row[1] for row in table["data"]) == ["real", "second"]
    assert "active: **real**" in summary
    image = sorted((studio.root / "datasets" / DATASET / "images" / "val").glob("*.jpg"))[0]
    drawn, text, detections, *_ = client.predict(  # model None: the active model
        DATASET, None, None, handle_file(str(image)), 0.001, 0.7, api_name="/predict")
    assert Path(drawn).is_file() and text.startswith("**real**") and " ms" in text
    assert detections["headers"][:2] == ["class", "confidence"] and detections["data"]
    with pytest.raises(Exception, match="No model 'nope' is registered"):
        client.predict(DATASET, "nope", None, handle_file(str(image)), 0.25, 0.7,
                       api_name="/predict")


def test_a_model_deleted_elsewhere_cannot_be_downloaded(page, studio) -> None:
    """Page A lists ``third``; another client deletes it; A's Download says it is gone."""
    from gradio_client import Client

    from yolo_studio.persistence.model_store import ModelStore

    store = ModelStore(studio.root / "models")
    real = store.get(DATASET, "real")
    store.save(DATASET, "third", real.weights_path, store.load_config(DATASET, "real"),
               store.load_metrics(DATASET, "real"), {"base_model": real.base_model})
    _open_models(page, "Manage & export")
    expect(page.locator("#models-table")).to_contain_text("third")
    page.wait_for_timeout(1_000)  # the page's own refreshes of the list are done
    choose(page, "model-dd", "third")
    button = page.locator("#download-weights-btn")
    expect(button).to_contain_text("tiny-third.pt")
    with page.expect_download() as download:  # while it exists, one click downloads it
        button.click()
    assert download.value.suggested_filename == "tiny-third.pt"
    Client(studio.url, verbose=False).predict(DATASET, "third", False, api_name="/delete_model")
    downloads = []
    page.on("download", lambda item: downloads.append(item))
    button.click()
    expect(toast(page, "deleted")).to_be_visible()
    assert downloads == []


def test_evaluate_sort_and_promote_metric(page, studio) -> None:
    """Evaluate the real model on val from its sub-tab (a real validation in the app's
    process), sort the table, pick the promote metric; the evaluation is kept."""
    from yolo_studio.persistence.model_store import ModelStore

    _open_models(page, "Evaluate")
    expect(page.locator("#model-dd input")).to_have_value("real")
    page.locator("#evaluate-btn").click()
    result = page.locator("#eval-result")
    # the first validation in the app's process also imports Ultralytics there
    expect(result).to_contain_text("real on tiny val (8 images", timeout=TRAIN_TIMEOUT_MS)
    expect(result).to_contain_text("mAP50-95")
    expect(page.locator("#eval-per-class-table")).to_contain_text("RBC")
    expect(page.locator("#eval-history-table .virtual-row")).to_have_count(1)
    store = ModelStore(studio.root / "models")
    assert store.evaluations(DATASET, "real")[-1]["images"] == 8
    choose(page, "models-sort-dd", "name (A-Z)")
    names = page.locator("#models-table .virtual-row > :nth-child(2)")
    expect(names.first).to_have_text("real")
    choose(page, "promote-metric-dd", "mAP50")
    expect(page.locator("#models-summary")).to_contain_text("best by mAP50:")
    assert store.promote_metric(DATASET) == "map50"


def test_manage_exports_a_format_and_shows_it_against_best_pt(page, studio) -> None:
    """The format box is filled from Ultralytics when the sub-tab opens; a format locks the
    options it does not take; Export validates against best.pt and lists the export."""
    from gradio_client import Client

    _open_models(page, "Manage & export")
    choose(page, "export-format-dd", "ncnn")
    info = page.locator("#export-format-info")
    expect(info).to_contain_text("NCNN (ncnn) takes imgsz, batch, fp16")
    expect(page.locator("#export-dynamic input")).to_be_disabled()
    choose(page, "export-format-dd", "torchscript")
    expect(info).to_contain_text("TorchScript (torchscript) takes imgsz, batch, dynamic")
    expect(page.locator("#export-dynamic input")).to_be_enabled()
    page.locator("#export-btn").click()
    comparison = page.locator("#export-comparison")
    expect(comparison).to_contain_text("difference", timeout=120_000)
    expect(comparison).to_contain_text("TorchScript")
    expect(page.locator("#model-exports")).to_contain_text("torchscript (best.torchscript")
    expect(page.locator("#model-exports")).to_contain_text("vs best.pt")
    client = Client(studio.url, verbose=False)
    formats = client.predict(api_name="/export_formats")
    rows = {row[0]: row for row in formats["data"]}
    assert rows["openvino"][:3] == ["openvino", "OpenVINO", "yes"]
    assert rows["engine"][2] == "no: TensorRT needs a CUDA GPU, and this machine has none"
    with pytest.raises(Exception, match="NCNN export does not take dynamic"):
        client.predict(DATASET, "real", "ncnn", 0, 1, "fp32", True, True, 0.02,
                       api_name="/export_model")
