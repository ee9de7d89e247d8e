"""The Monitor feed and the tabs' streams: full redraw for a new viewer, then only what
changed; one thread and one build per change however many tabs watch."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from yolo_studio.resources.status import ResourceStatus
from yolo_studio.training.progress import SnapshotBoard
from yolo_studio.training.snapshot import EpochMetrics, JobState
from yolo_studio.ui import monitor_tab
from yolo_studio.ui.monitor_feed import MonitorFeed

from plot_figures import figure

SKIP = {"__type__": "update"}  # what gr.skip() returns
# Positions in a tab's first updates joined: progress (2), charts (5), then resources (2).
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


STREAMS = ("progress", "charts", "resources")  # the Monitor tab's, in output order


class Tab:
    """A simulated browser tab: feed streams on an event loop of its own, stepped from the
    test's thread (Gradio runs the streams on its loop the same way)."""

    def __init__(self, feed: MonitorFeed, streams: tuple[str, ...] = STREAMS) -> None:
        self.loop = asyncio.new_event_loop()
        self.streams = {name: feed.updates(name) for name in streams}
        self.pending: dict[str, asyncio.Task] = {}

    def _step(self, stream: str) -> asyncio.Task:
        if stream not in self.pending:
            async def step():
                return await anext(self.streams[stream])
            self.pending[stream] = self.loop.create_task(step())
        return self.pending[stream]

    def next(self, stream: str = STREAMS[0], timeout_s: float = 5.0) -> list:
        """The stream's next update (fails after ``timeout_s`` seconds without one)."""
        task = self._step(stream)
        self.loop.run_until_complete(asyncio.wait({task}, timeout=timeout_s))
        assert task.done(), f"no {stream} update within {timeout_s} s"
        del self.pending[stream]
        return task.result()

    def quiet(self, stream: str, wait_s: float = 0.3) -> bool:
        """True when the stream sends nothing for ``wait_s`` seconds (its step stays pending
        for the next ``next``)."""
        task = self._step(stream)
        self.loop.run_until_complete(asyncio.wait({task}, timeout=wait_s))
        return not task.done()

    def first(self) -> list:
        """Every stream's first update, joined in output order."""
        return [value for name in self.streams for value in self.next(name)]

    def close(self) -> None:
        for task in self.pending.values():
            task.cancel()
        if self.pending:
            self.loop.run_until_complete(
                asyncio.gather(*self.pending.values(), return_exceptions=True))
        for stream in self.streams.values():
            self.loop.run_until_complete(stream.aclose())
        self.loop.close()


@pytest.fixture
def feeds():
    """``make(board, monitor=None, **feed options)`` -> MonitorFeed over the Monitor tab's
    groups (no pause between frames); every feed is closed afterwards."""
    made: list[MonitorFeed] = []

    def make(board, monitor=None, **kw) -> MonitorFeed:
        groups = monitor_tab.feed_groups(monitor_tab.FigureCache(), monitor or FakeMonitor())
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


def test_each_stream_sends_only_when_its_outputs_changed(feeds) -> None:
    board = SnapshotBoard()
    board.publish(state=JobState.TRAINING, epochs=2, history=_epochs(1), log=("start",))
    tab = Tab(feeds(board, resource_every_s=3600, progress_every_s=0))
    tab.first()
    board.publish(batch_i=3, batches=4)  # progress only
    status, progress = tab.next("progress")
    assert "batch 3/4" in progress and "TRAINING" in status
    assert tab.quiet("charts") and tab.quiet("resources")
    board.publish(history=_epochs(2), epoch=2, log=("start", "epoch 2 done"))
    final, loss, metrics, lr, log = tab.next("charts")
    assert [len(t.x) for t in figure(metrics).data] == [2, 2, 2, 2]
    assert figure(loss).data and figure(lr).data and final == ""
    assert log.endswith("epoch 2 done")
    # these streams never carry gr.skip(): Gradio builds a component for each one it gets
    assert SKIP not in [status, progress, final, loss, metrics, lr, log]
    assert "100.0%" in tab.next("progress")[1]  # the new epoch moved the bar too
    assert tab.quiet("resources")
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


