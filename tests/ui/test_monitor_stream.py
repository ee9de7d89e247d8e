"""The Monitor tab's stream: full redraw for a new viewer, then only what changed."""

from __future__ import annotations

import threading
import time

from yolo_studio.resources.status import ResourceStatus
from yolo_studio.training.progress import SnapshotBoard
from yolo_studio.training.snapshot import EpochMetrics, JobState
from yolo_studio.ui import monitor_tab

from plot_figures import figure

SKIP = {"__type__": "update"}  # what gr.skip() returns
# Positions in a yield: 7 snapshot outputs, 2 resource outputs, then the extras.
STATUS, PROGRESS, FINAL, LOSS, METRICS, LR, LOG, RESOURCE, ALERT = range(9)


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

    def latest(self) -> ResourceStatus:
        return self.statuses[-1]


def _ram_percent(value) -> list:
    """The RAM trace's y values (percent 0-100) of a streamed resource chart."""
    return [list(t.y) for t in figure(value).data if t.name == "RAM"][0]


def _epochs(n: int) -> tuple[EpochMetrics, ...]:
    return tuple(EpochMetrics(epoch=i, map50=0.1 * i, precision=0.2, train_box_loss=1.0 / i)
                 for i in range(1, n + 1))


def _stream(board, monitor=None, **kw):
    return monitor_tab.stream(board, monitor or FakeMonitor(), min_interval_s=0, **kw)


def test_viewer_joining_mid_run_gets_the_whole_history() -> None:
    board = SnapshotBoard()
    board.publish(state=JobState.TRAINING, job_id="j1", dataset="bccd", model_name="m",
                  epochs=5, epoch=3, history=_epochs(3), log=("a", "b"))
    first = next(_stream(board))
    assert "TRAINING" in first[STATUS] and "bccd / m" in first[STATUS]
    assert [list(t.x) for t in figure(first[METRICS]).data] == [[1, 2, 3]] * 4
    assert figure(first[LOSS]).data and figure(first[LR]).data
    assert first[LOG] == "a\nb"
    assert "epoch 4/5" in first[PROGRESS]
    assert _ram_percent(first[RESOURCE]) == [90.0] and first[ALERT] == ""


def test_only_changed_parts_are_sent() -> None:
    board = SnapshotBoard()
    board.publish(state=JobState.TRAINING, epochs=2, history=_epochs(1), log=("start",))
    stream = _stream(board, resource_every_s=3600)
    next(stream)
    board.publish(batch_i=3, batches=4)  # progress only
    update = next(stream)
    assert "batch 3/4" in update[PROGRESS]
    assert update[LOSS] == SKIP and update[METRICS] == SKIP and update[LR] == SKIP
    assert update[LOG] == SKIP and update[RESOURCE] == SKIP and update[ALERT] == SKIP
    board.publish(history=_epochs(2), epoch=2, log=("start", "epoch 2 done"))
    update = next(stream)
    assert [len(t.x) for t in figure(update[METRICS]).data] == [2, 2, 2, 2]
    assert update[LOG].endswith("epoch 2 done")


def _ended(state: JobState, stop_reason: str) -> SnapshotBoard:
    """A board whose job ended after 2 of 5 epochs, with best.pt validated (epoch 3 metrics)."""
    board = SnapshotBoard()
    final = EpochMetrics(epoch=3, precision=0.5, recall=0.4, map50=0.45, map50_95=0.2)
    board.publish(state=state, epochs=5, epoch=2, history=_epochs(2), final=final,
                  stop_reason=stop_reason)
    return board


def test_final_result_and_stop_reason_shown_apart() -> None:
    board = _ended(JobState.COMPLETED, "early stopping: no improvement in 2 epochs")
    first = next(_stream(board))
    assert "best.pt on val" in first[FINAL] and "mAP50 0.450" in first[FINAL]
    assert "Stopped early: early stopping" in first[FINAL]
    names = [t.name for t in figure(first[METRICS]).data]
    assert names[-1] == "best.pt on val"
    assert [len(t.x) for t in figure(first[METRICS]).data[:4]] == [2, 2, 2, 2]


def test_cancelled_job_shows_no_final_result() -> None:
    first = next(_stream(_ended(JobState.CANCELLED, "stop requested")))
    assert first[FINAL] == "Cancelled: no model was registered."
    assert "best.pt on val" not in [t.name for t in figure(first[METRICS]).data]


