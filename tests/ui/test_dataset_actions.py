"""The Train tab's rename / delete of a dataset (ui.dataset_actions) over a real manager."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from dataset_files import TINY

from yolo_studio.config import StudioSettings, TrainingConfig
from yolo_studio.errors import RegistryError, ValidationError
from yolo_studio.training.manager import TrainingManager
from yolo_studio.ui import dataset_actions
from yolo_studio.ui.app import build_app


@pytest.fixture
def manager(tmp_path: Path) -> TrainingManager:
    settings = StudioSettings(tmp_path / "root")
    shutil.copytree(TINY, settings.datasets_dir / "tiny")
    weights = tmp_path / "w.pt"
    weights.write_bytes(b"weights")
    manager = TrainingManager(settings)
    for name in ("m_1", "m2"):
        manager.models.save("tiny", name, weights, TrainingConfig(dataset="tiny").to_dict(),
                            {"final": {}}, {"base_model": "yolo11n.yaml", "epochs_completed": 1,
                                            "best_map50": 0.1, "dataset_snapshot": "",
                                            "dataset_hash": ""})
    return manager


def test_delete_names_the_models_and_needs_the_tick(manager) -> None:
    note = dataset_actions.delete_note(manager, "tiny")
    assert "2 model(s): m\\_1, m2" in note
    with pytest.raises(RegistryError, match="m_1, m2"):
        dataset_actions.delete(manager, "tiny", False)
    assert dataset_actions.delete(manager, "tiny", True) == ["m_1", "m2"]
    assert manager.datasets.list() == [] and manager.models.datasets() == []
    assert dataset_actions.delete_note(manager, "tiny") == ""


def test_rename_keeps_the_models_and_is_refused_while_a_job_waits(manager) -> None:
    assert dataset_actions.rename(manager, "tiny", " cells ") == "cells"
    assert [r.name for r in manager.models.list("cells")] == ["m_1", "m2"]
    manager.queue.add(TrainingConfig(dataset="cells", base_model="yolo11n.yaml").to_dict(), "x")
    with pytest.raises(ValidationError, match="QUEUED"):
        dataset_actions.rename(manager, "cells", "other")
    with pytest.raises(ValidationError, match="Choose a dataset"):
        dataset_actions.delete(manager, None, True)


def test_the_api_names_are_stable(manager) -> None:
    apis = {fn.api_name for fn in build_app(manager, None).fns.values()}
    assert {"rename_dataset", "delete_dataset"} <= apis
