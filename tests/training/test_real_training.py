"""Real Ultralytics on the CPU: one short training through TrainingManager, the offline error."""

from __future__ import annotations

import shutil
import time

import pytest
from training_helpers import TINY

from yolo_studio.config import StudioSettings, TrainingConfig
from yolo_studio.errors import TrainingError
from yolo_studio.training.manager import TrainingManager
from yolo_studio.training.results import parse_results_csv
from yolo_studio.training.snapshot import JobState
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


@pytest.mark.slow
def test_real_cpu_training_registers_a_model(settings):
    manager = TrainingManager(settings)
    manager.start()
    try:
        config = TrainingConfig(dataset="tiny", base_model="yolo11n.yaml", epochs=2, imgsz=64,
                                batch=8, workers=0, device="cpu", model_name="real")
        job_id = manager.start_training(config)
        snap = manager.wait_for_job(job_id)
    finally:
        manager.close()
    assert snap.state == JobState.COMPLETED, snap.error
    assert [m.epoch for m in snap.history] == [1, 2] and snap.final is not None
    assert snap.history[0].train_box_loss is not None and snap.history[1].lr is not None
    [record] = manager.models.list("tiny")
    assert record.name == "real" and record.active and record.weights_path.is_file()
    assert record.epochs_completed == 2
    metrics = manager.models.load_metrics("tiny", "real")
    assert len(metrics["history"]) == 2 and metrics["batch_used"] == 8
    parsed = parse_results_csv(settings.jobs_dir / "runs" / job_id / "results.csv")
    assert [m.epoch for m in parsed] == [1, 2]
    for live, csv in zip(snap.history, parsed):
        assert csv.map50 == pytest.approx(live.map50, abs=1e-5)
        assert csv.train_box_loss == pytest.approx(live.train_box_loss, rel=1e-4)
        assert csv.val_cls_loss == pytest.approx(live.val_cls_loss, rel=1e-4)
