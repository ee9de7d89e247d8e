"""The Monitor tab's stream over the feed: the whole history for a new viewer, then an update
when an output changed, in which only what changed is new; final result, cancel and errors
shown."""

from __future__ import annotations

import threading

import pytest
from feed_tabs import SKIP, CountingBoard, Tab

from yolo_studio.resources.status import ResourceStatus
from yolo_studio.training.executors import LOCAL_NODE
from yolo_studio.training.progress import SnapshotBoard
from yolo_studio.training.snapshot import EpochMetrics, JobState, TrainingSnapshot
from yolo_studio.ui import monitor_tab
from yolo_studio.ui.monitor_feed import MonitorFeed

from plot_figures import figure

# Positions in an update (MonitorTab.outputs): progress (4), charts (3), resources (2), node
# note (1).
STATUS, PROGRESS, FINAL, LOG, LOSS, METRICS, LR, RESOURCE, ALERT, NODE_NOTE = range(10)


class FakeMonitor:
    gpu_threshold = 0.9
    ram_threshold = 0.85

    def __init__(self, constrained: bool = False) -> None:
        alerts = ("RAM 90% >= 85% threshold",) if constrained else ()
        self.statuses = (ResourceStatus(timestamp=1.0, gpu_percent=None, ram_percent=0.9,
                                        ram_used_bytes=9, ram_total_bytes=10, cpu_percent=50.0,
                                        constrained=constrained, alerts=alerts),)

    def history(self) -> tuple[ResourceStatus, ...]:
        return self.statuses


def _ram_percent(value) -> list:
    """The RAM trace's y values (percent 0-100) of a streamed resource chart."""
    return [list(t.y) for t in figure(value).data if t.name == "RAM"][0]


def _epochs(n: int) -> tuple[EpochMetrics, ...]:
    return tuple(EpochMetrics(epoch=i, map50=0.1 * i, precision=0.2, train_box_loss=1.0 / i)
                 for i in range(1, n + 1))


@pytest.fixture
def feeds():
    """``make(board, monitor=None, **feed options)`` -> MonitorFeed over the Monitor tab's
    groups (no pause between frames); every feed is closed afterwards."""
    made: list[MonitorFeed] = []

    def make(board, monitor=None, **kw) -> MonitorFeed:
        groups = monitor_tab.feed_groups(monitor or FakeMonitor())
        made.append(MonitorFeed(board, groups, **{"min_interval_s": 0, **kw}))
        return made[-1]
    yield make
    for feed in made:
        feed.close()


def _first(feed: MonitorFeed) -> list:
    tab = Tab(feed)
    try:
        return tab.first()
    finally:
        tab.close()


def test_viewer_joining_mid_run_gets_the_whole_history(feeds) -> None:
    board = SnapshotBoard()
    board.publish(state=JobState.TRAINING, job_id="j1", dataset="bccd", model_name="m",
                  epochs=5, epoch=3, history=_epochs(3), log=("a", "b"))
    first = _first(feeds(board))
    assert "TRAINING" in first[STATUS] and "bccd / m" in first[STATUS]
    assert [list(t.x) for t in figure(first[METRICS]).data] == [[1, 2, 3]] * 4
    assert figure(first[LOSS]).data and figure(first[LR]).data
    assert first[LOG] == "a\nb"
    assert "epoch 4/5" in first[PROGRESS]
    assert _ram_percent(first[RESOURCE]) == [90.0] and first[ALERT] == ""


def _same(before: list, after: list, positions) -> bool:
    """Whether the values at ``positions`` are the very objects sent before (not rebuilt;
    Gradio sends them as empty diffs)."""
    return all(before[i] is after[i] for i in positions)


def test_an_update_rebuilds_only_what_changed(feeds) -> None:
    board = SnapshotBoard()
    board.publish(state=JobState.TRAINING, epochs=2, history=_epochs(1), log=("start",))
    tab = Tab(feeds(board, resource_every_s=3600, progress_every_s=0))
    first = tab.first()
    board.publish(batch_i=3, batches=4)  # progress only
    update = tab.next()
    status, progress, final, log = update[:LOSS]
    assert "batch 3/4" in progress and "TRAINING" in status and final == "" and log == "start"
    assert _same(first, update, (LOSS, METRICS, LR, RESOURCE, ALERT))
    board.publish(log=("start", "a log line"))  # a log line alone does not redraw the charts
    logged = tab.next()
    assert logged[LOG].endswith("a log line") and _same(update, logged, (LOSS, METRICS, LR))
    board.publish(history=_epochs(2), epoch=2, log=("start", "a log line", "epoch 2 done"))
    epoch = tab.next()
    assert [len(t.x) for t in figure(epoch[METRICS]).data] == [2, 2, 2, 2]
    assert figure(epoch[LOSS]).data and figure(epoch[LR]).data
    assert "100.0%" in epoch[PROGRESS] and epoch[LOG].endswith("epoch 2 done")
    assert _same(logged, epoch, (RESOURCE, ALERT))
    # never a gr.skip(): Gradio builds a component for each one it gets
    assert SKIP not in first + update + logged + epoch
    assert tab.quiet(monitor_tab.STREAM)  # nothing changed: nothing sent
    tab.close()


