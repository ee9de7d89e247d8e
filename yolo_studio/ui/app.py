"""The studio's Gradio Blocks: Train, Monitor and Models tabs and the wiring between them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Hashable
from typing import Any

import gradio as gr

from ..training.snapshot import TrainingSnapshot
from . import (batch_preview, demo_app, jobs_panel, live_chart, models_tab, monitor_feed,
               monitor_follow, monitor_tab, train_tab)

TITLE = "YOLO Studio"
#: The feed's stream for the Train tab's job table, the finished-job key and the job
#: selector's choices (``stream_groups``).
JOBS_STREAM = "jobs"
#: The monitor feed's streams: one never-ending page-load event each, per open page.
STREAMS = (monitor_tab.STREAM, JOBS_STREAM)
#: Pages that can be open at once. Each holds one of Gradio's queue slots per stream for as
#: long as it is open; Gradio's default of 40 slots in all would let a few pages' streams take
#: every slot and lock the app.
MAX_PAGES = 100
#: For ``launch(max_threads=...)``: the slots of ``MAX_PAGES`` pages' streams plus Gradio's
#: default 40 for every other event (it also caps the threads sync handlers may use at once).
MAX_THREADS = MAX_PAGES * len(STREAMS) + 40
#: Seconds Gradio's queue sleeps between looks for a new event while it has none. Gradio's
#: default, 1 ms, keeps the server's event loop busy for as long as the studio runs, with or
#: without a page open, on the cores that training (in its worker process) uses too
#: (``bench/serving.py`` measures it). A click's event starts at most this much later.
QUEUE_POLL_S = 0.02
#: Seconds between the queue's looks for ``gr.Progress`` updates (its default: 10 ms, over
#: every queue slot); the studio sends none.
PROGRESS_POLL_S = 0.2


def build_app(manager: Any, monitor: Any = None, access: Any = None) -> gr.Blocks:
    """Build the studio UI around a started TrainingManager and an optional ResourceMonitor.

    Every page load starts two streams (async generators over the app's one ``MonitorFeed``,
    which follows the manager's snapshots in a single thread, see ``stream_groups``): the
    Monitor tab's, one update per change for all its outputs (over the feed of the job the
    page follows, ``monitor_follow.Follows``, when it picked one), and the job table's, apart
    because a Dataframe restyles its columns at every update, even of an unchanged value. They
    run with unlimited concurrency, so watching tabs never delay Start or Cancel, which also
    run with ``concurrency_limit=None`` (they only enqueue or flag; the manager does the
    work).

    Args:
        manager: ``TrainingManager`` (already started).
        monitor: ``ResourceMonitor`` (started) or None to hide resource figures.
        access: ``hosting.ServerAccess`` (weights upload, server-folder import, the notices);
            None = off. With ``access.demo`` the read-only demo is built instead
            (``demo_app.build``: no Train or Monitor tab, no action that changes anything).

    Returns:
        The Blocks; call ``queued(blocks).launch(max_threads=MAX_THREADS, ...)`` on it.
    """
    if access is not None and access.demo:
        return demo_app.build(manager, access, TITLE)
    with gr.Blocks(title=TITLE) as demo:
        gr.Markdown(f"# {TITLE}\nTrain Ultralytics YOLO detectors on your datasets.")
        live_chart.plotly_preloader()  # the Monitor's charts draw with Plotly
        if access is not None and access.storage_note:
            gr.Markdown(access.storage_note, elem_id="storage-note")
        finished = gr.State("")  # "<job_id>:<dataset>" of the last COMPLETED job seen
        with gr.Tabs(elem_id="tabs"):
            with gr.Tab("Train", id="train", elem_id="tab-train"):
                train = train_tab.build(manager, access)
            # rendered while hidden, so the streams' first updates (the whole history) are
            # not dropped when the page opens on another tab
            with gr.Tab("Monitor", id="monitor", elem_id="tab-monitor",
                        render_children=True) as monitor_tab_block:
                mon = monitor_tab.build()
                batch_preview.build(manager, train.training_flag, mon.follow)
            with gr.Tab("Models", id="models", elem_id="tab-models") as models_tab_block:
                models = models_tab.build(manager)
        _wire(demo, manager, monitor, train, mon, models, finished,
              {"monitor": monitor_tab_block, "models": models_tab_block})
    return demo


def queued(demo: gr.Blocks) -> gr.Blocks:
    """``demo.queue()``, with its idle polling at ``QUEUE_POLL_S`` and ``PROGRESS_POLL_S``.

    Gradio has no public setting for them: the queue's ``sleep_when_free`` and
    ``progress_update_sleep_when_free`` are raised to them (Gradio reads them on every loop;
    a slower default, as on Windows, is kept), where they exist; a Gradio without them keeps
    its own pace (tests/ui/test_tabs.py checks the installed one has and reads them).

    Returns:
        ``demo``, for ``.launch(...)``.
    """
    demo.queue()
    queue = getattr(demo, "_queue", None)
    for name, seconds in (("sleep_when_free", QUEUE_POLL_S),
                          ("progress_update_sleep_when_free", PROGRESS_POLL_S)):
        if hasattr(queue, name):
            setattr(queue, name, max(getattr(queue, name), seconds))
    return demo


def stream_groups(manager: Any, monitor: Any, jobs_table: gr.Dataframe
                  ) -> monitor_feed.Groups:
    """The monitor feed's streams: the Monitor tab's (``monitor_tab.feed_groups``) and "jobs":
    the Train tab's job table (in the form Gradio sends, ``jobs_panel.table_payload`` of
    ``jobs_table``), the finished-job key (``"<job_id>:<dataset>"`` of the newest COMPLETED
    job, ``""`` before one: ``last_completed``, which the next job's snapshots keep, so a
    frame that skips the COMPLETED snapshot still tells) and the job selector's choices
    (``jobs_panel.job_choices``, into a State whose change refills the selector:
    ``jobs_panel.refresh_choices_on``), rebuilt when the queue or the job's state changes.
    Plain values only: Gradio rebuilds a whole component for a component update (and a
    ``gr.skip()``) on every page, far more work than a plain value. For that reason too the
    Cancel buttons are never disabled (a Cancel with nothing training says so): they look
    inactive through CSS keyed on the stream's fourth value, the Train tab's training flag
    (``monitor_tab.training_flag``, a plain string rebuilt with the job table).

    Args:
        manager: The TrainingManager; its ``jobs()`` and ``queue.path`` are read.
        monitor: The ResourceMonitor, or None.
        jobs_table: The Train tab's job table (its ``postprocess`` shapes the rows).

    Returns:
        ``groups(snapshot, resource tick)`` for ``MonitorFeed``. It reads the job queue file
        when the snapshot's (state, queue revision, job) or the file's modification time or
        size changed (another process may write it), and raises what ``manager.jobs()``
        raises (the feed logs it and tries again).
    """
    monitor_groups = monitor_tab.feed_groups(monitor)
    queue = _QueueView(manager)

    def groups(snap: TrainingSnapshot, tick: int) -> dict[str, list[monitor_feed.Group]]:
        done = ":".join(snap.last_completed) if snap.last_completed else ""
        key, jobs = queue.read(snap)
        return {**monitor_groups(snap, tick),
                JOBS_STREAM: [((key, done),
                               lambda: [jobs_panel.table_payload(jobs_table, jobs,
                                                                 manager.models), done,
                                        jobs_panel.job_choices(jobs),
                                        monitor_tab.training_flag(snap)])]}
    return groups


class _QueueView:
    """The manager's jobs, read from the queue file again only when it may have changed."""

    def __init__(self, manager: Any) -> None:
        self._manager = manager
        self._key: Hashable = None
        self._jobs: list[Any] = []

    def read(self, snap: TrainingSnapshot) -> tuple[Hashable, list[Any]]:
        """(what the jobs were read for, the jobs): read again when the snapshot's (state,
        queue revision, job) or the queue file's (modification time in ns, size in bytes)
        differ from the last read's. Raises what ``manager.jobs()`` raises; the next call
        then reads again."""
        try:
            stat = self._manager.queue.path.stat()
            stamp: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            stamp = None
        key = (snap.state, snap.queue_rev, snap.job_id, stamp)
        if key != self._key:
            self._jobs = self._manager.jobs()
            self._key = key
        return self._key, self._jobs


