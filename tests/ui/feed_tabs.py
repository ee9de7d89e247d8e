"""A simulated browser tab over a ``MonitorFeed``, for the Monitor tests."""

from __future__ import annotations

import asyncio

from yolo_studio.training.progress import SnapshotBoard
from yolo_studio.ui import monitor_tab
from yolo_studio.ui.monitor_feed import MonitorFeed

SKIP = {"__type__": "update"}  # what gr.skip() returns
STREAMS = (monitor_tab.STREAM,)


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


class CountingBoard:
    """A SnapshotBoard whose ``wait_for_change`` counts how often the feed woke up."""

    def __init__(self) -> None:
        self.board = SnapshotBoard()
        self.wakes = 0

    def wait_for_change(self, version, timeout_s, major_only=False):
        snap = self.board.wait_for_change(version, timeout_s, major_only)
        self.wakes += 1
        return snap
