"""Shared fixtures for the training tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from yolo_studio.config import StudioSettings
from yolo_studio.training.manager import TrainingManager
from yolo_studio.training.ultralytics_backend import UltralyticsBackend

from training_helpers import TINY, Factory, RecordingHooks


@pytest.fixture
def hooks() -> RecordingHooks:
    return RecordingHooks()


@pytest.fixture
def settings(tmp_path: Path) -> StudioSettings:
    """A storage root under tmp_path with a copy of bccd-tiny as dataset ``tiny``."""
    settings = StudioSettings(root=tmp_path / "root")
    shutil.copytree(TINY, settings.datasets_dir / "tiny")
    return settings


@pytest.fixture
def tiny_copy(tmp_path: Path) -> Path:
    """A private copy of tests/data/bccd-tiny (Ultralytics writes label caches into it)."""
    dst = tmp_path / "bccd-tiny"
    shutil.copytree(TINY, dst)
    return dst


@pytest.fixture
def make_manager(settings: StudioSettings):
    """``make(*behaviours, start=True, **options)``: a TrainingManager over ``settings`` (with
    ``options`` such as ``monitor`` or ``auto_promote``) whose backend is the real
    UltralyticsBackend over the fake Ultralytics (``Factory``); every manager made is closed
    after the test."""
    made: list[TrainingManager] = []

    def make(*behaviours: dict, start: bool = True, **options) -> TrainingManager:
        backend = UltralyticsBackend(model_factory=Factory(*behaviours))
        manager = TrainingManager(settings, backend=backend, **options)
        made.append(manager)
        if start:
            manager.start()
        return manager
    yield make
    for manager in made:
        manager.close()
