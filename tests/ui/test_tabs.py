"""Tab logic against a real (not started) TrainingManager over a tmp storage root."""

from __future__ import annotations

import asyncio
import inspect
import json
import shutil
from pathlib import Path

import gradio as gr
import pytest
from gradio.state_holder import SessionState
from dataset_files import TINY, broken_copy

from yolo_studio.config import StudioSettings, TrainingConfig
from yolo_studio.errors import NotFoundError, ValidationError
from yolo_studio.training.manager import TrainingManager
from yolo_studio.training.progress import SnapshotBoard
from yolo_studio.training.snapshot import JobState, TrainingSnapshot
from yolo_studio.ui import formatting as fmt
from yolo_studio.ui import jobs_panel, models_tab, train_tab
from yolo_studio.ui.app import (PROGRESS_POLL_S, QUEUE_POLL_S, STREAMS, build_app, queued,
                                stream_groups)
from yolo_studio.ui.monitor_feed import build_frame
from yolo_studio.ui.errors import shows_errors

NAME = fmt.JOB_COLUMNS.index("model name")  # a job row's model name
DEFAULT_FORM = ("bccd-tiny", "yolo11n.yaml", 100, 16.0, 640, 20, 10, 0.001, 0.01, "", 0.8,
                "AdamW", 2, "", False, "")


@pytest.fixture
def manager(tmp_path: Path) -> TrainingManager:
    settings = StudioSettings(tmp_path)
    shutil.copytree(TINY, settings.datasets_dir / "bccd-tiny")
    broken_copy(settings.datasets_dir / "broken")
    return TrainingManager(settings)


def jobs_table() -> gr.Dataframe:
    return gr.Dataframe(headers=fmt.JOB_COLUMNS, value=[], interactive=False)


def _save_model(manager: TrainingManager, name: str, map50: float, tmp_path: Path) -> None:
    weights = tmp_path / f"{name}.pt"
    weights.write_bytes(b"not-a-real-model")
    history = [{"epoch": i, "map50": map50 * i / 3, "precision": 0.5} for i in (1, 2, 3)]
    manager.models.save("bccd-tiny", name, weights, TrainingConfig(dataset="bccd-tiny").to_dict(),
                        {"final": {"epoch": 4, "map50": map50}, "history": history},
                        {"base_model": "yolo11n.yaml", "epochs_completed": 3,
                         "best_map50": map50, "dataset_snapshot": "28 images, 3 classes",
                         "dataset_hash": "abc"})


def test_config_from_form_defaults_and_conversions() -> None:
    config = train_tab.config_from_form(*DEFAULT_FORM)
    assert config == TrainingConfig(dataset="bccd-tiny", base_model="yolo11n.yaml")
    assert isinstance(config.batch, int) and config.model_name is None
    values = list(DEFAULT_FORM)
    values[3], values[9], values[13] = 0.5, " my-model ", " cpu "
    config = train_tab.config_from_form(*values)
    assert (config.batch, config.model_name, config.device) == (0.5, "my-model", "cpu")


@pytest.mark.parametrize("index, value, message", [
    (2, None, "epochs is empty"), (2, 2.5, "epochs must be a whole number"),
    (0, None, "Choose a dataset"), (8, 2.0, "lrf must be between 0 and 1"),
    (9, "bad name/..", "Model name"),
])
def test_config_from_form_rejects_bad_values(index, value, message) -> None:
    values = list(DEFAULT_FORM)
    values[index] = value
    with pytest.raises(ValidationError, match=message):
        train_tab.config_from_form(*values)


def test_dataset_choices_and_health_markdown(manager: TrainingManager) -> None:
    assert train_tab.dataset_choices(manager) == ["bccd-tiny", "broken"]
    text = train_tab.dataset_info_html(manager, "bccd-tiny")
    assert "28 images, 3 classes" in text and "OK, ready to train" in text
    assert "RBC" in text
    broken = train_tab.dataset_info_html(manager, "broken")
    assert "BLOCKED" in broken and 'data-code="class_out_of_range"' in broken
    assert "labels/train/" in broken
    with pytest.raises(NotFoundError):
        train_tab.dataset_info_html(manager, "nope")


def test_models_refresh_marks_active_and_charts_saved_history(manager, tmp_path) -> None:
    _save_model(manager, "first", 0.3, tmp_path)
    _save_model(manager, "second", 0.6, tmp_path)
    manager.registry.set_active("bccd-tiny", "first")
    rows, dropdown, summary = models_tab.refresh(manager, "bccd-tiny")
    assert sorted(r[1] for r in rows) == ["first", "second"]
    assert {r[1]: r[0] for r in rows} == {"first": fmt.ACTIVE_MARK, "second": ""}
    assert dropdown.value == "first" and "active: **first**" in summary
    assert models_tab.refresh(manager, "bccd-tiny", "second")[1].value == "second"
    assert "bccd-tiny" in models_tab.dataset_choices(manager)