def test_resources_refresh_without_snapshot_changes_and_alert_is_visible(feeds) -> None:
    tab = Tab(feeds(SnapshotBoard(), FakeMonitor(constrained=True), resource_every_s=0.01))
    first = tab.first()
    assert "RAM 90% &gt;= 85% threshold" in first[ALERT]
    resource, alert = tab.next("resources")  # nothing published: only the resources
    assert _ram_percent(resource) == [90.0] and "Resource alert" in alert
    assert [t.name for t in figure(resource).data][-1] == "alert"
    assert tab.quiet("progress") and tab.quiet("charts")
    tab.close()


class CountingBoard:
    """A SnapshotBoard whose ``wait_for_change`` counts how often the feed woke up."""

    def __init__(self) -> None:
        self.board = SnapshotBoard()
        self.wakes = 0

    def wait_for_change(self, version, timeout_s, major_only=False):
        snap = self.board.wait_for_change(version, timeout_s, major_only)
        self.wakes += 1
        return snap


def test_batch_progress_wakes_the_feed_once_per_interval_and_a_new_epoch_at_once(feeds) -> None:
    counting = CountingBoard()
    board = counting.board
    board.publish(state=JobState.TRAINING, epochs=3, batches=40, history=_epochs(1))
    tab = Tab(feeds(counting, progress_every_s=0.5, resource_every_s=3600))
    tab.first()
    counting.wakes = 0
    for i in range(1, 41):  # 40 batches inside the 0.5 s hold
        board.publish(batch_i=i)
        time.sleep(0.005)
    assert "batch 40/40" in tab.next("progress")[1]
    assert counting.wakes == 1  # not once per batch
    tab.close()

    slow = Tab(feeds(counting, progress_every_s=3600, resource_every_s=3600))
    slow.first()
    board.publish(batch_i=1)
    threading.Timer(0.1, lambda: board.publish(history=_epochs(2), epoch=2)).start()
    metrics = slow.next("charts", 10)[2]  # the new epoch does not wait for the hour's hold
    assert [len(t.x) for t in figure(metrics).data] == [2, 2, 2, 2]
    slow.close()


def _counted_groups(builds: list[int]):
    """One stream, "state", of one output (the job state), counting how often it is built."""
    def groups(snap, tick):
        return {"state": [(snap.state,
                           lambda: builds.append(snap.version) or [snap.state.value])]}
    return groups


def _feed_threads(feed: MonitorFeed) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == feed.thread_name]


def test_twenty_tabs_share_one_thread_one_wait_and_one_build_per_change() -> None:
    counting, builds = CountingBoard(), []
    feed = MonitorFeed(counting, _counted_groups(builds), min_interval_s=0,
                       resource_every_s=3600, progress_every_s=0)
    tabs = [Tab(feed, ("state",)) for _ in range(20)]
    try:
        assert [tab.next("state") for tab in tabs] == [["IDLE"]] * 20
        assert len(_feed_threads(feed)) == 1
        counting.wakes = 0
        counting.board.publish(state=JobState.TRAINING)
        assert [tab.next("state") for tab in tabs] == [["TRAINING"]] * 20
        assert builds == [0, 1]  # once per change, not once per tab
        assert counting.wakes == 1  # one wait on the manager, not one per tab
    finally:
        for tab in tabs:
            tab.close()
        feed.close()


def test_a_tab_that_falls_behind_gets_the_newest_state() -> None:
    board = SnapshotBoard()
    feed = MonitorFeed(board, _counted_groups([]), min_interval_s=0, resource_every_s=3600,
                       progress_every_s=0)
    tab = Tab(feed, ("state",))
    assert tab.next("state") == ["IDLE"]
    board.publish(state=JobState.TRAINING)
    board.publish(state=JobState.COMPLETED)
    time.sleep(0.3)  # the feed publishes both while the tab is not reading
    assert tab.next("state") == ["COMPLETED"]
    tab.close()
    feed.close()


