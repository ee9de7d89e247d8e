"""The headless CLI: train (over the fake Ultralytics), models, datasets, errors."""

from __future__ import annotations

import functools
import re
import shutil
import sys
from pathlib import Path

import filelock
import pytest
from dataset_files import TINY

from yolo_studio.cli import main
from yolo_studio.training import estimate, executor_choice, ultralytics_backend
from yolo_studio.training.batch_timing import BatchTiming
from yolo_studio.training.executors import ProcessExecutor

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS / "training"))
from fake_ultralytics import factory  # noqa: E402

MEASURED: list[tuple] = []  # the measurements train's estimate asked for (root fixture)


@pytest.fixture
def root(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "root"
    shutil.copytree(TINY, root / "datasets" / "tiny")
    original = ultralytics_backend.UltralyticsBackend.__init__

    def fake_init(self, model_factory=None):
        original(self, model_factory=model_factory or factory())

    monkeypatch.setattr(ultralytics_backend.UltralyticsBackend, "__init__", fake_init)
    # train's duration estimate: a fixed measurement (tests/training/test_estimate.py measures)
    monkeypatch.setattr(estimate, "measure_in_subprocess", lambda *args: MEASURED.append(args)
                        or BatchTiming(s_per_batch=0.5, s_per_val_image=0.01, device="cpu",
                                       passes=3))
    MEASURED.clear()
    # the CLI's jobs train in a real worker process, over the fake Ultralytics there too
    monkeypatch.setattr(executor_choice, "ProcessExecutor", functools.partial(
        ProcessExecutor, backend="worker_doubles:FakeUltralyticsBackend",
        env={"PYTHONPATH": str(TESTS / "training")}))
    return root


def test_train_then_models_list_set_active_delete(root, capsys):
    args = ["--root", str(root), "train", "--dataset", "tiny", "--base-model", "yolo11n.yaml",
            "--epochs", "3", "--imgsz", "64", "--batch", "4", "--workers", "0"]
    assert main(args + ["--model-name", "demo"]) == 0
    out = capsys.readouterr().out
    assert "epoch 1/3" in out and "epoch 3/3" in out and out.count("epoch 2/3:") == 1
    assert "Estimated duration: about 8 s on cpu (measured 0.5 s per batch of 4 at imgsz 64)" \
        in out.split("Job ")[0]  # before the job starts: 5 batches x 3 epochs + validation
    assert "Final (best.pt on val)" in out and "mAP50 0.3" in out
    assert str(root / "models" / "tiny" / "models" / "demo") in out
    assert main(args + ["--model-name", "demo2"]) == 0
    capsys.readouterr()
    assert main(["--root", str(root), "models", "--dataset", "tiny"]) == 0
    table = capsys.readouterr().out
    assert "demo2" in table and "mAP50-95" in table and "28 images, 3 classes" in table
    assert "best by fitness: demo" in table  # equal fitness: the newest first
    active_line = next(line for line in table.splitlines() if line.lstrip().startswith("*"))
    assert " demo " in active_line + " "
    assert main(["--root", str(root), "models", "set-active", "demo2", "--dataset", "tiny"]) == 0
    assert main(["--root", str(root), "models", "delete", "demo", "--dataset", "tiny"]) == 0
    assert main(["--root", str(root), "models", "delete", "demo2", "--dataset", "tiny"]) == 2
    assert "active" in capsys.readouterr().err
    assert main(["--root", str(root), "models", "delete", "demo2", "--dataset", "tiny",
                 "--allow-active"]) == 0
    assert "No models registered" in capsys.readouterr().out


def test_train_errors_exit_non_zero_with_message(root, capsys):
    assert main(["--root", str(root), "train", "--dataset", "nope", "--epochs", "1"]) == 2
    assert "No dataset 'nope'" in capsys.readouterr().err
    assert main(["--root", str(root), "train", "--dataset", "tiny", "--epochs", "0"]) == 2
    assert "epochs" in capsys.readouterr().err


def test_train_while_another_studio_runs_on_the_root_queues_nothing(root, capsys):
    """The worker lock is checked before the job is queued: otherwise the other studio would
    train the job the CLI reported as failed."""
    (root / "jobs").mkdir(parents=True, exist_ok=True)
    other = filelock.FileLock(root / "jobs" / "worker.lock", thread_local=False)
    with other.acquire(timeout=0):
        assert main(["--root", str(root), "train", "--dataset", "tiny", "--epochs", "1",
                     "--base-model", "yolo11n.yaml", "--model-name", "locked"]) == 2
    assert "Another YOLO Studio process" in capsys.readouterr().err
    queue = root / "jobs" / "queue.json"
    assert not queue.exists() or "locked" not in queue.read_text()


def test_datasets_list_and_import(root, tmp_path, capsys):
    assert main(["--root", str(root), "datasets"]) == 0
    out = capsys.readouterr().out
    assert "tiny" in out and "bccd" in out  # the built-in sample was copied in
    assert main(["--root", str(root), "datasets", "import", str(TINY), "--name", "again"]) == 0
    assert "Imported again: 28 images, 3 classes" in capsys.readouterr().out
    assert main(["--root", str(root), "datasets", "import"]) == 2


def test_root_may_follow_the_subcommand(root, tmp_path, capsys):
    """``--root`` after a subcommand (argparse once read it as the subcommand's action)."""
    other = tmp_path / "other-root"
    assert main(["datasets", "list", "--root", str(root)]) == 0
    assert "tiny" in capsys.readouterr().out
    assert main(["models", "--root", str(root), "--dataset", "tiny", "list"]) == 0
    # given after the subcommand, it wins over one given before
    assert main(["--root", str(other), "datasets", "--root", str(root)]) == 0
    assert "tiny" in capsys.readouterr().out and not other.exists()


def _train_fake(root, name, lr0="0.001"):
    args = ["--root", str(root), "train", "--dataset", "tiny", "--base-model", "yolo11n.yaml",
            "--epochs", "2", "--imgsz", "64", "--batch", "4", "--workers", "0", "--lr0", lr0,
            "--model-name", name]
    assert main(args) == 0


def test_models_manage_compare_show_download(root, capsys):
    _train_fake(root, "a")
    _train_fake(root, "b", lr0="0.01")
    base = ["--root", str(root), "models"]
    capsys.readouterr()
    assert main(base + ["rename", "a", "first", "--dataset", "tiny"]) == 0
    assert "Renamed a to first." in capsys.readouterr().out
    assert main(base + ["--dataset", "tiny", "notes", "first", "the baseline"]) == 0
    assert main(base + ["tag", "first", "baseline", "v1", "--dataset", "tiny"]) == 0
    assert "Tags of first: baseline, v1." in capsys.readouterr().out
    assert main(base + ["set-active", "b", "--dataset", "tiny"]) == 0
    assert main(base + ["rollback", "--dataset", "tiny"]) == 0
    out = capsys.readouterr().out
    assert "first is the active model of tiny again" in out
    active_lines = [line for line in out.splitlines() if line.lstrip().startswith("*")]
    assert [line.split()[1] for line in active_lines] == ["b", "first"]
    assert main(base + ["compare", "first", "b", "--dataset", "tiny"]) == 0
    out = capsys.readouterr().out
    lr_line = next(line for line in out.splitlines() if line.lstrip().startswith("lr0"))
    assert "0.001" in lr_line and "0.01" in lr_line and "≠" in lr_line
    assert "first final: P" in out
    assert main(base + ["show", "first", "--dataset", "tiny"]) == 0
    out = capsys.readouterr().out
    assert "Model first (active) of dataset tiny" in out and "the baseline" in out
    assert "History:" in out and "  lr0: 0.001" in out
    assert main(base + ["download", "b", "--dataset", "tiny"]) == 0
    assert capsys.readouterr().out.strip() == str(
        root / "models" / "tiny" / "models" / "b" / "weights" / "best.pt")
    assert main(base + ["download", "b", "--format", "onnx", "--dataset", "tiny"]) == 2
    assert "no onnx export" in capsys.readouterr().err
    assert main(base + ["compare", "first", "--dataset", "tiny"]) == 2
    assert "at least two" in capsys.readouterr().err
    assert main(base + ["predict", "first", "--dataset", "tiny"]) == 2
    assert "NAME IMAGE" in capsys.readouterr().err


def test_models_sort_and_promote_metric(root, capsys):
    from yolo_studio.persistence.model_store import ModelStore

    store, weights = ModelStore(root / "models"), root / "w.pt"
    weights.write_bytes(b"weights")
    for name, map50, map50_95 in (("wide", 0.6, 0.1), ("tight", 0.4, 0.3)):
        store.save("tiny", name, weights, {}, {}, {"best_map50": map50, "map50_95": map50_95,
                                                  "parameters": 2590425})
    base = ["--root", str(root), "models", "--dataset", "tiny"]

    def names(out: str) -> list[str]:
        return [line.split()[0] for line in out.splitlines()[1:3]]

    assert main(base + ["list", "--sort", "map50"]) == 0
    out = capsys.readouterr().out
    assert names(out) == ["wide", "tight"] and "2,590,425" in out
    assert out.rstrip().endswith("best by fitness: tight (0.3000)")
    assert main(base + ["--sort", "map50_95"]) == 0
    assert names(capsys.readouterr().out) == ["tight", "wide"]
    assert main(base + ["promote-metric", "map50"]) == 0
    assert "now compare map50" in capsys.readouterr().out
    assert main(base + ["promote-metric"]) == 0
    assert "of tiny compare map50." in capsys.readouterr().out
    assert main(base) == 0
    assert "best by mAP50: wide (0.6000)" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(base + ["promote-metric", "speed"])


@pytest.mark.slow
def test_models_predict_export_show_on_the_real_model(real_model, tmp_path, capsys):
    base = ["--root", str(real_model.root), "models", "--dataset", real_model.dataset]
    image = sorted((real_model.root / "datasets" / "tiny" / "images" / "val").iterdir())[0]
    out_image = tmp_path / "drawn.jpg"
    assert main(base + ["predict", "--active", str(image), "--conf", "0.001",
                        "--save", str(out_image)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("real: ") and "detection" in out and f"Saved {out_image}" in out
    from PIL import Image

    assert Image.open(out_image).size == Image.open(image).size
    assert main(base + ["predict", "real", str(image), "--conf", "2"]) == 2
    assert "between 0 and 1" in capsys.readouterr().err
    assert main(base + ["formats"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"openvino\s+OpenVINO\s+yes\s+imgsz, batch, dynamic, fp16, int8", out)
    assert re.search(r"engine\s+TensorRT\s+no: TensorRT needs a CUDA GPU", out)
    assert main(base + ["export", "real", "--format", "ncnn", "--dynamic"]) == 2
    assert "NCNN export does not take dynamic" in capsys.readouterr().err
    assert main(base + ["export", "real", "--format", "onnx", "--int8", "--max-drop",
                        "0.05"]) == 0  # a real INT8 export, calibrated and validated on val
    onnx = real_model.root / "models" / "tiny" / "models" / "real" / "weights" / "best.onnx"
    out = capsys.readouterr().out
    assert f"Exported to {onnx} (ONNX, int8, imgsz 64, batch 1," in out and onnx.is_file()
    assert "Validated on the val split (8 images, 167 boxes) on cpu" in out
    assert re.search(r"best.pt\s+0\.\d+", out) and re.search(r"difference\s+-?0\.\d+", out)
    assert re.search(r"mAP50-95 drop -?0\.\d{3}: within the maximum 0\.050\.", out)
    assert main(base + ["download", "real", "--format", "onnx"]) == 0
    assert capsys.readouterr().out.strip() == str(onnx)
    assert main(base + ["show", "real"]) == 0
    out = capsys.readouterr().out
    assert f"export onnx: {onnx}\n    ONNX (int8, imgsz 64): mAP50-95" in out
    assert "confusion_matrix.png" in out
    assert "Per class (best.pt on val):" in out and "Platelets" in out


def test_datasets_rename_and_delete_with_models_confirmed(root, capsys):
    base = ["--root", str(root)]
    assert main(base + ["train", "--dataset", "tiny", "--base-model", "yolo11n.yaml",
                        "--epochs", "1", "--imgsz", "64", "--batch", "4", "--workers", "0",
                        "--model-name", "m1"]) == 0
    capsys.readouterr()
    assert main(base + ["datasets", "rename", "tiny", "cells"]) == 0
    out = capsys.readouterr().out
    assert "Renamed dataset tiny to cells" in out and "cells" in out
    assert main(base + ["models", "--dataset", "cells"]) == 0
    assert " m1 " in capsys.readouterr().out + " "
    assert main(base + ["datasets", "delete", "cells"]) == 2
    assert "1 model(s): m1" in capsys.readouterr().err
    assert main(base + ["datasets", "delete", "cells", "--with-models"]) == 0
    assert "Deleted dataset cells and its models: m1." in capsys.readouterr().out
    assert not (root / "datasets" / "cells").exists() and not (root / "models" / "cells").exists()
    assert main(base + ["datasets", "rename", "bccd"]) == 2
    assert "datasets rename OLD NEW" in capsys.readouterr().err


def test_a_deleted_sample_dataset_does_not_come_back(root, capsys):
    base = ["--root", str(root)]
    assert main(base + ["datasets", "delete", "bccd"]) == 0
    capsys.readouterr()
    assert main(base + ["datasets"]) == 0
    assert "bccd" not in capsys.readouterr().out


def test_an_empty_model_name_is_generated(root, capsys):
    assert main(["--root", str(root), "train", "--dataset", "tiny", "--base-model",
                 "yolo11n.yaml", "--epochs", "1", "--imgsz", "64", "--batch", "4",
                 "--workers", "0", "--model-name", ""]) == 0
    out = capsys.readouterr().out
    assert "Registered model yolo11n-" in out
    assert "freeze_layers" not in out  # the user set none: no note about ignoring it


def test_set_active_on_a_model_that_finds_nothing_warns(root, capsys):
    from yolo_studio.persistence.model_store import ModelStore

    weights = root / "w.pt"
    weights.write_bytes(b"weights")
    ModelStore(root / "models").save("tiny", "zero", weights, {}, {"final": {}}, {
        "base_model": "yolo11n.yaml", "epochs_completed": 1, "best_map50": 0.0,
        "dataset_snapshot": "", "dataset_hash": ""})
    assert main(["--root", str(root), "models", "set-active", "zero", "--dataset", "tiny"]) == 0
    assert "warning: zero is active, but its best mAP50 on val is 0.000" in capsys.readouterr().out


def test_train_estimate_only_default_base_model_and_base_models(root, capsys, monkeypatch):
    from yolo_studio.training import base_models

    weights = root / "weights"
    monkeypatch.setattr(base_models, "weights_folders", lambda _root: (weights,))
    args = ["--root", str(root), "train", "--dataset", "tiny", "--epochs", "3", "--imgsz",
            "64", "--batch", "4"]
    assert main(args + ["--estimate-only"]) == 0  # no --base-model: no .pt here, a .yaml
    assert "Estimated duration: about 8 s on cpu" in capsys.readouterr().out
    weights.mkdir()
    (weights / "yolo11s.pt").write_bytes(b"PK\x03\x04")
    assert main(args + ["--estimate-only"]) == 0  # now the local .pt, as its path
    assert [call[0] for call in MEASURED] == ["yolo11n.yaml", str(weights / "yolo11s.pt")]
    assert not (root / "jobs" / "queue.json").exists(), "an estimate queues nothing"
    assert main(args + ["--estimate-only", "--no-estimate"]) == 2
    assert "contradict" in capsys.readouterr().err
    assert main(args[:-1] + ["-1", "--estimate-only"]) == 2
    assert "AutoBatch" in capsys.readouterr().err
    assert main(["--root", str(root), "base-models"]) == 0
    out = capsys.readouterr().out
    assert "yolo26n.pt" in out and "yolo11n.yaml" in out and "yolov8n-seg" not in out
    assert f"yolo11s.pt    YOLO11, pretrained weights (COCO) {weights / 'yolo11s.pt'}" in out


def test_train_prints_the_augmented_training_batches_once(tmp_path, capsys):
    from types import SimpleNamespace

    from yolo_studio.cli_train import _follow
    from yolo_studio.config import StudioSettings
    from yolo_studio.training.snapshot import EpochMetrics, JobState, TrainingSnapshot

    settings = StudioSettings(tmp_path)
    run = settings.run_dir("j1")
    run.mkdir(parents=True)
    (run / "train_batch0.jpg").write_bytes(b"jpg")
    epochs = [EpochMetrics(epoch=1), EpochMetrics(epoch=2)]
    snaps = iter([TrainingSnapshot(job_id="j1", state=JobState.TRAINING, epochs=2,
                                   history=tuple(epochs[:1]), version=1),
                  TrainingSnapshot(job_id="j1", state=JobState.TRAINING, epochs=2,
                                   history=tuple(epochs), version=2),
                  TrainingSnapshot(job_id="j1", state=JobState.COMPLETED, epochs=2,
                                   history=tuple(epochs), version=3)])
    manager = SimpleNamespace(settings=settings, snapshot=TrainingSnapshot,
                              wait_for_change=lambda *args, **kw: next(snaps))
    assert _follow(manager, "j1").version == 3
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["epoch 1/2", "Augmented training batches",
                                                      "epoch 2/2"]
    assert lines[1] == f"Augmented training batches: {run / 'train_batch0.jpg'}"
