"""Train tab panels against a real TrainingManager over a tmp root: dataset import (zip and
folder), the job-queue actions (retry, resume, remove), and Start after a failed job."""

from __future__ import annotations

import shutil
from pathlib import Path

import gradio as gr
import pytest
from dataset_files import TINY, broken_copy, zip_folder

from yolo_studio.config import StudioSettings
from yolo_studio.errors import DatasetError, TrainingError, ValidationError
from yolo_studio.training.manager import TrainingManager
from yolo_studio.training.snapshot import JobState
from yolo_studio.ui import datasets_panel, jobs_panel
from yolo_studio.ui import formatting as fmt
from yolo_studio.ui.app import build_app
from yolo_studio.ui.hosting import ServerAccess, plan, server_access

LOCAL = server_access(plan(None, 7860, False, None, {}))
FORM = ["bccd-tiny", "yolo11n.yaml", 1, 8, 64, 5, 0, 0.001, 0.01, "", 0.8, "AdamW", 0, "cpu",
        False, ""]


class FailingBackend:
    """A backend whose every training fails at once (the job ends in ERROR)."""

    def __init__(self) -> None:
        self.runs = 0

    def check_base_model(self, base_model: str) -> None:
        return None

    def train(self, config, data_yaml, run_dir, hooks, resume_from=None):  # noqa: ANN001
        self.runs += 1
        raise TrainingError("the fake backend always fails")


@pytest.fixture
def manager(tmp_path: Path) -> TrainingManager:
    settings = StudioSettings(tmp_path / "root")
    shutil.copytree(TINY, settings.datasets_dir / "bccd-tiny")
    return TrainingManager(settings, backend=FailingBackend())


def test_zip_import_selects_the_new_dataset(manager, tmp_path) -> None:
    archive = zip_folder(TINY, tmp_path / "cells.zip", top="cells")
    html, dropdown, added, error = datasets_panel.import_outputs(manager, str(archive), None,
                                                                 "", LOCAL)
    assert error == "" and added == "cells"
    assert dropdown.value == "cells" and [c[0] for c in dropdown.choices] == ["bccd-tiny",
                                                                                "cells"]
    assert "Imported cells" in html
    assert "OK, ready to train" in datasets_panel.dataset_info_html(manager, "cells")
    html, _, added, _ = datasets_panel.import_outputs(manager, str(archive), "", "cells-2", LOCAL)
    assert added == "cells-2" and manager.datasets.list() == ["bccd-tiny", "cells", "cells-2"]


def test_broken_zip_is_refused_with_the_reasons(manager, tmp_path) -> None:
    archive = zip_folder(broken_copy(tmp_path / "broken-src"), tmp_path / "bad.zip")
    html, dropdown, added, error = datasets_panel.import_outputs(manager, str(archive), None,
                                                                 "", LOCAL)
    assert "Not imported" in html and "BloodImage_00001.txt" in html
    assert error.startswith("Dataset problem: ") and "class id" in error
    assert dropdown == added == gr.skip()  # nothing changes
    assert "bad" not in manager.datasets.list()
    with pytest.raises(gr.Error, match="class id"):
        datasets_panel.raise_error(error)
    datasets_panel.raise_error("")  # success: no toast


def test_folder_import_only_when_local(manager, tmp_path) -> None:
    src = shutil.copytree(TINY, tmp_path / "from-folder")
    with pytest.raises(ValidationError, match="server folder is off"):
        datasets_panel.import_dataset(manager, None, str(src), None, ServerAccess())
    info = datasets_panel.import_dataset(manager, None, f"  {src}  ", None, LOCAL)
    assert info.name == "from-folder" and info.snapshot == "28 images, 3 classes"
    with pytest.raises(DatasetError, match="already exists"):
        datasets_panel.import_dataset(manager, None, str(src), None, LOCAL)


@pytest.mark.parametrize("zip_name, folder, message", [
    (None, "", "either a .zip file or a folder"), ("x.zip", "/tmp", "not both"),
    ("x.tar", "", "not a .zip file"),
])
def test_import_needs_exactly_one_source(manager, tmp_path, zip_name, folder, message) -> None:
    path = None
    if zip_name:
        path = tmp_path / zip_name
        path.write_bytes(b"")
    with pytest.raises(ValidationError, match=message):
        datasets_panel.import_dataset(manager, path and str(path), folder, None, LOCAL)


def _api(demo: gr.Blocks, name: str):  # noqa: ANN202
    return next(fn.fn for fn in demo.fns.values() if fn.api_name == name)