def _follower(feed: monitor_feed.MonitorFeed, stream: str) -> Any:
    """The page-load event function following ``stream`` (named ``follow_<stream>``). Every
    stream has several outputs: Gradio would take a lone output's value bare, not in a list."""
    async def follow() -> AsyncIterator[list[Any]]:
        async for item in feed.updates(stream):
            yield item
    follow.__name__ = follow.__qualname__ = f"follow_{stream}"
    return follow


def _monitor_follower(follows: monitor_follow.Follows) -> Any:
    """The page-load event function of the Monitor's stream (``follow_monitor``): the feed of
    the job the page follows (``Follows.updates``), the page told apart by its session."""
    async def follow_monitor(request: gr.Request) -> AsyncIterator[list[Any]]:
        session = getattr(request, "session_hash", None)
        async for item in follows.updates(session, monitor_tab.STREAM):
            yield item
    return follow_monitor


def _wire(demo: gr.Blocks, manager: Any, monitor: Any, train: train_tab.TrainTab,
          mon: monitor_tab.MonitorTab, models: models_tab.ModelsTab, finished: gr.State,
          tab_blocks: dict[str, gr.Tab]) -> None:
    choices = gr.State([])  # the job selector's choices, from the jobs stream
    jobs_panel.refresh_choices_on(choices, train.job_select)
    feed = monitor_feed.MonitorFeed(manager, stream_groups(manager, monitor, train.jobs_table))
    follows = monitor_follow.Follows(manager, feed, monitor_tab.feed_groups(monitor))
    streams = {monitor_tab.STREAM: (_monitor_follower(follows), mon.outputs),
               JOBS_STREAM: (_follower(feed, JOBS_STREAM),
                             [train.jobs_table, finished, choices, train.training_flag])}
    for follow, outputs in streams.values():  # values are sent as the feed built them
        demo.load(follow, None, outputs, postprocess=False,
                  concurrency_limit=None, concurrency_id="monitor-stream",
                  show_progress="hidden", api_visibility="private")

    def on_load() -> list[Any]:
        names = models_tab.dataset_choices(manager)
        models_value = gr.Dropdown(choices=names, value=names[0] if names else None)
        follow = gr.Dropdown(choices=monitor_follow.follow_choices(manager),
                             value=monitor_follow.NEWEST)
        return [*train_tab.load_values(manager), models_value, follow]

    def on_finished(key: str, selected: str | None, sort: str | None) -> list[Any]:
        dataset = key.split(":", 1)[1] if ":" in key else None
        if not dataset:
            return [gr.skip(), *[gr.skip()] * len(models.refresh_outputs)]
        names = models_tab.dataset_choices(manager)
        return [gr.Dropdown(choices=names, value=dataset),
                *models_tab.refresh(manager, dataset, selected, sort)]

    demo.load(on_load, None, [*train.load_outputs, models.dataset, mon.follow],
              concurrency_limit=None, api_visibility="private")
    wait_for_list, fill_base_models = train_tab.base_model_loads(manager)
    demo.load(wait_for_list, None, None, concurrency_limit=None, api_visibility="private",
              show_progress="hidden").then(
        fill_base_models, train.base_model, train.base_model, concurrency_limit=None,
        api_visibility="private", show_progress="hidden")
    train.dataset_added.change(  # an imported dataset appears in the Models tab's list too
        lambda _name: gr.Dropdown(choices=models_tab.dataset_choices(manager)),
        train.dataset_added, models.dataset, concurrency_limit=None, api_visibility="private")
    finished.change(on_finished, [finished, models.model, models.sort], [models.dataset,
                    *models.refresh_outputs], concurrency_limit=None, api_visibility="private")
    tab_blocks["models"].select(lambda d, m, s: models_tab.refresh(manager, d, m, s),
                            models.refresh_inputs, models.refresh_outputs,
                            concurrency_limit=None, api_visibility="private")
    _wire_follow(manager, follows, mon, tab_blocks["monitor"], train.jobs_table)


