"""Files kept with a model (plots, results.csv, exports) and DatasetStore.sample_images."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from yolo_studio.errors import NotFoundError, RegistryError, ValidationError
from yolo_studio.persistence.dataset_store import DatasetStore
from yolo_studio.persistence.model_artifacts import (export_reports, named_link, plot_files,
                                                     train_batch_images)
from yolo_studio.persistence.model_store import ModelStore

INFO = {"base_model": "yolo11n.yaml", "epochs_completed": 1, "best_map50": 0.5}


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    run = tmp_path / "ultralytics-run"
    run.mkdir()
    for name in ("results.png", "BoxPR_curve.png", "confusion_matrix.png", "labels.jpg",
                 "train_batch0.jpg", "train_batch10.jpg", "train_batch2.jpg"):
        (run / name).write_bytes(b"\x89PNG" + name.encode())
    (run / "results.csv").write_text("epoch,metrics/mAP50(B)\n1,0.5\n")
    return run


def test_plot_files_picks_plots_training_batches_and_results_csv(run_dir):
    files = plot_files(run_dir)
    assert set(files) == {"plots/results.png", "plots/BoxPR_curve.png",
                          "plots/confusion_matrix.png", "results.csv", "plots/train_batch0.jpg",
                          "plots/train_batch2.jpg", "plots/train_batch10.jpg"}
    assert [p.name for p in train_batch_images(run_dir)] == [
        "train_batch0.jpg", "train_batch2.jpg", "train_batch10.jpg"]  # by batch number
    assert plot_files(run_dir / "missing") == {}


def test_save_keeps_files_and_plots_lists_them_in_display_order(tmp_path, weights, run_dir):
    store = ModelStore(tmp_path / "models")
    record = store.save("ds", "m1", weights, {}, {}, INFO, files=plot_files(run_dir))
    assert (record.folder / "results.csv").read_text().startswith("epoch")
    (record.folder / "plots" / "extra.png").write_bytes(b"x")
    names = [p.name for p in store.plots("ds", "m1")]
    assert names == ["confusion_matrix.png", "BoxPR_curve.png", "results.png",
                     "train_batch0.jpg", "train_batch2.jpg", "train_batch10.jpg", "extra.png"]
    assert (record.folder / "plots" / "BoxPR_curve.png").read_bytes().endswith(b"curve.png")
    bare = store.save("ds", "m2", weights, {}, {}, INFO)
    assert store.plots("ds", "m2") == [] and not (bare.folder / "plots").exists()
    with pytest.raises(NotFoundError):
        store.plots("ds", "nope")


@pytest.mark.parametrize("dest", ["/abs.png", "../out.png", "weights/best.pt", "metrics.json"])
def test_save_refuses_extra_files_outside_or_over_core_files(tmp_path, weights, run_dir, dest):
    store = ModelStore(tmp_path / "models")
    with pytest.raises(ValidationError, match="relative path"):
        store.save("ds", "m1", weights, {}, {}, INFO, files={dest: run_dir / "results.png"})
    assert store.list("ds") == [] and not (tmp_path / "models" / "ds" / "models" / "m1").exists()


def test_add_export_moves_the_file_and_lists_it(tmp_path, weights):
    store = ModelStore(tmp_path / "models")
    store.save("ds", "m1", weights, {}, {}, INFO)
    produced = tmp_path / "out" / "best.onnx"
    produced.parent.mkdir()
    produced.write_bytes(b"onnx-1")
    record = store.add_export("ds", "m1", "onnx", produced, "best.onnx", {"v": 1})
    target = record.folder / "weights" / "best.onnx"
    assert not produced.exists() and target.read_bytes() == b"onnx-1"
    assert record.extra["exports"] == {"onnx": "weights/best.onnx"}
    assert export_reports(record.folder) == {"onnx": {"v": 1}}
    produced.write_bytes(b"onnx-2")  # exporting again replaces the file and its report
    store.add_export("ds", "m1", "onnx", produced, "best.onnx", {"v": 2})
    assert store.exports("ds", "m1") == {"onnx": target} and target.read_bytes() == b"onnx-2"
    assert export_reports(record.folder) == {"onnx": {"v": 2}}
    renamed = store.rename("ds", "m1", "m2")  # exports follow a rename
    assert store.exports("ds", "m2") == {"onnx": renamed.folder / "weights" / "best.onnx"}
    assert export_reports(renamed.folder) == {"onnx": {"v": 2}}
    target = renamed.folder / "weights" / "best.onnx"
    target.unlink()  # a file deleted by hand is no longer offered
    assert store.exports("ds", "m2") == {}
    with pytest.raises(RegistryError, match="Cannot keep an export named"):
        store.add_export("ds", "m2", "onnx", produced, "../best.onnx")
    with pytest.raises(RegistryError, match="Could not keep"):
        store.add_export("ds", "m2", "onnx", tmp_path / "missing.onnx", "best.onnx")


def test_a_folder_export_replaces_the_older_one_and_downloads_as_a_zip(tmp_path, weights):
    store = ModelStore(tmp_path / "models")
    record = store.save("ds", "m1", weights, {}, {}, INFO)
    for version in (b"old", b"new"):
        produced = tmp_path / f"out-{version.decode()}" / "best_openvino_model"
        produced.mkdir(parents=True)
        (produced / "best.xml").write_bytes(version)
        (produced / "best.bin").write_bytes(version * 100)
        store.add_export("ds", "m1", "openvino", produced, "best_openvino_model", None)
    folder = record.folder / "weights" / "best_openvino_model"
    assert store.exports("ds", "m1") == {"openvino": folder}
    assert (folder / "best.xml").read_bytes() == b"new"
    assert [p.name for p in folder.parent.iterdir() if p.name.startswith(".")] == []
    archive = named_link(folder, record.folder, "ds-m1_openvino_model.zip")
    with zipfile.ZipFile(archive) as zipped:
        assert sorted(zipped.namelist()) == ["best_openvino_model/",
                                             "best_openvino_model/best.bin",
                                             "best_openvino_model/best.xml"]
        assert zipped.read("best_openvino_model/best.xml") == b"new"


def test_sample_images_lists_a_split(tmp_path, make_tiny):
    make_tiny(tmp_path / "datasets" / "tiny")
    store = DatasetStore(tmp_path / "datasets")
    val = store.sample_images("tiny")
    assert len(val) == 8 and val == sorted(val) and all(p.parent.name == "val" for p in val)
    assert len(store.sample_images("tiny", "train", limit=5)) == 5
    assert store.sample_images("tiny", "test") == []  # data.yaml names no test split
    with pytest.raises(ValidationError, match="split"):
        store.sample_images("tiny", "nope")
    with pytest.raises(ValidationError, match="limit"):
        store.sample_images("tiny", limit=0)
    with pytest.raises(NotFoundError):
        store.sample_images("missing")