def test_studio_errors_become_gradio_errors() -> None:
    @shows_errors
    def handler() -> None:
        raise NotFoundError("Model 'x' does not exist for dataset 'd'.")

    with pytest.raises(gr.Error, match="Model 'x' does not exist"):
        handler()


def test_events_never_wait_behind_each_other(manager: TrainingManager) -> None:
    demo = build_app(manager, None)
    fns = list(demo.fns.values())
    assert all(fn.concurrency_limit is None for fn in fns)
    streams = {fn.name: fn for fn in fns if (fn.name or "").startswith("follow_")}
    assert set(streams) == {"follow_monitor", "follow_jobs"}
    assert {fn.concurrency_id for fn in streams.values()} == {"monitor-stream"}
    # values are sent as the feed built them (charts.plot_payload, jobs_panel.table_payload)
    assert not any(fn.postprocess for fn in streams.values())
    apis = {fn.api_name for fn in fns}
    assert {"start_training", "cancel_training", "list_models", "set_active_model",
            "delete_model"} <= apis


def test_the_queue_polls_at_the_studios_pace(manager: TrainingManager) -> None:
    """Gradio's queue looks for new events every 1 ms by default, about 6.6% of a core in the
    server's threads with no page open, against 1.1% (bench/serving.py); ``queued`` slows its
    polling. Fails if the installed Gradio no longer has or reads the attributes (the setting
    would do nothing)."""
    queue = queued(build_app(manager, None))._queue
    assert queue.sleep_when_free == QUEUE_POLL_S
    assert queue.progress_update_sleep_when_free == PROGRESS_POLL_S
    assert "self.sleep_when_free" in inspect.getsource(type(queue).start_processing)
    assert "self.progress_update_sleep_when_free" in inspect.getsource(
        type(queue).start_progress_updates)


def test_cancel_with_nothing_training_says_so(manager: TrainingManager) -> None:
    # the Cancel buttons are never disabled (see app.stream_groups)
    with pytest.raises(gr.Error, match="No job is training"):
        train_tab.cancel_handler(manager)()


def test_finished_key_names_the_last_completed_job_even_while_the_next_one_trains(
        manager: TrainingManager) -> None:
    groups = stream_groups(manager, None, jobs_table())
    snap = TrainingSnapshot(state=JobState.TRAINING, job_id="j2", dataset="bccd-tiny",
                            last_completed=("j1", "bccd-tiny"))
    frame = build_frame(groups(snap, 0), None)
    table, finished, choices, flag = frame.update("jobs")
    assert finished == "j1:bccd-tiny"  # the Models tab refreshes for j1's dataset
    assert 'class="studio-training"' in flag  # Cancel looks active while a job trains
    idle = TrainingSnapshot()
    assert build_frame(groups(idle, 0), None).update("jobs")[1] == ""  # State unchanged


def _training(manager: TrainingManager, name: str = "running") -> str:
    """Queue a job and mark it TRAINING, as the trainer does when it claims one."""
    job = manager.queue.add({"dataset": "bccd-tiny"}, name)
    manager.queue.update(job.job_id, state=JobState.TRAINING)
    return job.job_id


def _named(jobs: list, name: str):  # noqa: ANN202 (a JobRecord)
    return next(job for job in jobs if job.model_name == name)


def test_job_table_and_selector_choices_go_as_plain_values(
        manager: TrainingManager, monkeypatch: pytest.MonkeyPatch) -> None:
    # Gradio rebuilds a whole component for each gr.skip() or component update, on every page
    groups = stream_groups(manager, None, jobs_table())
    reads = []
    real_jobs = manager.jobs
    monkeypatch.setattr(manager, "jobs", lambda: reads.append(1) or real_jobs())
    _training(manager)
    first = build_frame(groups(TrainingSnapshot(), 0), None)
    manager.start_training(TrainingConfig(dataset="bccd-tiny", base_model="yolo11n.yaml",
                                          model_name="queued-one"))
    queued = build_frame(groups(TrainingSnapshot(queue_rev=1, version=1), 0), first)
    build_frame(groups(TrainingSnapshot(queue_rev=1, version=2), 0), queued)
    assert len(reads) == 2  # once per queue change, not per frame
    table, finished, choices, flag = queued.update("jobs")
    assert flag == ""  # not training: Cancel looks inactive (monitor_tab.CANCEL_CSS)
    assert table["headers"] == list(fmt.JOB_COLUMNS)  # Dataframe.postprocess already done
    assert [row[NAME] for row in table["data"]] == ["running", "queued-one"] and finished == ""
    for stream in STREAMS:
        for value in queued.update(stream):
            assert not isinstance(value, gr.blocks.Block), stream
            assert not (isinstance(value, dict) and value.get("__type__") == "update"), stream
    # the selector's choices: a change of them refills the selector (refresh_choices_on)
    job = _named(real_jobs(), "queued-one")
    assert choices == [(f"{job.job_id} · QUEUED · queued-one", job.job_id)]
    moved = build_frame(groups(TrainingSnapshot(queue_rev=2, version=3), 0), queued)
    assert moved.update("jobs")[2] == choices  # same: no refill
    # a write the snapshot does not tell of (e.g. another process) is read at the next frame
    manager.queue.remove(job.job_id)
    gone = build_frame(groups(TrainingSnapshot(queue_rev=2, version=4), 0), moved)
    assert [row[NAME] for row in gone.update("jobs")[0]["data"]] == ["running"]
    assert gone.update("jobs")[2] == []


