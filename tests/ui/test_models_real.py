"""The Models tab's handlers on a REAL trained model (tests/conftest.py trains it once):
inspect, compare, try on an image, manage, download and export, errors as gr.Error."""

from __future__ import annotations

import sys
from pathlib import Path

import gradio as gr
import numpy as np
import pytest

from yolo_studio.training.manager import TrainingManager
from yolo_studio.ui import (model_compare, model_export, model_inspect, model_manage, model_try,
                            models_tab)
from yolo_studio.ui.app import build_app
from yolo_studio.ui.errors import shows_errors

from plot_figures import figure

pytestmark = pytest.mark.slow

API_NAMES = {"list_models", "model_details", "compare_models", "predict", "export_model",
             "export_formats", "rename_model", "update_model_info", "rollback_active",
             "set_active_model", "delete_model", "download_weights"}


@pytest.fixture
def manager(real_model) -> TrainingManager:
    return TrainingManager(real_model.settings())


def _second_model(manager: TrainingManager, ds: str, name: str = "second") -> None:
    """Register the real weights again under ``name`` with a different config (epochs=5)."""
    first = manager.models.get(ds, "real")
    config = dict(manager.models.load_config(ds, "real"), epochs=5, model_name=name)
    metrics = manager.models.load_metrics(ds, "real")
    manager.models.save(ds, name, first.weights_path, config, metrics,
                        {"base_model": first.base_model, "epochs_completed": 2,
                         "best_map50": first.best_map50,
                         "dataset_snapshot": first.dataset_snapshot,
                         "dataset_hash": first.dataset_hash})


def test_every_action_has_its_stable_api_name(manager) -> None:
    fns = build_app(manager, None).fns.values()
    public = {fn.api_name for fn in fns if fn.api_visibility == "public"}
    assert API_NAMES <= public
    assert all(fn.concurrency_limit is None for fn in fns)


def test_inspect_shows_config_charts_per_class_plots(real_model, manager) -> None:
    info, warning, loss, metrics, config, per_class, gallery = model_inspect.inspect_values(
        manager, real_model.dataset, real_model.name)
    loss, metrics = figure(loss), figure(metrics)
    assert "### real ★ active" in info and "28 images, 3 classes" in info
    assert warning.visible is False
    assert [len(t.x) for t in loss.data] == [2] * 6
    assert [len(t.x) for t in metrics.data[:4]] == [2] * 4
    assert metrics.data[-1].name == "best.pt on val"
    assert ["imgsz", "64"] in config and ["epochs", "2"] in config
    assert sorted(row[0] for row in per_class) == sorted(
        manager.datasets.get(real_model.dataset).class_names)
    names = [Path(path).name for path, _ in gallery]
    assert names[0] == "confusion_matrix.png" and "val_batch0_pred.jpg" in names
    assert all(Path(p).is_relative_to(real_model.root) for p, _ in gallery)  # servable


def test_inspect_warns_when_the_dataset_changed(real_model, manager) -> None:
    folder = manager.datasets.get(real_model.dataset).folder
    label = sorted((folder / "labels" / "val").glob("*.txt"))[0]
    label.write_text(label.read_text() + "0 0.5 0.5 0.1 0.1\n")
    warning = model_inspect.inspect_values(manager, real_model.dataset, real_model.name)[1]
    assert warning.visible is True and "changed since this model was trained" in warning.value


def test_compare_overlays_both_models_and_highlights_config_differences(real_model,
                                                                         manager) -> None:
    _second_model(manager, real_model.dataset)
    choices = model_compare.compare_choices(manager, real_model.dataset, None)
    assert sorted(choices.value) == ["real", "second"]
    summary, map50, map50_95, losses, styled = model_compare.compare_values(
        manager, real_model.dataset, ["real", "second"])
    map50, map50_95, losses = figure(map50), figure(map50_95), figure(losses)
    assert [t.name for t in map50.data] == ["real", "second"]
    assert [len(t.x) for t in map50_95.data] == [2, 2]
    assert {t.legendgroup for t in losses.data} == {"real", "second"}
    frame = styled.data
    assert list(frame.columns[1:3]) == ["real", "second"]
    differing = frame[frame["≠ differs"] == "≠"]["config field"].tolist()
    assert differing == ["epochs"], differing
    assert "1 setting(s) differ: epochs" in summary
    with pytest.raises(gr.Error, match="at least two"):
        shows_errors(model_compare.compare_values)(manager, real_model.dataset, ["real"])


