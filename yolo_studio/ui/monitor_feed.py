"""One feed for every open page's live outputs: a single thread follows the manager's snapshots and
publishes frames; each tab's stream is an async generator awaiting them on Gradio's event loop.

The number of threads and of waits on the manager does not grow with the tabs: one feed thread
waits, builds each frame's values once, and hands the frame to the event loops the tabs run on;
a tab only compares keys and yields. The thread is a daemon: the app never closes the feed, and
it ends on its own within ``RESOURCE_EVERY_S`` seconds of the last tab leaving. The app has one
feed of the newest running job, and one more per job that a page picked in the Monitor's Follow
list (``monitor_follow``), each with its one thread while followed.

A frame holds named *streams* (one Gradio event each per tab), each a list of *groups*:
``(key, make)`` pairs where ``make()`` returns the values of a few consecutive outputs. A
group's values are rebuilt only when its key changes; a tab's stream yields only when one of
its groups' keys differs from what it sent last, and then yields every group's values, the
unchanged ones as the very objects it sent before. Gradio diffs each streamed value against
the page's last one, so an unchanged value goes as an empty diff and the page redraws nothing
(seen in Chromium: no DOM change for a Plot, Markdown, HTML or Textbox; a Dataframe only
restyles its column widths). No ``gr.skip()`` is ever sent: Gradio builds a whole component
for each skip it processes, on every page, far more work than an update of plain values.
Groups share streams rather than each having one: Gradio's cost per message (its queue, the
SSE message, the socket write) is most of what a watching page costs the server, so the
Monitor tab has a single stream (``bench/monitoring.py`` measures the pages' cost). Batch
progress alone goes about once a second to every tab, however many listen.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Hashable
from dataclasses import dataclass
from typing import Any

from ..training.snapshot import TrainingSnapshot

#: Seconds between resource-chart refreshes (the monitor samples at about 1 Hz); a frame
#: that goes out for progress takes them along when they are due within half a progress
#: interval, so during a run they go every 1.5-2 s.
RESOURCE_EVERY_S = 2.0
#: Minimum seconds between two frames: coalesces bursts of changes.
MIN_INTERVAL_S = 0.2
#: Seconds between two frames that carry batch progress alone (a new epoch goes at once).
PROGRESS_EVERY_S = 1.0
#: The start of a feed thread's name (``MonitorFeed.thread_name``).
THREAD_PREFIX = "monitor-feed-"
#: Seconds before the feed tries again after drawing a frame failed.
RETRY_S = 1.0
#: Seconds after which a stream with nothing new sends its last update again. Gradio
#: notices a page that went away without closing (browser killed, laptop asleep) only when it
#: sends to it, and each open stream holds one of its queue slots until then.
KEEPALIVE_S = 15.0

_LOG = logging.getLogger(__name__)
_TIMED_OUT = object()  # what _frame_for returns when no frame came in time

Group = tuple[Hashable, Callable[[], list[Any]]]
#: A frame's streams: stream name -> its groups, from (snapshot, resource tick). The tick
#: increases once per resource refresh, so a group keyed on it is rebuilt then.
Groups = Callable[[TrainingSnapshot, int], dict[str, list[Group]]]


def same(*values: Hashable) -> Group:
    """A group whose values are their own key (cheap values such as status text)."""
    return values, lambda: list(values)


@dataclass(frozen=True)
class Frame:
    """One published state of the live outputs (the Monitor tab's and the Train tab's jobs).

    Attributes:
        keys: Per stream, one key per group; ``values``: per stream, each group's values.
    """

    keys: dict[str, tuple[Hashable, ...]]
    values: dict[str, tuple[tuple[Any, ...], ...]]

    def update(self, stream: str) -> list[Any]:
        """The values of ``stream``'s outputs, group after group, as built (a group kept from
        an earlier frame has its earlier values: the same objects)."""
        return [value for values in self.values[stream] for value in values]


def build_frame(streams: dict[str, list[Group]], previous: Frame | None) -> Frame:
    """A frame of ``streams``' groups, reusing ``previous``'s values of every group whose key
    is unchanged (those are not rebuilt)."""
    keys, values = {}, {}
    for name, groups in streams.items():
        old_keys = previous.keys[name] if previous is not None else None
        keys[name] = tuple(key for key, _ in groups)
        values[name] = tuple(
            previous.values[name][i] if old_keys is not None and old_keys[i] == key
            else tuple(make()) for i, (key, make) in enumerate(groups))
    return Frame(keys, values)


def next_change(manager: Any, last: TrainingSnapshot | None, timeout_s: float,
                progress_every_s: float, last_frame: float) -> TrainingSnapshot:
    """Wait up to ``timeout_s`` seconds for a change worth a frame. Until ``progress_every_s``
    after the last frame only a major change (new epoch, state, error, queue) ends the wait;
    batch progress does not, so the feed wakes about once a second during an epoch. After that,
    any change will do."""
    if last is None:
        return manager.wait_for_change(-1, timeout_s=timeout_s)
    deadline = time.monotonic() + timeout_s
    hold = progress_every_s - (time.monotonic() - last_frame)
    if hold > 0:
        snap = manager.wait_for_change(last.version, timeout_s=min(hold, timeout_s),
                                       major_only=True)
        if snap.version != last.version:  # a major change, or progress now due
            return snap
    return manager.wait_for_change(last.version,
                                   timeout_s=max(0.0, deadline - time.monotonic()))


class MonitorFeed:
    """Follows the manager in one thread while any tab listens; tabs await its frames.

    The thread starts with the first listening tab and ends within ``resource_every_s``
    seconds of the last one leaving, so with no tab open nothing waits on training at all.

    Args:
        manager: The TrainingManager (or anything with its ``wait_for_change``).
        groups: The frame's groups for a snapshot and resource tick (see module docstring).
        resource_every_s: Seconds between resource ticks.
        min_interval_s: Pause after each frame, so bursts of changes coalesce.
        progress_every_s: Seconds between two frames for batch progress alone.
        keepalive_s: Seconds after which a stream with nothing new sends its last update
            again.
    """

    def __init__(self, manager: Any, groups: Groups, *,
                 resource_every_s: float = RESOURCE_EVERY_S,
                 min_interval_s: float = MIN_INTERVAL_S,
                 progress_every_s: float = PROGRESS_EVERY_S,
                 keepalive_s: float = KEEPALIVE_S) -> None:
        self._manager, self._groups = manager, groups
        self._keepalive_s = keepalive_s
        self._resource_every_s = resource_every_s
        self._min_interval_s, self._progress_every_s = min_interval_s, progress_every_s
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self._listening = 0  # open streams, all tabs together
        self._frame: Frame | None = None
        self._waiters: dict[_Waiter, asyncio.AbstractEventLoop] = {}

    @property
    def thread_name(self) -> str:
        """The name of this feed's thread (``monitor-feed-<id>``), while one runs."""
        return f"{THREAD_PREFIX}{id(self):x}"

    async def updates(self, stream: str, until: asyncio.Future | None = None
                      ) -> AsyncIterator[list[Any]]:
        """One stream of one tab: all its outputs at once, then again whenever a group of
        them changed (the unchanged groups as the same objects as before).

        Yields one value per output of ``stream`` (``Frame.update``) whenever a frame changes
        one of its groups, and the same update again after ``keepalive_s`` seconds without
        one; a tab that falls behind gets the newest frame, not every one.
        Runs until cancelled (Gradio does when the tab closes, or at the next update after the
        page went away), the feed is closed, or ``until`` is done.

        Args:
            stream: A stream name the ``groups`` function returns.
            until: A future of the tab's event loop that ends the stream once done (the tab
                then follows another feed: ``monitor_follow``); None = never.
        """
        self._listen(+1)
        try:
            sent, update = None, None
            while until is None or not until.done():
                frame = await self._frame_for(stream, sent, self._keepalive_s, until)
                if frame is _TIMED_OUT:
                    if update is not None:
                        yield update
                    continue
                if frame is None:
                    return
                update = frame.update(stream)
                yield update
                sent = frame.keys[stream]
        finally:
            self._listen(-1)

    @property
    def following(self) -> bool:
        """True while a tab listens (the feed's thread runs, or is about to)."""
        with self._lock:
            return self._listening > 0

    def close(self) -> None:
        """Stop the thread and end every tab's stream."""
        self._closed.set()
        self._publish(None)

    def _listen(self, delta: int) -> None:
        with self._lock:
            self._listening += delta
            if (self._thread is None and self._listening > 0
                    and not self._closed.is_set()):
                self._thread = threading.Thread(target=self._run, name=self.thread_name,
                                                daemon=True)
                self._thread.start()

    async def _frame_for(self, stream: str, sent: tuple[Hashable, ...] | None,
                         timeout_s: float, until: asyncio.Future | None = None) -> Any:
        """The current frame once its keys of ``stream`` differ from ``sent``; None when the
        feed is closed or ``until`` is done; ``_TIMED_OUT`` after ``timeout_s`` seconds
        without one.

        Waits with ``asyncio.wait``, not ``wait_for``: on Python 3.11 ``wait_for`` can swallow
        the task's cancellation when the frame arrives at the same moment, and Gradio cancels
        a stream's task when its page closes."""
        loop = asyncio.get_running_loop()
        waiter = _Waiter(loop.create_future(), stream, sent)
        with self._lock:
            if self._closed.is_set():
                return None
            if self._frame is not None and waiter.wants(self._frame):
                return self._frame
            self._waiters[waiter] = loop
        try:
            done, _ = await asyncio.wait({waiter.future} if until is None
                                         else {waiter.future, until}, timeout=timeout_s,
                                         return_when=asyncio.FIRST_COMPLETED)
            if waiter.future in done:
                return waiter.future.result()
            return None if done else _TIMED_OUT
        finally:
            with self._lock:
                self._waiters.pop(waiter, None)

    def _publish(self, frame: Frame | None) -> None:
        """Make ``frame`` current and wake the tabs it changes something for (every tab when
        None: the feed closed), with one call per event loop."""
        by_loop: dict[asyncio.AbstractEventLoop, list[_Waiter]] = {}
        with self._lock:
            self._frame, keep = frame, {}
            for waiter, loop in self._waiters.items():
                if frame is None or waiter.wants(frame):
                    by_loop.setdefault(loop, []).append(waiter)
                else:
                    keep[waiter] = loop
            self._waiters = keep
        for loop, waiters in by_loop.items():
            try:
                loop.call_soon_threadsafe(_resolve, waiters, frame)
            except RuntimeError:  # that loop is closed: its tabs are gone
                pass

    def _run(self) -> None:
        frame: Frame | None = None
        seen: TrainingSnapshot | None = None  # the last snapshot looked at, shown or not
        last_frame = last_resource = float("-inf")
        tick = 0
        while not self._closed.is_set():
            with self._lock:
                if self._listening <= 0:  # the last tab left: stop following
                    self._thread, self._frame = None, None
                    return
            wait_s = max(0.0, self._resource_every_s - (time.monotonic() - last_resource))
            snap = next_change(self._manager, seen, wait_s, self._progress_every_s, last_frame)
            changed = seen is None or snap.version != seen.version
            # a frame going out anyway takes resources due within half a progress interval
            # along (no extra wake-up for them), so while a run goes they are refreshed every
            # 1.5-2 s, not with every progress frame: the resource chart is the biggest update
            # every page gets
            early = self._progress_every_s / 2 if changed else 0.0
            if time.monotonic() - last_resource >= self._resource_every_s - early:
                tick, last_resource = tick + 1, time.monotonic()
            try:
                new = build_frame(self._groups(snap, tick), frame)
            except Exception:  # e.g. queue.json unreadable: keep every tab's monitoring alive
                _LOG.exception("Monitor feed: drawing snapshot %s failed; retrying in %s s",
                               snap.version, RETRY_S)
                self._closed.wait(RETRY_S)
                continue  # ``seen`` unchanged: the same snapshot is tried again at once
            seen = snap
            if frame is not None and new.keys == frame.keys:
                continue  # a change no tab shows
            frame, last_frame = new, time.monotonic()
            self._publish(frame)
            self._closed.wait(self._min_interval_s)


@dataclass(frozen=True, eq=False)  # compared and hashed by identity
class _Waiter:
    """A tab's stream waiting for a frame that changes one of its groups."""

    future: asyncio.Future
    stream: str
    sent: tuple[Hashable, ...] | None

    def wants(self, frame: Frame) -> bool:
        return self.sent is None or frame.keys[self.stream] != self.sent


def _resolve(waiters: list[_Waiter], frame: Frame | None) -> None:
    for waiter in waiters:
        if not waiter.future.done():
            waiter.future.set_result(frame)