def test_a_failed_queue_read_is_tried_again(manager: TrainingManager,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    groups = stream_groups(manager, None, jobs_table())
    real_jobs = manager.jobs
    monkeypatch.setattr(manager, "jobs", lambda: (_ for _ in ()).throw(OSError("busy")))
    with pytest.raises(OSError):  # the feed logs it and tries again
        groups(TrainingSnapshot(), 0)
    monkeypatch.setattr(manager, "jobs", real_jobs)
    manager.start_training(TrainingConfig(dataset="bccd-tiny", base_model="yolo11n.yaml",
                                          model_name="after-the-failure"))
    frame = build_frame(groups(TrainingSnapshot(), 0), None)
    assert [row[NAME] for row in frame.update("jobs")[0]["data"]] == ["after-the-failure"]


def test_every_stream_goes_through_gradio_and_serialises(
        manager: TrainingManager, monkeypatch: pytest.MonkeyPatch) -> None:
    # each follow_* event stepped as Gradio's queue does for an open page
    board = SnapshotBoard()
    monkeypatch.setattr(manager, "wait_for_change", board.wait_for_change)
    demo = build_app(manager, None)
    streams = {fn.name: fn for fn in demo.fns.values() if (fn.name or "").startswith("follow_")}
    _training(manager)

    async def run() -> tuple[dict[str, list], list[list]]:
        state, first, steps = SessionState(demo), {}, {}
        for name, fn in streams.items():
            out = await demo.process_api(fn, [], state=state, in_event_listener=True)
            first[name], steps[name] = json.loads(json.dumps(out["data"])), out["iterator"]
        changed = []  # the State ids each later jobs update changed (their .change runs)
        for publish in ({"last_completed": ("j1", "bccd-tiny")}, {"queue_rev": 5},
                        {"queue_rev": 6}):
            if publish.get("queue_rev") == 5:  # a job queued: the selector's choices change
                manager.start_training(TrainingConfig(
                    dataset="bccd-tiny", base_model="yolo11n.yaml", model_name="queued-one"))
            board.publish(**publish)
            out = await demo.process_api(streams["follow_jobs"], [], state=state,
                                         iterator=steps["follow_jobs"], in_event_listener=True)
            steps["follow_jobs"] = out["iterator"]
            assert out["data"][0]["headers"] == list(fmt.JOB_COLUMNS)  # not a keep-alive
            changed.append(out["changed_state_ids"])
        for iterator in steps.values():
            await iterator.aclose()
        return first, changed

    first, changed = asyncio.run(run())
    # four live charts: a figure's JSON each
    assert [set(json.loads(value)) for value in first["follow_monitor"][4:8]] == [
        {"data", "layout"}] * 4
    table, finished, choices, flag = first["follow_jobs"]
    assert table["headers"] == list(fmt.JOB_COLUMNS) and flag == ""
    assert finished is None and choices is None  # States: kept on the server
    # the Models tab refreshes once for a newly completed job, not for later queue changes;
    # the job selector is refilled when its choices change, not at every queue change
    assert changed == [[_state_id(demo, "on_finished")],
                       [_state_id(demo, "refresh_job_choices")], []]


def _state_id(demo: gr.Blocks, handler: str) -> int:
    """The id of the State whose ``.change`` runs ``handler`` (its first input)."""
    [fn] = [fn for fn in demo.fns.values() if fn.name == handler]
    return fn.inputs[0]._id


def test_job_selector_choices_have_one_writer_and_a_stale_choice_reaches_the_action(
        manager: TrainingManager) -> None:
    demo = build_app(manager, None)
    [select] = [b for b in demo.blocks.values() if getattr(b, "elem_id", "") == "job-select"]
    writers = {fn.name for fn in demo.fns.values() if select in fn.outputs}
    # Start and page load leave the choices to refresh_job_choices, run when the jobs
    # stream's choices text changes (a handler's could be older); actions set the value
    assert writers & {"on_start", "on_load"} == set() and "refresh_job_choices" in writers
    # a job removed from another page may still be selected: Gradio must not refuse it
    assert select.preprocess("job-gone") == "job-gone"
    _training(manager)
    manager.start_training(TrainingConfig(dataset="bccd-tiny", base_model="yolo11n.yaml",
                                          model_name="queued-one"))
    job = _named(manager.jobs(), "queued-one")
    [refresh] = [fn.fn for fn in demo.fns.values() if fn.name == "refresh_job_choices"]
    pairs = jobs_panel.job_choices(manager.jobs())
    assert pairs == [(f"{job.job_id} · QUEUED · queued-one", job.job_id)]
    assert refresh([list(pair) for pair in pairs]).choices == pairs  # no queue read
    assert jobs_panel.selection_after(manager.jobs(), job.job_id)["value"] == job.job_id
    manager.remove_job(job.job_id)
    assert jobs_panel.selection_after(manager.jobs(), job.job_id)["value"] is None
    [retry] = [fn.fn for fn in demo.fns.values() if fn.api_name == "retry_job"]
    with pytest.warns(UserWarning, match=f"{job.job_id} is no longer in the queue.*another"):
        _, selection = retry(job.job_id)  # the studio's message, not Gradio's error
    assert selection["value"] is None  # the gone job leaves the selector


def test_start_says_starts_now_or_queued_behind_and_counts_epochs() -> None:
    """Start said "queued" for a job that started at once, and "1 epochs"."""
    from types import SimpleNamespace

    config = TrainingConfig(dataset="bccd-tiny", base_model="yolo11n.yaml", epochs=1)
    done = SimpleNamespace(job_id="a", state=JobState.COMPLETED)
    mine = SimpleNamespace(job_id="b", state=JobState.QUEUED)
    assert train_tab.start_message("b", config, [done, mine]) == (
        "Job b starts now: bccd-tiny / yolo11n.yaml, 1 epoch.")
    running = SimpleNamespace(job_id="r", state=JobState.TRAINING)
    assert train_tab.start_message("b", config, [done, running, mine]).startswith(
        "Job b queued behind 1 job(s): ")
    # on a Ray cluster jobs train at once: a training job is not ahead of it (it said
    # "queued behind 1 job(s)" for a job that trained beside the other)
    assert train_tab.start_message("b", config, [done, running, mine], at_once=True) == (
        "Job b starts as soon as the cluster has room: bccd-tiny / yolo11n.yaml, 1 epoch.")
    queued = SimpleNamespace(job_id="q", state=JobState.QUEUED)
    assert train_tab.start_message("b", config, [running, queued, mine], at_once=True
                                   ).startswith("Job b queued behind 1 job(s): ")


def test_freeze_layers_left_empty_is_the_configs_default() -> None:
    values = list(DEFAULT_FORM)
    values[6] = None
    assert train_tab.config_from_form(*values).notes == ()
    values[1] = "yolo11n.pt"
    assert train_tab.config_from_form(*values).freeze_layers == 10


def test_the_installed_gradio_has_the_plotly_chunk_the_page_preloads() -> None:
    """``live_chart.plotly_preloader`` imports Gradio's Plotly chunk by its file name; without
    it, the first opening of the Monitor tab would evaluate Plotly (issue 17)."""
    from yolo_studio.ui.live_chart import plotly_chunk

    assert plotly_chunk().startswith("PlotlyPlot-") and plotly_chunk().endswith(".js")


def test_a_restored_form_leaves_a_default_freeze_empty_for_the_next_base_model() -> None:
    """The last configuration (or a preset, or a retried job) of a ``.yaml`` model holds
    freeze_layers 0; restored into the form as 0, a ``.pt`` picked next would train with
    nothing frozen instead of its default 10."""
    from yolo_studio.ui.train_presets_panel import form_values

    index = train_tab.FORM_FIELDS.index("freeze_layers")
    scratch = train_tab.config_from_form(*DEFAULT_FORM)
    assert scratch.freeze_layers == 0
    values = form_values(scratch)
    assert values[index] is None
    gr.Number(precision=0).postprocess(values[index])  # what the page's Number box takes
    values[train_tab.FORM_FIELDS.index("base_model")] = "yolo11n.pt"
    assert train_tab.config_from_form(*values).freeze_layers == 10
    chosen = list(DEFAULT_FORM)
    chosen[1], chosen[index] = "yolo11n.pt", 3
    assert form_values(train_tab.config_from_form(*chosen))[index] == 3  # a choice stays
    chosen[index] = None
    assert form_values(train_tab.config_from_form(*chosen))[index] is None  # the .pt default
