"""The Monitor feed: one thread, one wait and one build per change however many tabs watch;
the thread's life, keep-alives, failures and cancellation."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from feed_tabs import SKIP, CountingBoard, Tab

from yolo_studio.training.progress import SnapshotBoard
from yolo_studio.training.snapshot import JobState
from yolo_studio.ui.monitor_feed import MonitorFeed


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
    slow, quick = Tab(feed, ("state",)), Tab(feed, ("state",))
    assert slow.next("state") == quick.next("state") == ["IDLE"]
    board.publish(state=JobState.TRAINING)
    assert quick.next("state") == ["TRAINING"]  # a frame the slow tab never read
    board.publish(state=JobState.COMPLETED)
    assert quick.next("state") == ["COMPLETED"]
    assert slow.next("state") == ["COMPLETED"]  # the newest, not the missed TRAINING first
    for tab in (slow, quick):
        tab.close()
    feed.close()


def test_resources_keep_their_own_pace_while_progress_frames_go_out() -> None:
    """Frames for batch progress take the resource refresh along only when it is due within
    half a progress interval, so the resource chart (the biggest update) goes out once per
    ``resource_every_s``, not with every progress frame as before."""
    board, ticks = SnapshotBoard(), []

    def groups(snap, tick):
        return {"progress": [(snap.batch_i, lambda: [snap.batch_i])],
                "resources": [(tick, lambda: ticks.append(tick) or [tick])]}
    feed = MonitorFeed(board, groups, min_interval_s=0, resource_every_s=0.4,
                       progress_every_s=0.2)
    tab = Tab(feed, ("progress",))
    tab.next("progress")
    started = time.monotonic()
    try:
        for batch in range(1, 41):  # 2 s of batch progress, one every 0.05 s
            board.publish(batch_i=batch)
            time.sleep(0.05)
    finally:
        tab.close()
        feed.close()
    seconds = time.monotonic() - started
    assert 2 <= len(ticks) <= seconds / 0.4 + 2  # one every 0.4 s, not one per 0.2 s frame


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


def test_a_stream_with_nothing_new_sends_its_last_update_again_after_the_keepalive() -> None:
    """Gradio notices a page that went away only when it sends to it; the same values are
    cheap to send (empty diffs) and change nothing on the page, where skips cost Gradio a
    component each."""
    feed = MonitorFeed(SnapshotBoard(), _counted_groups([]), min_interval_s=0,
                       resource_every_s=3600, keepalive_s=0.2)
    tab = Tab(feed, ("state",))
    try:
        first = tab.next("state")
        again = tab.next("state", timeout_s=5)
        assert first == ["IDLE"] and all(a is b for a, b in zip(again, first, strict=True))
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
        deadline = time.monotonic() + 10
        while feed._waiters and time.monotonic() < deadline:  # noqa: SLF001
            time.sleep(0.01)  # the loop is held: the frame's delivery is queued, not yet run
        assert not feed._waiters, "the feed did not deliver the frame"  # noqa: SLF001
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


def test_a_stream_of_two_groups_sends_the_unchanged_one_as_it_was() -> None:
    board, builds = SnapshotBoard(), []

    def groups(snap, tick):
        def epoch() -> list[str]:
            builds.append(snap.epoch)
            return [f"epoch {snap.epoch}"]
        return {"both": [(snap.state, lambda: [snap.state.value]), (snap.epoch, epoch)]}

    feed = MonitorFeed(board, groups, min_interval_s=0, resource_every_s=3600)
    tab = Tab(feed, ("both",))
    try:
        first = tab.next("both")
        assert first == ["IDLE", "epoch 0"]
        board.publish(state=JobState.TRAINING)
        update = tab.next("both")
        assert update == ["TRAINING", "epoch 0"] and update[1] is first[1] and builds == [0]
        board.publish(epoch=1)
        assert tab.next("both") == ["TRAINING", "epoch 1"] and builds == [0, 1]
        assert SKIP not in first + update
    finally:
        tab.close()
        feed.close()