def _ended(state: JobState, stop_reason: str) -> SnapshotBoard:
    """A board whose job ended after 2 of 5 epochs, with best.pt validated (epoch 3 metrics)."""
    board = SnapshotBoard()
    final = EpochMetrics(epoch=3, precision=0.5, recall=0.4, map50=0.45, map50_95=0.2)
    board.publish(state=state, epochs=5, epoch=2, history=_epochs(2), final=final,
                  stop_reason=stop_reason)
    return board


def test_final_result_and_stop_reason_shown_apart(feeds) -> None:
    first = _first(feeds(_ended(JobState.COMPLETED, "early stopping: no improvement in 2 epochs")))
    assert "best.pt on val" in first[FINAL] and "mAP50 0.450" in first[FINAL]
    assert "Stopped early: early stopping" in first[FINAL]
    names = [t.name for t in figure(first[METRICS]).data]
    assert names[-1] == "best.pt on val"
    assert [len(t.x) for t in figure(first[METRICS]).data[:4]] == [2, 2, 2, 2]


def test_cancelled_job_shows_no_final_result(feeds) -> None:
    first = _first(feeds(_ended(JobState.CANCELLED, "stop requested")))
    assert first[FINAL] == "Cancelled: no model was registered."
    assert "best.pt on val" not in [t.name for t in figure(first[METRICS]).data]


def test_error_state_names_the_cause(feeds) -> None:
    board = SnapshotBoard()
    board.publish(state=JobState.ERROR, error="CUDA out of memory; lower batch")
    assert "ERROR: CUDA out of memory; lower batch" in _first(feeds(board))[STATUS]


def test_error_text_is_shown_as_it_is_not_as_markdown(feeds) -> None:
    board = SnapshotBoard()
    board.publish(state=JobState.ERROR, error="pass a *.pt PyTorch model or a *.yaml\n")
    # a lone star made the rest italic, and a trailing newline broke the bold line
    assert _first(feeds(board))[STATUS] == (r"**ERROR: pass a \*.pt PyTorch model or a "
                                             r"\*.yaml**")


def test_resources_refresh_without_snapshot_changes_and_alert_is_visible(feeds) -> None:
    tab = Tab(feeds(SnapshotBoard(), FakeMonitor(constrained=True), resource_every_s=0.01))
    first = tab.first()
    assert "RAM 90% &gt;= 85% threshold" in first[ALERT]
    update = tab.next()  # nothing published: new resources only
    resource, alert = update[RESOURCE:ALERT + 1]
    assert _ram_percent(resource) == [90.0] and "Resource alert" in alert
    assert [t.name for t in figure(resource).data][-1] == "alert"
    assert resource is not first[RESOURCE] and _same(first, update, range(RESOURCE))
    tab.close()


def test_batch_progress_wakes_the_feed_once_per_interval_and_a_new_epoch_at_once(feeds) -> None:
    counting = CountingBoard()
    board = counting.board
    board.publish(state=JobState.TRAINING, epochs=3, batches=40, history=_epochs(1))
    tab = Tab(feeds(counting, progress_every_s=2, resource_every_s=3600))
    tab.first()
    counting.wakes = 0
    for i in range(1, 41):  # 40 batches inside the 2 s hold
        board.publish(batch_i=i)
    assert "batch 40/40" in tab.next()[PROGRESS]
    assert counting.wakes == 1  # not once per batch
    tab.close()

    slow = Tab(feeds(counting, progress_every_s=3600, resource_every_s=3600))
    slow.first()
    board.publish(batch_i=1)
    threading.Timer(0.1, lambda: board.publish(history=_epochs(2), epoch=2)).start()
    metrics = slow.next(timeout_s=10)[METRICS]  # a new epoch does not wait for the hold
    assert [len(t.x) for t in figure(metrics).data] == [2, 2, 2, 2]
    slow.close()


