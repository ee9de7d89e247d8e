"""Fixtures shared by every test folder: one real model trained once per test session.

``trained_model_root`` trains ``yolo11n.yaml`` for 2 epochs at imgsz 64 on a copy of
tests/data/bccd-tiny through the real ``TrainingManager`` (so it is registered exactly as the
app registers models: weights, config, metrics with per-class rows, plots, results.csv).
``real_model`` gives each test a private copy of that storage root to change freely.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from dataset_files import TINY

REAL_DATASET = "tiny"
REAL_MODEL = "real"


@dataclass(frozen=True)
class TrainedModel:
    """A storage root holding dataset ``dataset`` with one registered, active model ``name``."""

    root: Path
    dataset: str = REAL_DATASET
    name: str = REAL_MODEL

    def settings(self):
        from yolo_studio.config import StudioSettings

        return StudioSettings(root=self.root)


def _train(root: Path) -> None:
    from yolo_studio.config import StudioSettings, TrainingConfig
    from yolo_studio.training.manager import TrainingManager
    from yolo_studio.training.snapshot import JobState

    settings = StudioSettings(root=root)
    shutil.copytree(TINY, settings.datasets_dir / REAL_DATASET)
    manager = TrainingManager(settings)
    manager.start()
    try:
        config = TrainingConfig(dataset=REAL_DATASET, base_model="yolo11n.yaml", epochs=2,
                                imgsz=64, batch=8, workers=0, device="cpu",
                                model_name=REAL_MODEL)
        snap = manager.wait_for_job(manager.start_training(config))
    finally:
        manager.close()
    if snap.state != JobState.COMPLETED:
        pytest.fail(f"the shared real training ended {snap.state.value}: {snap.error}")


@pytest.fixture(scope="session")
def trained_model_root(tmp_path_factory: pytest.TempPathFactory) -> TrainedModel:
    """Train the shared real model once per session (~20 s on 2 CPU cores); read-only use."""
    root = tmp_path_factory.mktemp("trained") / "root"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("YOLO_OFFLINE", "1")  # never download, even on a connected machine
        _train(root)
    return TrainedModel(root=root)


@pytest.fixture
def real_model(trained_model_root: TrainedModel, tmp_path: Path) -> TrainedModel:
    """A private copy (datasets and models, not the run folders) of the shared trained root."""
    root = tmp_path / "root"
    for part in ("datasets", "models"):
        shutil.copytree(trained_model_root.root / part, root / part)
    return TrainedModel(root=root)
