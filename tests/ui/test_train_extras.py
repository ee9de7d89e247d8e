"""The Train tab's base-model list and duration estimate, and the Monitor's augmentation
preview, through the built app's handlers (the measurement is a fixed one here:
tests/training/test_estimate.py measures for real)."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pytest
from dataset_files import TINY

from yolo_studio.config import StudioSettings
from yolo_studio.errors import NotFoundError
from yolo_studio.training import base_models, estimate
from yolo_studio.training.batch_timing import BatchTiming
from yolo_studio.training.manager import TrainingManager
from yolo_studio.training.snapshot import JobState, TrainingSnapshot
from yolo_studio.ui import batch_preview, weights_panel
from yolo_studio.ui.app import build_app
from yolo_studio.ui.hosting import ServerAccess, plan, server_access
from yolo_studio.ui.model_inspect import plot_caption

LOCAL = server_access(plan(None, 7860, False, None, {}))
FORM = ["bccd-tiny", "yolo11n.yaml", 3, 8, 64, 5, 0, 0.001, 0.01, "", 0.8, "AdamW", 0, "cpu",
        False, ""]
TIMING = BatchTiming(s_per_batch=1.5, s_per_val_image=0.02, device="cpu", passes=2)


class _Backend:
    def check_base_model(self, base_model: str) -> None:
        return None


@pytest.fixture
def manager(tmp_path: Path, monkeypatch) -> TrainingManager:
    calls: list[tuple] = []
    monkeypatch.setattr(estimate, "measure_in_subprocess",
                        lambda *args: calls.append(args) or TIMING)
    settings = StudioSettings(tmp_path / "root")
    shutil.copytree(TINY, settings.datasets_dir / "bccd-tiny")
    manager = TrainingManager(settings, backend=_Backend())
    manager.measured = calls  # type: ignore[attr-defined]
    return manager


def _api(demo: gr.Blocks, name: str):  # noqa: ANN202
    return next(fn.fn for fn in demo.fns.values() if fn.api_name == name)


def test_estimate_duration_endpoint_takes_the_start_form(manager) -> None:
    demo = build_app(manager, None, LOCAL)
    text = _api(demo, "estimate_duration")(*FORM)
    # tiny: 20 train images in batches of 8 (3), 3 epochs; 8 val images, 4 validations
    assert text.startswith("**Estimated duration: about 14 s on cpu (measured 1.5 s per batch "
                           "of 8 at imgsz 64).**")
    assert manager.measured == [("yolo11n.yaml", 64, 8, "cpu", 3)]
    _api(demo, "estimate_duration")(*FORM[:2], 30, *FORM[3:])  # more epochs: same batch
    assert len(manager.measured) == 1
    hosted = build_app(manager, None, ServerAccess())  # the hosted rule for .pt paths holds
    with pytest.raises(gr.Error, match="is not offered here"):
        _api(hosted, "estimate_duration")(FORM[0], "/tmp/evil.pt", *FORM[2:])
    with pytest.raises(gr.Error, match="AutoBatch"):
        _api(demo, "estimate_duration")(*FORM[:3], -1, *FORM[4:])


def test_list_base_models_endpoint_and_the_dropdown_filled_at_page_load(manager) -> None:
    demo = build_app(manager, None, LOCAL)
    rows = _api(demo, "list_base_models")()
    assert rows[0][0] == "yolo26n.pt" and ["yolo11n.yaml", "YOLO11, from scratch (model "
                                           "config)", "none needed"] in rows
    wait, fill = weights_panel.page_load(manager)
    wait()
    filled = fill("yolo11n.yaml")  # untouched: the default (no .pt on this machine here)
    assert filled.value == base_models.default_base_model(manager.settings.root)
    assert ("yolo26n.yaml", "yolo26n.yaml") in filled.choices
    assert fill("yolov8s.yaml").value == "yolov8s.yaml"  # picked meanwhile: kept


def test_a_page_built_before_the_list_is_read_offers_the_default(manager, monkeypatch) -> None:
    monkeypatch.setattr(base_models, "is_ready", lambda: False)
    assert weights_panel.initial_choices(manager) == {
        "choices": [("yolo11n.yaml", "yolo11n.yaml")], "value": "yolo11n.yaml"}


def test_preview_lists_the_jobs_mosaics_from_its_run_folder(trained_model_root) -> None:
    settings = trained_model_root.settings()
    [run] = (settings.jobs_dir / "runs").iterdir()
    snap = TrainingSnapshot(job_id=run.name, state=JobState.TRAINING)
    stub = SimpleNamespace(settings=settings, snapshot=lambda: snap)
    job, images, training = batch_preview.preview(stub)
    assert (job, training) == (run.name, True)
    assert batch_preview.gallery_items(images) == [
        (str(run / f"train_batch{i}.jpg"), f"train batch{i}") for i in range(3)]
    idle = SimpleNamespace(settings=settings, snapshot=TrainingSnapshot)
    assert batch_preview.preview(idle) == ("", [], False)

    def forgotten(job_id=None):  # the studio no longer keeps the followed job's snapshots
        raise NotFoundError(f"Job {job_id} is not running and did not run recently")

    gone = SimpleNamespace(settings=settings, snapshot=forgotten)
    assert batch_preview.preview(gone, run.name) == (run.name, images, False)
    assert plot_caption("train_batch0") == "train batch0 (augmented)"
    assert plot_caption("BoxPR_curve") == "BoxPR curve"