def test_a_url_in_an_error_stays_a_working_link() -> None:
    # Gradio links bare URLs; a backslash before "." or "-" ended up inside the href
    url = "https://pytorch.org/get-started/locally/"
    assert monitor_tab.fmt.markdown_text(f"see {url}") == f"see {url}"


def test_cancel_looks_active_only_while_a_job_trains() -> None:
    """Cancel looked active (red) with nothing training: the status line carries the class
    that CANCEL_CSS keys on only in TRAINING, so no update per page is needed for it."""
    from yolo_studio.ui import monitor_tab

    training = monitor_tab.status_markdown(TrainingSnapshot(state=JobState.TRAINING,
                                                            dataset="bccd", model_name="m"))
    assert training.startswith(f'<span class="{monitor_tab.TRAINING_CLASS}">**TRAINING')
    for state in (JobState.IDLE, JobState.COMPLETED, JobState.CANCELLED):
        assert monitor_tab.TRAINING_CLASS not in monitor_tab.status_markdown(
            TrainingSnapshot(state=state))
    assert f":not(:has(.{monitor_tab.TRAINING_CLASS}))" in monitor_tab.CANCEL_CSS
    assert monitor_tab.training_flag(TrainingSnapshot()) == ""
    assert monitor_tab.TRAINING_CLASS in monitor_tab.training_flag(
        TrainingSnapshot(state=JobState.TRAINING))


def test_a_job_on_another_node_is_named_and_the_resource_chart_stays_this_machines(
        feeds) -> None:
    """A Ray node's GPUs are not this machine's: the chart draws every local GPU (not the
    job's ``device``) and a note under it says whose readings they are."""
    remote = TrainingSnapshot(state=JobState.TRAINING, dataset="bccd", model_name="m",
                              device="1", node="10.0.0.12")
    board = SnapshotBoard()
    board.publish(**{f: getattr(remote, f) for f in ("state", "dataset", "model_name",
                                                     "device", "node")})
    tab = Tab(feeds(board))
    first = tab.first()
    assert "TRAINING — bccd / m · on 10.0.0.12" in first[STATUS]
    assert "this machine's readings" in first[NODE_NOTE] and "10.0.0.12" in first[NODE_NOTE]
    assert monitor_tab._job_device(remote) == ""  # noqa: SLF001
    board.publish(node=LOCAL_NODE)  # the studio's machine: nothing to say
    local = tab.next()
    assert local[NODE_NOTE] == "" and "· on" not in local[STATUS]
    assert monitor_tab._job_device(board.current) == "1"  # noqa: SLF001
    tab.close()


def test_a_ray_nodes_readings_replace_this_machines_in_the_resource_chart(feeds) -> None:
    """Once the node sent readings (``ProgressTracker.on_node_reading``), the chart and the
    alert are drawn from them, with the studio's thresholds, and the note says so."""
    from yolo_studio.resources.status import status_from_dict, status_to_dict
    from yolo_studio.training.progress import ProgressTracker

    board = SnapshotBoard()
    board.publish(state=JobState.TRAINING, dataset="bccd", model_name="m", node="10.0.0.12")
    tab = Tab(feeds(board))
    assert "this machine's readings" in tab.first()[NODE_NOTE]
    tracker = ProgressTracker(board, lambda: False)
    full = ResourceStatus(timestamp=100.0, gpu_percent=None, ram_percent=0.97,
                          ram_used_bytes=97 * 2**30, ram_total_bytes=100 * 2**30,
                          cpu_percent=88.0, constrained=True,
                          alerts=("RAM 97% >= 85% threshold",))
    again = status_from_dict(status_to_dict(full))  # as it travels from the node
    assert again == full
    tracker.on_node_reading(again)
    update = tab.next()
    assert "shows node 10.0.0.12" in update[NODE_NOTE]
    assert "RAM 97%" in update[ALERT]
    ram = [t for t in figure(update[RESOURCE]).data if "RAM" in (t.name or "")]
    assert ram and ram[0].y[-1] == pytest.approx(97.0, abs=0.6)
    tab.close()


def test_each_jobs_charts_have_their_own_ui_revision() -> None:
    """Plotly keeps a chart's axes while its uirevision stays: with one constant value a page
    that switched to another job kept the first job's axes (box loss off the chart, lr
    flat). The revision is the job's id."""
    first = TrainingSnapshot(job_id="job-a", state=JobState.TRAINING)
    second = TrainingSnapshot(job_id="job-b", state=JobState.TRAINING)
    revisions = [{figure(v).layout.uirevision for v in monitor_tab.chart_values(s)}
                 for s in (first, second)]
    assert revisions == [{"job-a"}, {"job-b"}]
