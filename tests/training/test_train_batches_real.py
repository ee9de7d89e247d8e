"""Ultralytics' mosaics of augmented training batches on a real CPU training: in the run folder
(where the Monitor's preview looks) by the end of the first epoch, and kept with the registered
model (the session's shared real model, tests/conftest.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from training_helpers import TINY, RecordingHooks

from yolo_studio.config import TrainingConfig
from yolo_studio.persistence.dataset_store import DatasetStore
from yolo_studio.persistence.model_artifacts import PLOT_FILES, train_batch_images
from yolo_studio.persistence.model_store import ModelStore
from yolo_studio.training.model_details import model_details
from yolo_studio.training.ultralytics_backend import UltralyticsBackend

pytestmark = pytest.mark.slow
MOSAICS = ["train_batch0.jpg", "train_batch1.jpg", "train_batch2.jpg"]


def test_mosaics_are_in_the_run_folder_by_the_end_of_the_first_epoch(tmp_path, monkeypatch):
    monkeypatch.setenv("YOLO_OFFLINE", "1")
    shutil.copytree(TINY, tmp_path / "datasets" / "tiny")
    store = DatasetStore(tmp_path / "datasets")
    data_yaml = store.get_data_yaml_path("tiny", store.get("tiny"))
    run_dir = tmp_path / "runs" / "job"

    class FirstEpoch(RecordingHooks):
        seen: list[str] | None = None

        def on_epoch_end(self, metrics):
            super().on_epoch_end(metrics)
            self.seen = [path.name for path in train_batch_images(run_dir)]
            self.abort = True  # the first epoch is all this test needs

    hooks = FirstEpoch()
    config = TrainingConfig(dataset="tiny", base_model="yolo11n.yaml", epochs=2, batch=8,
                            imgsz=64, workers=0, device="cpu")
    UltralyticsBackend().train(config, Path(data_yaml), run_dir, hooks)
    assert [m.epoch for m in hooks.epochs] == [1]
    assert hooks.seen and "train_batch0.jpg" in hooks.seen and set(hooks.seen) <= set(MOSAICS)


def test_mosaics_are_kept_with_the_registered_model(trained_model_root):
    settings = trained_model_root.settings()
    models = ModelStore(settings.models_dir)
    record = models.get(trained_model_root.dataset, trained_model_root.name)
    run_dir = Path(models.load_metrics(record.dataset, record.name)["run_dir"])
    ran = train_batch_images(run_dir)
    assert [path.name for path in ran] == MOSAICS  # 20 train images, batch 8: 3 batches
    kept = train_batch_images(record.folder / "plots")
    assert [path.name for path in kept] == MOSAICS
    assert [path.read_bytes() for path in kept] == [path.read_bytes() for path in ran]
    plots = [p.name for p in model_details(models, None, record.dataset, record.name).plots]
    validation = [name for name in plots if name in PLOT_FILES]
    assert validation and plots[:len(validation) + 3] == validation + MOSAICS
