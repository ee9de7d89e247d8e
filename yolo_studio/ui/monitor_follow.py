"""Which job each page's Monitor follows: the newest running job (the app's one ``MonitorFeed``
over the manager's main board) or one job picked in the Monitor's Follow list (a
``MonitorFeed`` of that job's own snapshots, made when a page first follows it).

The design of ``monitor_feed`` holds per job: one thread per followed job builds its frames
for every page following it, and ends when no page does; pages only await frames. A page's
Monitor keeps its one never-ending stream (``Follows.updates``): a pick ends the stream's
follow of one feed (a per-page future, ``MonitorFeed.updates``' ``until``) and the same stream
goes on over the picked job's feed, whose first frame is the job's whole state. Other pages
are not affected. No Gradio here: pages are told apart by the session id the UI passes
(Gradio's ``session_hash``).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Hashable
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from ..errors import NotFoundError
from ..training.snapshot import TrainingSnapshot
from .monitor_feed import Groups, MonitorFeed

#: The Follow list's value for "the newest running job" (the default).
NEWEST = "newest"
#: Its label.
NEWEST_LABEL = "Newest running job"
#: Seconds a feed of a job the studio no longer keeps waits between two looks.
GONE_WAIT_S = 0.5


def gone_snapshot(job_id: str) -> TrainingSnapshot:
    """What the Monitor shows for a followed job whose snapshots the studio dropped (it keeps
    those of the ``runs.KEEP_BOARDS`` newest jobs). Its version, -1, never changes."""
    return TrainingSnapshot(version=-1, job_id=job_id, log=(
        f"Job {job_id} is no longer kept by the studio (only recent jobs are); pick another "
        "job to follow.",))


class JobView:
    """One job's snapshots with the manager's ``wait_for_change`` signature (what a
    ``MonitorFeed`` follows), the job bound.

    Args:
        manager: The TrainingManager (``wait_for_change(..., job_id=...)``).
        job_id: A running or recent job.
    """

    def __init__(self, manager: Any, job_id: str) -> None:
        self.manager, self.job_id = manager, job_id

    def wait_for_change(self, version: int, timeout_s: float,
                        major_only: bool = False) -> TrainingSnapshot:
        """``manager.wait_for_change`` of this job. Once the studio no longer keeps the job's
        snapshots: ``gone_snapshot`` (a change from any other ``version``; from its own, -1,
        after ``min(timeout_s, GONE_WAIT_S)`` seconds, so the feed does not spin)."""
        try:
            return self.manager.wait_for_change(version, timeout_s, major_only,
                                                job_id=self.job_id)
        except NotFoundError:
            if version == -1:
                time.sleep(min(max(timeout_s, 0.0), GONE_WAIT_S))
            return gone_snapshot(self.job_id)


@dataclass
class _Page:
    """One page's Monitor: the job it follows (None: the newest) and the future that ends its
    current follow, with that future's loop."""

    job_id: str | None = None
    switch: asyncio.Future | None = None
    loop: asyncio.AbstractEventLoop | None = None


class Follows:
    """The pages' picks and the feeds of picked jobs.

    Args:
        manager: The TrainingManager (``recent_jobs``, per-job ``wait_for_change``).
        main: The app's feed of the main board (the newest running job).
        groups: The frame's groups of a job's feed (the Monitor's stream alone).
        feed_options: ``MonitorFeed`` keyword options for the jobs' feeds.
    """

    def __init__(self, manager: Any, main: MonitorFeed, groups: Groups,
                 **feed_options: Any) -> None:
        self._manager, self._main, self._groups = manager, main, groups
        self._feed_options = feed_options
        self._lock = threading.Lock()
        self._feeds: dict[str, MonitorFeed] = {}
        self._pages: dict[Hashable, _Page] = {}

    def feed(self, job_id: str | None) -> MonitorFeed:
        """The feed of ``job_id`` (made now if none; feeds of jobs the studio dropped and no
        page follows are dropped then), or the main feed for None."""
        if job_id is None:
            return self._main
        with self._lock:
            feed = self._feeds.get(job_id)
            if feed is None:
                recent = set(self._manager.recent_jobs())
                for old in [j for j, f in self._feeds.items()
                            if j not in recent and not f.following]:
                    del self._feeds[old]
                feed = self._feeds[job_id] = MonitorFeed(JobView(self._manager, job_id),
                                                         self._groups, **self._feed_options)
            return feed

    def picked(self, session: str | None) -> str | None:
        """The job the page ``session`` follows; None: the newest running job."""
        with self._lock:
            page = self._pages.get(session) if session else None
            return None if page is None else page.job_id

    def pick(self, session: str | None, job_id: str | None) -> None:
        """Make the page ``session``'s Monitor follow ``job_id`` (None: the newest running
        job); its stream moves to that job's feed at once. Thread-safe."""
        if not session:
            return
        with self._lock:
            page = self._pages.setdefault(session, _Page())
            if page.job_id == job_id:
                return
            page.job_id = job_id
            switch, loop = page.switch, page.loop
        if switch is not None and loop is not None:
            try:
                loop.call_soon_threadsafe(_resolve, switch)
            except RuntimeError:  # that loop is closed: the page is gone
                pass

    async def updates(self, session: str | None, stream: str) -> AsyncIterator[list[Any]]:
        """The page ``session``'s one Monitor stream: ``MonitorFeed.updates(stream)`` of the
        feed of the job it follows, moving to another feed whenever it picks another job.
        Runs until cancelled or the feed is closed; the page's pick is forgotten then."""
        loop = asyncio.get_running_loop()
        key: Hashable = session or object()  # a page without a session follows the newest
        try:
            while True:
                with self._lock:
                    page = self._pages.setdefault(key, _Page())
                    page.switch, page.loop = loop.create_future(), loop
                    job_id, switch = page.job_id, page.switch
                async with aclosing(self.feed(job_id).updates(stream, switch)) as updates:
                    async for update in updates:
                        yield update
                if not switch.done():  # the feed was closed
                    return
        finally:
            with self._lock:
                self._pages.pop(key, None)


def _resolve(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


def job_of(value: str | None) -> str | None:
    """The job id a Follow value names; None for ``NEWEST`` (or no value)."""
    return None if not value or value == NEWEST else value


def follow_label(snap: TrainingSnapshot) -> str:
    """A job's label in the Follow list: ``"<dataset> / <model> · <STATE> · <node>"``."""
    node = snap.node or "node not known yet"
    return f"{snap.dataset} / {snap.model_name} · {snap.state.value} · {node}"


def follow_choices(manager: Any) -> list[tuple[str, str]]:
    """The Follow list: ``(NEWEST_LABEL, NEWEST)``, then each running or recent job
    (``manager.recent_jobs()``, newest first) as ``(follow_label, job id)``."""
    choices = [(NEWEST_LABEL, NEWEST)]
    for job_id in manager.recent_jobs():
        try:
            choices.append((follow_label(manager.snapshot(job_id)), job_id))
        except NotFoundError:  # dropped since the list was read
            continue
    return choices
