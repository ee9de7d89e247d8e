"""Fixtures for the persistence tests: a private copy of the tiny real dataset, dummy weights."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from dataset_files import TINY



def copy_tiny(dest: Path) -> Path:
    """Copy tests/data/bccd-tiny (28 real images, 3 classes) to ``dest``; return ``dest``."""
    shutil.copytree(TINY, dest, ignore=shutil.ignore_patterns("*.cache"))
    return dest


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A writable copy of bccd-tiny under tmp_path/src/bccd-tiny."""
    return copy_tiny(tmp_path / "src" / "bccd-tiny")


@pytest.fixture
def make_tiny():
    """``make_tiny(dest)`` copies bccd-tiny to ``dest`` and returns it."""
    return copy_tiny


@pytest.fixture
def weights(tmp_path: Path) -> Path:
    """A stand-in weights file (the store copies bytes; it never loads them)."""
    path = tmp_path / "run" / "best.pt"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"weights-" + bytes(range(256)) * 4)
    return path
