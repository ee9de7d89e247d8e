"""The headless CLI: train (over the fake Ultralytics), models, datasets, errors."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from yolo_studio.cli import main
from yolo_studio.training import ultralytics_backend

TESTS = Path(__file__).resolve().parent
TINY = TESTS / "data" / "bccd-tiny"
sys.path.insert(0, str(TESTS / "training"))
from fake_ultralytics import factory  # noqa: E402


@pytest.fixture
def root(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "root"
    shutil.copytree(TINY, root / "datasets" / "tiny")
    original = ultralytics_backend.UltralyticsBackend.__init__

    def fake_init(self, model_factory=None):
        original(self, model_factory=model_factory or factory())

    monkeypatch.setattr(ultralytics_backend.UltralyticsBackend, "__init__", fake_init)
    return root


def test_train_then_models_list_set_active_delete(root, capsys):
    args = ["--root", str(root), "train", "--dataset", "tiny", "--base-model", "yolo11n.yaml",
            "--epochs", "3", "--imgsz", "64", "--batch", "4", "--workers", "0"]
    assert main(args + ["--model-name", "demo"]) == 0
    out = capsys.readouterr().out
    assert "epoch 1/3" in out and "epoch 3/3" in out and out.count("epoch 2/3:") == 1
    assert "Final (best.pt on val)" in out and "mAP50 0.3" in out
    assert str(root / "models" / "tiny" / "models" / "demo") in out
    assert main(args + ["--model-name", "demo2"]) == 0
    capsys.readouterr()
    assert main(["--root", str(root), "models", "--dataset", "tiny"]) == 0
    table = capsys.readouterr().out
    assert "demo2" in table and "best_mAP50" in table and "28 images, 3 classes" in table
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


def test_datasets_list_and_import(root, tmp_path, capsys):
    assert main(["--root", str(root), "datasets"]) == 0
    out = capsys.readouterr().out
    assert "tiny" in out and "bccd" in out  # the built-in sample was copied in
    assert main(["--root", str(root), "datasets", "import", str(TINY), "--name", "again"]) == 0
    assert "Imported again: 28 images, 3 classes" in capsys.readouterr().out
    assert main(["--root", str(root), "datasets", "import"]) == 2
