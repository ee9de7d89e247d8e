"""Base models: the list read from the installed Ultralytics, the local-weights mark, the default
and the offline rule at Start (real files in temporary weights folders; never a download)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from training_helpers import TINY

from yolo_studio.config import StudioSettings, TrainingConfig
from yolo_studio.errors import TrainingError
from yolo_studio.training import base_models
from yolo_studio.training.manager import TrainingManager
from yolo_studio.ui.weights_files import DOWNLOAD_SUFFIX, LOCAL_SUFFIX, base_model_choices

TASK_SUFFIXES = ("-seg", "-pose", "-cls", "-obb", "-world", "-oiv7", "-sem", "-depth",
                 "-distill", "-objv1", "yoloe", "rtdetr", "yolo_nas", "sam", "grayscale")


def test_every_detection_model_ultralytics_ships_is_listed_and_nothing_else() -> None:
    from ultralytics.nn.tasks import guess_model_scale, yaml_model_load
    from ultralytics.utils.downloads import GITHUB_ASSETS_NAMES

    names = [model.name for model in base_models.shipped_models()]
    assert len(names) == len(set(names))
    for family, scales in (("yolo26", "nsmlx"), ("yolo12", "nsmlx"), ("yolo11", "nsmlx"),
                           ("yolov10", "nsmblx"), ("yolov9", "tsmce"), ("yolov8", "nsmlx")):
        for scale in scales:
            assert {f"{family}{scale}.pt", f"{family}{scale}.yaml"} <= set(names), family
    assert {"yolov5nu.pt", "yolov5n6u.pt", "yolov5n-p6.yaml", "yolov3u.pt",
            "yolov3-tinyu.pt", "yolov6n.yaml", "yolov8n-p2.yaml"} <= set(names)
    assert not [n for n in names if any(s in n for s in TASK_SUFFIXES)]
    for model in base_models.shipped_models():
        if model.pretrained:
            assert model.name in GITHUB_ASSETS_NAMES
            assert f"{model.arch}.yaml" in names, "each .pt beside its config"
            continue
        config = yaml_model_load(model.name)  # Ultralytics reads every listed config ...
        assert config["head"][-1][2] in ("Detect", "v10Detect"), model.name  # ... a detector
        scale = model.arch.removeprefix(model.family.lower())[:1]
        if scale in "nslmx" and config.get("scales"):
            assert guess_model_scale(model.name) == scale  # at the scale its name says
    assert names.index("yolo26n.pt") < names.index("yolo11n.pt") < names.index("yolov8n.pt")
    assert names[:4] == ["yolo26n.pt", "yolo26n.yaml", "yolo26s.pt", "yolo26s.yaml"]


def test_a_process_without_ultralytics_reads_the_list_in_a_subprocess(monkeypatch) -> None:
    """A server has not imported Ultralytics when its first page loads: the list then comes
    from ``python -m yolo_studio.training.base_models``, the same as read here."""
    here = json.loads(json.dumps(base_models._read_here()))
    monkeypatch.delitem(sys.modules, "ultralytics")
    monkeypatch.setattr(base_models, "_read_here", lambda: pytest.fail("read in this process"))
    assert base_models._read_once.__wrapped__() == here


def _folders(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(working folder, Ultralytics' weights folder, root) stand-ins, all empty."""
    folders = (tmp_path / "cwd", tmp_path / "ultralytics-weights", tmp_path / "root")
    for folder in folders:
        folder.mkdir()
    return folders


def _weights_file(trained: Path, target: Path) -> Path:
    """A real weights file (the session's trained best.pt) under the name ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copyfile(trained, target))


@pytest.fixture(scope="module")
def best_pt(trained_model_root) -> Path:
    return next((trained_model_root.root / "models").rglob("best.pt"))


def test_weights_on_this_machine_are_marked_and_make_the_default(tmp_path, best_pt) -> None:
    here, ultra, root = _folders(tmp_path)
    folders = (here, ultra, base_models.studio_weights_dir(root))
    assert not [e for e in base_models.base_model_list(root, folders) if e.local]
    assert base_models.default_base_model(root, folders) == "yolo11n.yaml"
    small = _weights_file(best_pt, ultra / "yolo11s.pt")
    nano = _weights_file(best_pt, root / "weights" / "yolo11n.pt")
    local = {e.name: e.local for e in base_models.base_model_list(root, folders) if e.local}
    assert local == {"yolo11s.pt": small, "yolo11n.pt": nano}
    labels = dict((value, label) for label, value in base_model_choices(root, folders))
    assert labels["yolo11n.pt"] == "yolo11n.pt" + LOCAL_SUFFIX
    assert labels["yolo11s.pt"] == "yolo11s.pt" + LOCAL_SUFFIX
    assert labels["yolo11m.pt"] == "yolo11m.pt" + DOWNLOAD_SUFFIX
    assert labels["yolo11n.yaml"] == "yolo11n.yaml"
    assert str(nano.resolve()) not in labels, "a shipped name is listed once, not as an upload"
    assert base_models.default_base_model(root, folders) == "yolo11n.pt"  # the smallest
    _weights_file(best_pt, here / "yolo26n.pt")
    assert base_models.default_base_model(root, folders) == "yolo26n.pt"  # newest among n
    rows = {row["base model"]: row for row in base_models.listing_rows(root, folders)}
    assert rows["yolo11s.pt"]["weights"] == str(small)
    assert rows["yolo11m.pt"]["weights"] == "download (needs internet)"


@pytest.fixture
def offline(tmp_path, monkeypatch) -> StudioSettings:
    """A root with the tiny dataset, an empty Ultralytics weights folder, no internet."""
    from ultralytics import utils

    monkeypatch.setenv("YOLO_OFFLINE", "1")
    monkeypatch.setattr(utils, "is_online", lambda: False)
    monkeypatch.setitem(utils.SETTINGS, "weights_dir", str(tmp_path / "ultralytics-weights"))
    monkeypatch.chdir(tmp_path)
    settings = StudioSettings(root=tmp_path / "root")
    shutil.copytree(TINY, settings.datasets_dir / "tiny")
    return settings


def test_offline_a_pt_is_trained_only_from_a_local_file(offline, tmp_path, best_pt) -> None:
    manager = TrainingManager(offline)  # the real check; nothing trains (not started)
    config = TrainingConfig(dataset="tiny", base_model="yolo11n.pt", epochs=1, imgsz=64)
    try:
        with pytest.raises(TrainingError) as refused:
            manager.start_training(config)
        message = str(refused.value)
        assert "Pick 'yolo11n.yaml'" in message and "weights folder" in message
        assert str(tmp_path / "ultralytics-weights") in message
        assert manager.jobs() == []
        with pytest.raises(TrainingError, match="not a detection model Ultralytics ships"):
            manager.start_training(TrainingConfig(dataset="tiny", base_model="yolov8n-seg.pt"))
        studio_copy = _weights_file(best_pt, offline.root / "weights" / "yolo11n.pt")
        manager.start_training(config)  # in <root>/weights: queued as the file's path
        _weights_file(best_pt, tmp_path / "ultralytics-weights" / "yolo11s.pt")
        manager.start_training(TrainingConfig(dataset="tiny", base_model="yolo11s.pt"))
        queued = [job.config["base_model"] for job in manager.jobs()]
        assert queued == [str(studio_copy.resolve()), "yolo11s.pt"]  # Ultralytics finds it
    finally:
        manager.close()
