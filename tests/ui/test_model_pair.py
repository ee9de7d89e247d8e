"""The Models tab's model dropdown can briefly hold a model of the dataset shown before (two
events that refresh the list race, e.g. a finished job of another dataset and the page's own
refresh): its change handlers must not turn that pair into an error toast."""

from __future__ import annotations

import shutil
from pathlib import Path

import gradio as gr
import pytest
from dataset_files import TINY

from yolo_studio.config import StudioSettings, TrainingConfig
from yolo_studio.training.manager import TrainingManager
from yolo_studio.ui.app import build_app


@pytest.fixture
def manager(tmp_path: Path) -> TrainingManager:
    settings = StudioSettings(tmp_path / "root")
    for name in ("old", "imported"):
        shutil.copytree(TINY, settings.datasets_dir / name)
    manager = TrainingManager(settings)
    weights = tmp_path / "w.pt"
    weights.write_bytes(b"not-a-real-model")
    manager.models.save("old", "x", weights, TrainingConfig(dataset="old").to_dict(),
                        {"final": {"epoch": 1, "map50": 0.5}, "history": []},
                        {"base_model": "yolo11n.yaml", "epochs_completed": 1,
                         "best_map50": 0.5, "dataset_snapshot": "28 images, 3 classes"})
    return manager


def _model_change_handlers(demo: gr.Blocks) -> list:
    [model] = [b for b in demo.blocks.values() if getattr(b, "elem_id", "") == "model-dd"]
    return [fn for fn in demo.fns.values() if (model._id, "change") in fn.targets]


def test_a_model_of_another_dataset_shows_no_error(manager: TrainingManager) -> None:
    demo = build_app(manager, None)
    handlers = _model_change_handlers(demo)
    assert handlers
    for fn in handlers:
        names = [getattr(block, "elem_id", None) for block in fn.inputs]
        assert names == ["models-dataset-dd", "model-dd"], fn.name
        fn.fn("imported", "x")  # the stale pair: no gr.Error
        fn.fn("old", "x")


def test_the_model_details_api_still_names_an_unknown_model(manager: TrainingManager) -> None:
    [api] = [fn for fn in build_app(manager, None).fns.values()
             if fn.api_name == "model_details" and fn.api_visibility == "public"]
    with pytest.raises(gr.Error, match="No model 'x' is registered for dataset 'imported'"):
        api.fn("imported", "x")