def test_queue_actions_retry_resume_remove(manager) -> None:
    demo = build_app(manager, None, LOCAL)
    rows = _api(demo, "start_training")(*FORM)
    [job] = [j.job_id for j in manager.jobs()]
    assert [r[:2] for r in rows] == [[job, "QUEUED"]]
    manager.queue.update(job, state=JobState.INTERRUPTED)  # as after a restart mid-run
    with pytest.raises(gr.Error, match="no last.pt"):
        _api(demo, "resume_job")(job)
    last = manager.settings.run_dir(job) / "weights" / "last.pt"
    last.parent.mkdir(parents=True)
    last.write_bytes(b"PK")
    rows, select = _api(demo, "resume_job")(job)
    assert rows[0][1] == "QUEUED" and rows[0][-1] == "resume from last.pt"
    assert manager.queue.get(job).resume and select["value"] == job
    with pytest.raises(gr.Error, match="only interrupted, failed or cancelled"):
        _api(demo, "retry_job")(job)
    manager.queue.update(job, state=JobState.CANCELLED)
    rows, _ = _api(demo, "retry_job")(job)
    assert rows[0][1] == "QUEUED" and not manager.queue.get(job).resume
    rows, select = _api(demo, "remove_job")(job)
    assert rows == [] and select["value"] is None
    with pytest.raises(gr.Error, match="Choose a job"):
        _api(demo, "move_job_up")(None)


def test_table_hides_old_completed_jobs_and_selector_lists_actionable(manager) -> None:
    for i in range(6):
        job = manager.queue.add({"dataset": "bccd-tiny"}, f"m{i}")
        state = [JobState.COMPLETED] * 4 + [JobState.ERROR, JobState.QUEUED]
        manager.queue.update(job.job_id, state=state[i])
    shown = [r[fmt.JOB_COLUMNS.index("model name")] for r in jobs_panel.jobs_value(manager)]
    assert shown == ["m1", "m2", "m3", "m4", "m5"]  # the oldest COMPLETED is left out
    assert [label.split(" · ")[1:] for label, _ in jobs_panel.job_choices(manager.jobs())] == [
        ["ERROR", "m4"], ["QUEUED", "m5"]]


def test_start_again_after_a_failed_job_needs_no_reset(manager) -> None:
    demo = build_app(manager, None, LOCAL)
    manager.start()
    try:
        for _ in range(2):
            rows = _api(demo, "start_training")(*FORM)
            job, snap = rows[-1][0], manager.snapshot()
            for _ in range(100):
                if snap.job_id == job and snap.state is JobState.ERROR:
                    break
                snap = manager.wait_for_change(snap.version, 0.5)
            assert "always fails" in snap.error
    finally:
        manager.close()
    assert manager.backend.runs == 2
    assert [j.state for j in manager.jobs()] == [JobState.ERROR, JobState.ERROR]


def test_reachable_studio_refuses_a_typed_pt_path(manager, tmp_path) -> None:
    demo = build_app(manager, None, ServerAccess())
    form = list(FORM)
    form[1] = str(tmp_path / "evil.pt")
    with pytest.raises(gr.Error, match="is not offered here"):
        _api(demo, "start_training")(*form)
    assert manager.jobs() == []
    teacher = list(FORM)
    teacher[-1] = f"distill_model: {tmp_path / 'evil.pt'}"  # an extra argument loads it too
    with pytest.raises(gr.Error, match="distill_model .*evil.pt' is not offered here"):
        _api(demo, "start_training")(*teacher)
    assert manager.jobs() == []
    local = build_app(manager, None, LOCAL)  # a local studio trusts its user's paths
    _api(local, "start_training")(*form)
    assert [j.config["base_model"] for j in manager.jobs()] == [form[1]]


def test_a_completed_job_whose_model_was_deleted_says_so(manager, tmp_path) -> None:
    """The job table kept a COMPLETED job whose model was deleted, with no hint."""
    from yolo_studio.config import TrainingConfig

    config = TrainingConfig(dataset="bccd-tiny", base_model="yolo11n.yaml").to_dict()
    kept, gone = (manager.queue.add(config, name) for name in ("kept", "gone"))
    for job in (kept, gone):
        manager.queue.update(job.job_id, state=JobState.COMPLETED)
    weights = tmp_path / "w.pt"
    weights.write_bytes(b"weights")
    manager.models.save("bccd-tiny", "kept", weights, config, {"final": {}}, {
        "base_model": "yolo11n.yaml", "epochs_completed": 1, "best_map50": 0.2,
        "dataset_snapshot": "", "dataset_hash": ""})
    rows = {row[0]: row for row in jobs_panel.jobs_value(manager)}
    assert rows[gone.job_id][-1] == fmt.MODEL_GONE and rows[kept.job_id][-1] == ""
    payload = jobs_panel.table_payload(gr.Dataframe(headers=fmt.JOB_COLUMNS), manager.jobs(),
                                       manager.models)
    assert [row[-1] for row in payload["data"]] == ["", fmt.MODEL_GONE]
