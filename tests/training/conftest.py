"""Shared fixtures for the training tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

TINY = Path(__file__).resolve().parents[1] / "data" / "bccd-tiny"


class RecordingHooks:
    """TrainHooks that records every call; ``stop_when(fn)`` decides should_stop."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.epochs: list = []
        self.finals: list = []
        self.lines: list[str] = []
        self.stop = False

    def on_start(self, **kw):
        self.calls.append(("start", kw))

    def on_epoch_start(self, epoch):
        self.calls.append(("epoch_start", epoch))

    def on_batch_end(self, epoch, batch_i, batches, batch_size):
        self.calls.append(("batch", epoch, batch_i, batches, batch_size))

    def on_epoch_end(self, metrics):
        self.epochs.append(metrics)
        self.calls.append(("epoch_end", metrics.epoch))

    def on_final(self, metrics):
        self.finals.append(metrics)
        self.calls.append(("final", metrics.epoch))

    def log(self, line):
        self.lines.append(line)

    def should_stop(self):
        return self.stop


@pytest.fixture
def hooks() -> RecordingHooks:
    return RecordingHooks()


@pytest.fixture
def tiny_copy(tmp_path: Path) -> Path:
    """A private copy of tests/data/bccd-tiny (Ultralytics writes label caches into it)."""
    dst = tmp_path / "bccd-tiny"
    shutil.copytree(TINY, dst)
    return dst


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: real Ultralytics training on the CPU (runs by default)")