def _wire_follow(manager: Any, follows: monitor_follow.Follows, mon: monitor_tab.MonitorTab,
                 tab: gr.Tab, jobs_table: gr.Dataframe) -> None:
    """The Monitor's Follow list (its choices refreshed when the tab is selected and by its
    button; a pick moves this page's stream) and Cancel (of the followed job)."""
    def refresh_follow(value: str | None, request: gr.Request) -> gr.Dropdown:
        choices = monitor_follow.follow_choices(manager)
        if value not in [job for _, job in choices]:  # dropped by the studio: the newest
            value = monitor_follow.NEWEST
            follows.pick(getattr(request, "session_hash", None), None)
        return gr.Dropdown(choices=choices, value=value)

    def pick_job(value: str | None, request: gr.Request) -> None:
        follows.pick(getattr(request, "session_hash", None), monitor_follow.job_of(value))

    private = {"concurrency_limit": None, "api_visibility": "private",
               "show_progress": "hidden"}
    for trigger in (tab.select, mon.follow_refresh.click):
        trigger(refresh_follow, mon.follow, mon.follow, **private)
    mon.follow.change(pick_job, mon.follow, None, **private)
    mon.cancel_btn.click(train_tab.cancel_handler(manager), mon.follow, jobs_table,
                         **private)
