"""The Models tab's registry numbers, sort, promote metric and Evaluate sub-tab, through the
app's own event functions (a validation backend double stands in for Ultralytics)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import gradio as gr
import pytest
from dataset_files import TINY

from yolo_studio.config import StudioSettings, TrainingConfig
from yolo_studio.training.manager import TrainingManager
from yolo_studio.ui import formatting as fmt
from yolo_studio.ui.app import build_app

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "training"))
from training_helpers import FakeValBackend  # noqa: E402

DS = "tiny"


@pytest.fixture
def app(tmp_path: Path):
    settings = StudioSettings(tmp_path)
    shutil.copytree(TINY, settings.datasets_dir / DS)
    manager = TrainingManager(settings, backend=FakeValBackend())
    for name, map50, map50_95 in (("wide", 0.6, 0.1), ("tight", 0.4, 0.3)):
        weights = tmp_path / f"{name}.pt"
        weights.write_bytes(b"weights")
        manager.models.save(DS, name, weights, TrainingConfig(dataset=DS, imgsz=64).to_dict(),
                            {"final": None}, {"best_map50": map50, "map50_95": map50_95,
                                              "precision": 0.5, "recall": 0.5})
    manager.registry.set_active(DS, "wide")
    demo = build_app(manager, None)
    return manager, demo, {fn.api_name: fn.fn for fn in demo.fns.values()
                           if fn.api_visibility == "public"}


def test_new_endpoints_and_old_clients_of_changed_ones(app) -> None:
    _, demo, fns = app
    assert {"evaluate_model", "model_evaluations", "set_promote_metric"} <= set(fns)
    endpoints = demo.get_api_info()["named_endpoints"]
    for api, required in (("/list_models", 2), ("/set_active_model", 2), ("/rollback_active", 1),
                          ("/delete_model", 3), ("/rename_model", 3),
                          ("/set_promote_metric", 2)):
        params = endpoints[api]["parameters"]
        # a client that sends only the inputs these endpoints had before still works
        assert [p["parameter_has_default"] for p in params[required:]] == \
            [True] * (len(params) - required), api
    sort = endpoints["/list_models"]["parameters"][2]
    assert sort["parameter_default"] == "created"


def test_table_sorts_and_promote_metric_names_the_best(app) -> None:
    manager, _, fns = app
    table, _, summary = fns["list_models"](DS, None)
    assert fmt.MODEL_COLUMNS[5:12] == ["mAP50", "mAP50-95", "precision", "recall", "fitness",
                                       "parameters", "inference ms"]
    assert "best by fitness: **tight** (0.300)" in summary
    assert [row[1] for row in fns["list_models"](DS, None, "map50")[0]] == ["wide", "tight"]
    assert [row[1] for row in fns["list_models"](DS, None, "map50_95")[0]] == ["tight", "wide"]
    rows, _, summary = fns["set_promote_metric"](DS, "map50", None, "fitness")
    assert "best by mAP50: **wide** (0.600)" in summary and rows[0][1] == "tight"
    assert manager.models.promote_metric(DS) == "map50"
    summary = fns["model_details"](DS, "tight")[0]  # Inspect shows them too
    assert "mAP50-95 0.300 · precision 0.500 · recall 0.500 · fitness 0.300" in summary
    with pytest.raises(gr.Error, match="Cannot sort models by 'speed'"):
        fns["list_models"](DS, None, "speed")


def test_evaluate_keeps_and_lists_the_result_and_refuses_clearly(app) -> None:
    manager, _, fns = app
    markdown, per_class, kept = fns["evaluate_model"](DS, "tight", "val", None, 0, "")
    assert "**tight** on **tiny** val (8 images, 9 instances, imgsz 64, cpu" in markdown
    assert "mAP50-95 0.200" in markdown and per_class[0][:3] == ["RBC", "—", 9]
    assert len(kept) == 1 and kept[0][1:5] == [DS, "val", 8, "64"]
    assert manager.registry.backend.calls[-1][:3] == ("val", 64, None)
    assert fns["model_evaluations"](DS, "tight")[2] == kept
    assert fns["list_models"](DS, None)[0][0][10:12] == ["1 k", "3.5"]  # filled in
    with pytest.raises(gr.Error, match="Dataset 'tiny' has no test images"):
        fns["evaluate_model"](DS, "tight", "test", None, 0, "")
    with pytest.raises(gr.Error, match="Choose a model first"):
        fns["evaluate_model"](DS, None, "val", None, 0, "")
    assert len(fns["model_evaluations"](DS, "tight")[2]) == 1
