"""Shared fixtures for the training tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from yolo_studio.config import StudioSettings

from training_helpers import TINY, RecordingHooks


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
