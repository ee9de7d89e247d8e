"""Out of memory in the first epoch with the real Ultralytics trainer (CPU, imgsz 64).

The model's forward raises torch's out-of-memory RuntimeError for batches over 4 images, so
``trainer._do_train`` (8.4) runs its real recovery: halve ``args.batch``, rebuild the loader and
restart the epoch (up to 3 times). The studio must chart each epoch once and record the batch
really used (metrics.json and the job record).
"""

from __future__ import annotations

import shutil

import pytest
from training_helpers import TINY

from yolo_studio.config import StudioSettings, TrainingConfig
from yolo_studio.training.manager import TrainingManager
from yolo_studio.training.snapshot import JobState
from yolo_studio.training.ultralytics_backend import UltralyticsBackend

MAX_FITTING = 4  # images per batch that "fit in memory"


def _yolo_running_out_of_memory(model: str):
    from ultralytics import YOLO

    yolo = YOLO(model)

    def limit_memory(trainer) -> None:
        forward = trainer.model.forward

        def guarded(x, *args, **kwargs):
            if isinstance(x, dict) and x["img"].shape[0] > MAX_FITTING:  # a training batch
                raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB (test)")
            return forward(x, *args, **kwargs)
        trainer.model.forward = guarded

    yolo.add_callback("on_train_start", limit_memory)
    return yolo


@pytest.mark.slow
def test_real_out_of_memory_halving_is_followed_and_recorded(tmp_path, monkeypatch):
    monkeypatch.setenv("YOLO_OFFLINE", "1")
    settings = StudioSettings(root=tmp_path / "root")
    shutil.copytree(TINY, settings.datasets_dir / "tiny")
    backend = UltralyticsBackend(model_factory=_yolo_running_out_of_memory)
    manager = TrainingManager(settings, backend=backend)
    manager.start()
    try:
        job_id = manager.start_training(TrainingConfig(
            dataset="tiny", base_model="yolo11n.yaml", epochs=2, imgsz=64, batch=16, workers=0,
            device="cpu", model_name="halved"))
        snap = manager.wait_for_job(job_id, timeout_s=600)
    finally:
        manager.close()
    assert snap.state == JobState.COMPLETED, snap.error
    assert [m.epoch for m in snap.history] == [1, 2]
    assert snap.batches == 5  # 20 train images in batches of 4
    log = "\n".join(snap.log)
    assert "Reducing to batch=8" in log and "Reducing to batch=4" in log  # Ultralytics' warning
    assert "Batch size really used: 4 (configured 16)" in log
    assert manager.models.load_metrics("tiny", "halved")["batch_used"] == 4
    assert manager.queue.get(job_id).batch_used == 4