def test_try_runs_model_and_candidate_on_a_val_image(real_model, manager) -> None:
    _second_model(manager, real_model.dataset)
    samples = model_try.sample_choices(manager, real_model.dataset)
    assert samples and all(Path(p).parent.name == "val" for _, p in samples)
    out = model_try.predict_values(manager, real_model.dataset, None, "second", samples[0][1],
                                   0.001, 0.7)
    image_a, text_a, rows_a, image_b, text_b, rows_b = out
    assert isinstance(image_a, np.ndarray) and image_a.ndim == 3
    assert rows_a and rows_a == rows_b  # same weights: same boxes
    assert text_a.startswith("**real**") and " ms" in text_a and text_b.startswith("**second**")
    assert all(0.001 <= row[1] <= 1 for row in rows_a)
    single = model_try.predict_values(manager, real_model.dataset, "real", None, samples[0][1],
                                      0.001, 0.7)
    assert single[3] is None and single[4] == model_try.NO_CANDIDATE
    run = shows_errors(model_try.predict_values)
    with pytest.raises(gr.Error, match="Upload an image"):
        run(manager, real_model.dataset, None, None, None, 0.25, 0.7)
    with pytest.raises(gr.Error, match="No model .nope. is registered"):
        run(manager, real_model.dataset, "nope", None, samples[0][1], 0.25, 0.7)


def test_manage_rename_notes_rollback_and_download(real_model, manager) -> None:
    ds = real_model.dataset
    _second_model(manager, ds)
    manager.registry.set_active(ds, "second")
    values = model_manage.manage_values(manager, ds, "real")
    assert values[0] == "real" and f"Download {ds}-real.pt" in values[3].label
    assert values[3].value is None  # the file is looked up when the button is clicked
    manager.registry.rename_model(ds, "real", "baseline")
    manager.registry.update_model_info(ds, "baseline", notes="first", tags="cpu, tiny")
    name, notes, tags, _, exports = model_manage.manage_values(manager, ds, "baseline")
    assert (name, notes, tags) == ("baseline", "first", "cpu, tiny")
    assert exports == "Exports: none yet"
    assert model_manage.weights_file(manager, ds, "baseline", "pt").endswith(
        f"download/{ds}-baseline.pt")
    with pytest.raises(gr.Error, match="no onnx export yet"):
        shows_errors(model_manage.weights_file)(manager, ds, "baseline", "onnx")
    assert manager.registry.rollback_active(ds).name == "baseline"
    rows, dropdown, summary = models_tab.refresh(manager, ds, "second")
    assert dropdown.value == "second" and "active: **baseline**" in summary
    manager.registry.delete_model(ds, "second")  # from another page, which still lists it
    with pytest.raises(gr.Error, match="'second' of dataset 'tiny' was deleted"):
        shows_errors(model_manage.weights_file)(manager, ds, "second", "pt")


def test_export_torchscript_with_options_and_missing_dependency_is_a_clear_error(
        real_model, manager, monkeypatch) -> None:
    ds = real_model.dataset
    keys, table = model_export.formats_values(manager, None)
    assert {"onnx", "torchscript", "openvino", "ncnn"} <= set(keys.choices[i][0]
                                                              for i in range(len(keys.choices)))
    assert any(row[0] == "openvino" and row[2] == "yes" for row in table)
    *locks, info = model_export.format_values(manager, "ncnn")
    assert "**NCNN** (`ncnn`) takes imgsz, batch, fp16" in info
    assert locks[2]["interactive"] is False and locks[1]["interactive"] is True  # dynamic, batch
    path, text, rows, files = model_export.export_values(
        manager, ds, "real", "torchscript", 32, 1, "fp32", False, True, 0.02)
    assert Path(path).name == "best.torchscript" and Path(path).stat().st_size > 0
    assert "torchscript (best.torchscript" in text and "imgsz 32" in text
    assert [row[0] for row in rows] == ["best.pt", "TorchScript", "difference"]
    assert files.value == "torchscript" and "torchscript" in [c[0] for c in files.choices]
    assert manager.registry.weights_path(ds, "real", "torchscript") == Path(path)
    assert "TorchScript (fp32, imgsz 32): mAP50-95" in model_inspect.inspect_values(
        manager, ds, "real")[0]
    run = shows_errors(model_export.export_values)
    with pytest.raises(gr.Error, match="NCNN export does not take dynamic"):
        run(manager, ds, "real", "ncnn", None, 1, "fp32", True, True, None)
    monkeypatch.setitem(sys.modules, "onnxslim", None)  # as if not installed
    with pytest.raises(gr.Error, match=r"onnxslim>=0.1.82 \(not installed\)"):
        run(manager, ds, "real", "onnx", None, 1, "fp32", False, True, None)