def test_error_state_names_the_cause() -> None:
    board = SnapshotBoard()
    board.publish(state=JobState.ERROR, error="CUDA out of memory; lower batch")
    assert "ERROR: CUDA out of memory; lower batch" in next(_stream(board))[STATUS]


def test_resources_refresh_without_snapshot_changes_and_alert_is_visible() -> None:
    board = SnapshotBoard()
    stream = _stream(board, FakeMonitor(constrained=True), resource_every_s=0.01)
    first = next(stream)
    assert "RAM 90% &gt;= 85% threshold" in first[ALERT]
    update = next(stream)  # nothing published: only the resource outputs
    assert update[STATUS] == SKIP and update[METRICS] == SKIP
    assert _ram_percent(update[RESOURCE]) == [90.0] and "Resource alert" in update[ALERT]
    assert [t.name for t in figure(update[RESOURCE]).data][-1] == "alert"


def test_extra_outputs_follow_snapshot_changes() -> None:
    board = SnapshotBoard()
    seen = []

    def extra(snap, last):
        seen.append((snap.version, None if last is None else last.version))
        return [snap.state.value]

    stream = _stream(board, extra=extra, extra_count=1, resource_every_s=0.01)
    assert next(stream)[-1] == "IDLE"
    assert next(stream)[-1] == SKIP  # resource refresh only
    board.publish(state=JobState.TRAINING)
    assert next(stream)[-1] == "TRAINING"
    assert seen == [(0, None), (1, 0)]


def test_follow_runs_the_stream_off_the_event_loop_and_in_its_own_pool() -> None:
    import threading

    import anyio

    board = SnapshotBoard()
    board.publish(state=JobState.TRAINING, history=_epochs(2))
    threads = []

    def steps():
        for item in _stream(board, resource_every_s=3600):
            threads.append(threading.current_thread())
            yield item

    async def collect() -> list:
        limiter = anyio.CapacityLimiter(2)
        out = []
        async for item in monitor_tab.follow(steps(), limiter):
            out.append(item)
            if len(out) == 2:
                break
            board.publish(epoch=2)
        return out

    first, second = anyio.run(collect)
    assert [len(t.x) for t in figure(first[METRICS]).data] == [2, 2, 2, 2]
    assert second[METRICS] == SKIP and "epoch" in second[PROGRESS]
    assert threads and all(t is not threading.main_thread() for t in threads)


class CountingBoard:
    """A SnapshotBoard whose ``wait_for_change`` counts how often a stream woke up."""

    def __init__(self) -> None:
        self.board = SnapshotBoard()
        self.wakes = 0

    def wait_for_change(self, version, timeout_s, major_only=False):
        snap = self.board.wait_for_change(version, timeout_s, major_only)
        self.wakes += 1
        return snap


def _next_in_thread(stream, timeout_s: float) -> list:
    out: list = []
    thread = threading.Thread(target=lambda: out.append(next(stream)), daemon=True)
    thread.start()
    thread.join(timeout_s)
    assert out, f"no update within {timeout_s} s"
    return out[0]


def test_batch_progress_wakes_a_stream_once_per_interval_and_a_new_epoch_at_once() -> None:
    counting = CountingBoard()
    board = counting.board
    board.publish(state=JobState.TRAINING, epochs=3, batches=40, history=_epochs(1))
    stream = monitor_tab.stream(counting, FakeMonitor(), min_interval_s=0, progress_every_s=0.5,
                                resource_every_s=3600)
    next(stream)
    counting.wakes = 0
    publisher = threading.Thread(target=lambda: [
        (board.publish(batch_i=i), time.sleep(0.005)) for i in range(1, 41)])
    publisher.start()  # 40 batches inside the 0.5 s hold
    publisher.join()
    update = _next_in_thread(stream, 5)
    assert "batch 40/40" in update[PROGRESS] and update[METRICS] == SKIP
    assert counting.wakes == 1  # not once per batch

    slow = monitor_tab.stream(counting, FakeMonitor(), min_interval_s=0, progress_every_s=3600,
                              resource_every_s=3600)
    next(slow)
    board.publish(batch_i=1)
    threading.Timer(0.1, lambda: board.publish(history=_epochs(2), epoch=2)).start()
    update = _next_in_thread(slow, 10)  # the new epoch does not wait for the hour's hold
    assert [len(t.x) for t in figure(update[METRICS]).data] == [2, 2, 2, 2]
