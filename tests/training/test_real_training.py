"""Real Ultralytics on the CPU: an offline .pt base model is refused within seconds.

The real training itself is the session's shared one (tests/conftest.py); its results are
checked in test_registry_real.py."""

from __future__ import annotations

import shutil
import time

import pytest
from training_helpers import TINY

from yolo_studio.config import StudioSettings, TrainingConfig
from yolo_studio.errors import TrainingError
from yolo_studio.training.manager import TrainingManager
from yolo_studio.training.ultralytics_backend import UltralyticsBackend


@pytest.fixture
def settings(tmp_path, monkeypatch) -> StudioSettings:
    monkeypatch.setenv("YOLO_OFFLINE", "1")  # never download, even on a connected machine
    settings = StudioSettings(root=tmp_path / "root")
    shutil.copytree(TINY, settings.datasets_dir / "tiny")
    return settings


def test_offline_pt_base_model_is_refused_within_seconds(settings):
    manager = TrainingManager(settings)
    config = TrainingConfig(dataset="tiny", base_model="yolo11n.pt", epochs=1, imgsz=64)
    t0 = time.monotonic()
    with pytest.raises(TrainingError) as info:
        manager.start_training(config)
    message = str(info.value)
    assert "yolo11n.pt" in message and "yolo11n.yaml" in message and "local" in message
    assert manager.jobs() == []  # nothing queued
    with pytest.raises(TrainingError, match="yolo11n.pt.*yolo11n.yaml"):
        UltralyticsBackend()._load_model("yolo11n.pt")  # the download path itself
    assert time.monotonic() - t0 < 60
