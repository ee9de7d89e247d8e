"""Renaming and deleting datasets with their models (persistence.dataset_changes and
training.dataset_ops.DatasetService)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from yolo_studio.errors import DatasetError, NotFoundError, RegistryError, ValidationError
from yolo_studio.persistence.dataset_store import DatasetStore
from yolo_studio.persistence.model_store import ModelStore
from yolo_studio.training.dataset_ops import DatasetService
from yolo_studio.training.snapshot import JobState

INFO = {"base_model": "yolo11n.yaml", "epochs_completed": 1, "best_map50": 0.5,
        "dataset_snapshot": "28 images, 3 classes", "dataset_hash": "h"}


@pytest.fixture
def stores(tmp_path: Path, tiny: Path, weights: Path):
    datasets = DatasetStore(tmp_path / "datasets")
    models = ModelStore(tmp_path / "models")
    datasets.import_folder(tiny, "tiny")
    datasets.import_folder(tiny, "other")
    models.save("tiny", "m1", weights, {"dataset": "tiny"}, {"final": {}}, INFO)
    models.save("tiny", "m2", weights, {"dataset": "tiny"}, {"final": {}}, INFO)
    models.set_active("tiny", "m2")
    return datasets, models


def _job(dataset: str, state: JobState) -> SimpleNamespace:
    return SimpleNamespace(job_id="j1", dataset=dataset, state=state)


def test_rename_moves_the_dataset_and_its_models(stores):
    datasets, models = stores
    service = DatasetService(datasets, models, lambda: [_job("tiny", JobState.COMPLETED)])
    info = service.rename("tiny", "cells")
    assert info.name == "cells" and datasets.list() == ["cells", "other"]
    assert [r.name for r in models.list("cells")] == ["m1", "m2"]
    assert models.get_active("cells").name == "m2"
    assert models.get("cells", "m1").weights_path.is_file()
    assert models.list("tiny") == [] and models.datasets() == ["cells"]
    with pytest.raises(NotFoundError):
        datasets.get("tiny")


def test_rename_refuses_a_taken_name_and_changes_nothing(stores):
    datasets, models = stores
    with pytest.raises(DatasetError, match="already exists"):
        DatasetService(datasets, models, list).rename("tiny", "other")
    assert datasets.list() == ["other", "tiny"] and len(models.list("tiny")) == 2


def test_delete_with_models_needs_confirmation_naming_them(stores):
    datasets, models = stores
    service = DatasetService(datasets, models, list)
    with pytest.raises(RegistryError, match="2 model.*m1, m2"):
        service.delete("tiny")
    assert "tiny" in datasets.list() and len(models.list("tiny")) == 2
    assert service.delete("tiny", delete_models=True) == ["m1", "m2"]
    assert datasets.list() == ["other"] and models.datasets() == []
    assert not any(p.name.startswith(".deleted") for p in datasets.datasets_dir.iterdir())
    assert service.delete("other") == []
    with pytest.raises(NotFoundError):
        service.delete("other")


@pytest.mark.parametrize("state", [JobState.QUEUED, JobState.TRAINING])
def test_refused_while_a_job_of_the_dataset_is_queued_or_training(stores, state):
    datasets, models = stores
    service = DatasetService(datasets, models, lambda: [_job("tiny", state)])
    with pytest.raises(ValidationError, match=f"j1 \\({state.value}\\)"):
        service.delete("tiny", delete_models=True)
    with pytest.raises(ValidationError, match="cannot be renamed"):
        service.rename("tiny", "cells")
    assert service.delete("other") == []  # other datasets are free
    assert "tiny" in datasets.list()


def test_a_failed_model_move_puts_the_dataset_back(stores, monkeypatch):
    datasets, models = stores
    from yolo_studio.persistence import dataset_changes

    real = dataset_changes._move

    def failing(src, dst, what):
        if src.parent == models.models_dir:
            raise DatasetError("disk said no")
        return real(src, dst, what)

    monkeypatch.setattr(dataset_changes, "_move", failing)
    with pytest.raises(DatasetError, match="disk said no"):
        DatasetService(datasets, models, list).rename("tiny", "cells")
    assert datasets.list() == ["other", "tiny"] and len(models.list("tiny")) == 2
    with pytest.raises(DatasetError):
        DatasetService(datasets, models, list).delete("tiny", delete_models=True)
    assert datasets.list() == ["other", "tiny"] and len(models.list("tiny")) == 2