def test_the_thread_ends_with_the_last_tab_and_a_new_tab_starts_it_again() -> None:
    board = SnapshotBoard()
    feed = MonitorFeed(board, _counted_groups([]), min_interval_s=0, resource_every_s=0.05)
    assert _feed_threads(feed) == []  # nothing runs before a tab listens
    first = Tab(feed, ("state",))
    first.next("state")
    thread = _feed_threads(feed)[0]
    first.close()
    thread.join(2)
    assert not thread.is_alive() and _feed_threads(feed) == []
    board.publish(state=JobState.TRAINING)
    again = Tab(feed, ("state",))
    assert again.next("state") == ["TRAINING"]  # a fresh first frame, not the stale one
    again.close()
    feed.close()


def test_close_ends_every_stream() -> None:
    feed = MonitorFeed(SnapshotBoard(), _counted_groups([]), min_interval_s=0,
                       resource_every_s=3600)
    tab = Tab(feed, ("state",))
    tab.next("state")
    threading.Timer(0.1, feed.close).start()
    with pytest.raises(StopAsyncIteration):
        tab.next("state")
    tab.pending.clear()
    tab.close()


def test_a_frame_that_fails_to_draw_is_retried_and_the_tabs_keep_following(
        caplog, monkeypatch) -> None:
    monkeypatch.setattr("yolo_studio.ui.monitor_feed.RETRY_S", 0.01)
    board, calls = SnapshotBoard(), []

    def groups(snap, tick):
        calls.append(snap.version)
        if len(calls) == 1:
            raise OSError("queue.json: resource temporarily unavailable")
        return {"state": [(snap.state, lambda: [snap.state.value])]}

    feed = MonitorFeed(board, groups, min_interval_s=0, resource_every_s=3600)
    tab = Tab(feed, ("state",))
    try:
        assert tab.next("state") == ["IDLE"]
        board.publish(state=JobState.TRAINING)
        assert tab.next("state") == ["TRAINING"]
        assert "drawing snapshot 0 failed" in caplog.text
    finally:
        tab.close()
        feed.close()


def test_a_stream_with_nothing_new_sends_skips_after_the_keepalive() -> None:
    """Gradio notices a page that went away only when it sends to it."""
    feed = MonitorFeed(SnapshotBoard(), _counted_groups([]), min_interval_s=0,
                       resource_every_s=3600, keepalive_s=0.2)
    tab = Tab(feed, ("state",))
    try:
        assert tab.next("state") == ["IDLE"]
        assert tab.next("state", timeout_s=5) == [SKIP]
    finally:
        tab.close()
        feed.close()


def test_a_closing_tab_is_cancelled_even_when_its_frame_arrives_at_that_moment() -> None:
    """Gradio cancels a page's stream tasks when it closes; a frame delivered in the same
    loop step must not swallow that (``asyncio.wait_for`` on Python 3.11 did)."""
    board = SnapshotBoard()
    feed = MonitorFeed(board, _counted_groups([]), min_interval_s=0, resource_every_s=3600)

    async def scenario() -> list:
        streams = [feed.updates("state") for _ in range(50)]
        for stream in streams:
            await anext(stream)  # the first frame: IDLE
        tasks = [asyncio.ensure_future(anext(stream)) for stream in streams]
        await asyncio.sleep(0.1)  # every task now waits for the next frame
        board.publish(state=JobState.TRAINING)
        time.sleep(0.3)  # the loop is held: the frame's delivery is queued, not yet run
        loop = asyncio.get_running_loop()
        # the pages close right after the frame reached the streams' waits, before the
        # streams themselves ran again: the cancel lands on a wait that has its result
        loop.call_soon(loop.call_soon, lambda: [task.cancel() for task in tasks])
        return await asyncio.gather(*tasks, return_exceptions=True)

    try:
        results = asyncio.run(scenario())
    finally:
        feed.close()
    assert all(isinstance(r, asyncio.CancelledError) for r in results), \
        f"{sum(not isinstance(r, asyncio.CancelledError) for r in results)} of 50 kept going"
