"""The Monitor tab: status, progress, live charts, resource chart with alerts, log tail.

One generator per open browser tab (started on page load) follows the manager's immutable
snapshots with ``manager.wait_for_change``; it never touches training state, so any number of tabs
can watch, and a tab opened or reloaded mid-run first draws the whole history.
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import anyio
import gradio as gr

from ..training.snapshot import JobState, TrainingSnapshot
from . import charts
from . import formatting as fmt

#: Seconds between resource-chart refreshes (the monitor samples at about 1 Hz).
RESOURCE_EVERY_S = 2.0
#: Minimum seconds between two yields of one stream: coalesces bursts of changes.
MIN_INTERVAL_S = 0.2
#: Seconds between two yields that carry batch progress alone (a new epoch goes at once).
PROGRESS_EVERY_S = 1.0
#: Threads the monitor streams of all open tabs may block in at once (their own pool, apart
#: from Gradio's, so watchers never hold up Start or Cancel).
STREAM_THREADS = 256


@dataclass
class MonitorTab:
    """The Monitor tab's components; ``outputs`` is the order the stream yields in."""

    status: gr.Markdown
    progress: gr.HTML
    final: gr.Markdown
    loss_plot: gr.Plot
    metrics_plot: gr.Plot
    lr_plot: gr.Plot
    resource_plot: gr.Plot
    alert: gr.HTML
    log: gr.Textbox
    cancel_btn: gr.Button

    @property
    def snapshot_outputs(self) -> list[Any]:
        return [self.status, self.progress, self.final, self.loss_plot, self.metrics_plot,
                self.lr_plot, self.log]

    @property
    def resource_outputs(self) -> list[Any]:
        return [self.resource_plot, self.alert]


def build() -> MonitorTab:
    """Lay out the Monitor tab inside the current ``gr.Tab``."""
    with gr.Row():  # Cancel on the left: notices pop up over the page's top right
        cancel = gr.Button("Cancel", variant="stop", elem_id="monitor-cancel-btn", scale=0,
                           min_width=120)
        status = gr.Markdown("**IDLE**", elem_id="status-text")
    progress = gr.HTML(progress_html(TrainingSnapshot()), elem_id="progress")
    final = gr.Markdown(elem_id="final-text")
    alert = gr.HTML("", elem_id="resource-alert")
    with gr.Row():
        loss_plot = gr.Plot(label="Losses", elem_id="loss-plot")
        metrics_plot = gr.Plot(label="Validation metrics", elem_id="metrics-plot")
    with gr.Row():
        lr_plot = gr.Plot(label="Learning rate", elem_id="lr-plot")
        resource_plot = gr.Plot(label="Resources", elem_id="resource-plot")
    log = gr.Textbox(label="Log (last lines)", lines=15, max_lines=20, interactive=False,
                     elem_id="log-text")
    return MonitorTab(status, progress, final, loss_plot, metrics_plot, lr_plot, resource_plot,
                      alert, log, cancel)


def progress_html(snap: TrainingSnapshot) -> str:
    """A progress bar with the epoch/batch, elapsed, ETA and images/s line under it."""
    percent = 100.0 * fmt.progress_fraction(snap)
    return (f'<div style="width:100%;background:#e5e7eb;border-radius:4px;height:12px">'
            f'<div style="width:{percent:.1f}%;background:#f97316;height:12px;border-radius:4px">'
            f'</div></div><div id="progress-text" style="margin-top:4px">'
            f'{html.escape(fmt.progress_text(snap))}</div>')


def alert_html(statuses: Any) -> str:
    """A visible red box with the alert lines while a threshold is exceeded, else ``""``."""
    text = charts.resource_alert(statuses)
    if not text:
        return ""
    return (f'<div class="resource-alert" style="background:#fee2e2;color:#991b1b;'
            f'border:1px solid #f87171;padding:6px 10px;border-radius:4px">⚠ Resource alert: '
            f'{html.escape(text)}</div>')


class FigureCache:
    """Figures built and serialised once per change and shared by every open tab's stream.

    The charts are figure dicts (about 0.05 ms to build and serialise each, 7-9 KB of JSON); they
    used to be ``go.Figure`` objects at 10-40 ms each, and then 20 open tabs building their own
    copies took visible CPU from training (bench/monitoring.py). Sharing keeps the cost per change,
    not per tab. The values are ``gr.Plot``-ready ``PlotData``. Thread-safe; holds only the
    latest figures.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._charts_key: tuple[Any, ...] | None = None
        self._charts: list[Any] = []
        self._resource_key: tuple[Any, ...] | None = None
        self._resource: list[Any] = []

    def charts(self, snap: TrainingSnapshot) -> list[Any]:
        """[loss, metrics, lr] figures of ``snap`` (built on the first request per change)."""
        final, key = _kept_final(snap), _chart_key(snap)
        with self._lock:
            if key != self._charts_key:
                self._charts = [charts.plot_value(fig) for fig in (
                    charts.loss_figure(snap.history),
                    charts.metrics_figure(snap.history, final, snap.stop_reason),
                    charts.lr_figure(snap.history))]
                self._charts_key = key
            return list(self._charts)

    def resources(self, monitor: Any) -> list[Any]:
        """[resource figure, alert HTML] from the monitor's history (rebuilt when the newest
        sample is in a later ``RESOURCE_EVERY_S`` window than the cached one)."""
        if monitor is None:
            return [charts.plot_value(charts.resource_figure(())), ""]
        latest = monitor.latest()
        # rebuilt at most once per RESOURCE_EVERY_S of samples, however many tabs ask
        stamp = getattr(latest, "timestamp", None)
        key = (id(monitor), None if stamp is None else int(stamp // RESOURCE_EVERY_S))
        with self._lock:
            if key != self._resource_key or latest is None:
                statuses = monitor.history()
                fig = charts.resource_figure(statuses, getattr(monitor, "gpu_threshold", None),
                                             getattr(monitor, "ram_threshold", None))
                self._resource = [charts.plot_value(fig), alert_html(statuses)]
                self._resource_key = key
            return list(self._resource)


def _kept_final(snap: TrainingSnapshot) -> Any:
    """The final result to show: none for a cancelled job (Ultralytics still validated best.pt
    after the stop, but the studio registers nothing)."""
    return None if snap.state is JobState.CANCELLED else snap.final


def _chart_key(snap: TrainingSnapshot) -> tuple[Any, ...]:
    """What the charts are drawn from: equal keys, equal charts."""
    return (snap.job_id, snap.history, _kept_final(snap), snap.stop_reason)


def snapshot_values(snap: TrainingSnapshot, last: TrainingSnapshot | None,
                    cache: FigureCache) -> list[Any]:
    """Values for ``MonitorTab.snapshot_outputs``; charts and log only when they changed."""
    status = f"**{html.escape(fmt.status_line(snap))}**"
    final = charts.final_summary(_kept_final(snap))
    if snap.state is JobState.CANCELLED:
        final = "Cancelled: no model was registered."
    elif snap.stop_reason and snap.state is not JobState.TRAINING:
        final = (final + "  \n" if final else "") + f"Stopped early: {snap.stop_reason}"
    changed = last is None or _chart_key(snap) != _chart_key(last)
    figures = cache.charts(snap) if changed else [gr.skip()] * 3
    log = fmt.log_text(snap) if last is None or snap.log != last.log else gr.skip()
    return [status, progress_html(snap), final, *figures, log]


Extra = Callable[[TrainingSnapshot, "TrainingSnapshot | None"], list[Any]]


def _next_change(manager: Any, last: TrainingSnapshot | None, timeout_s: float,
                 progress_every_s: float, last_yield: float) -> TrainingSnapshot:
    """Wait up to ``timeout_s`` for a change worth sending. Until ``progress_every_s`` after the
    last yield only a major change (new epoch, state, error) wakes the stream; batch progress
    does not, so each open tab wakes about once a second and many tabs cost training next to
    nothing. After that, any change will do."""
    if last is None:
        return manager.wait_for_change(-1, timeout_s=timeout_s)
    deadline = time.monotonic() + timeout_s
    hold = progress_every_s - (time.monotonic() - last_yield)
    if hold > 0:
        snap = manager.wait_for_change(last.version, timeout_s=min(hold, timeout_s),
                                       major_only=True)
        if snap.version != last.version:  # a major change, or progress now due
            return snap
    return manager.wait_for_change(last.version,
                                   timeout_s=max(0.0, deadline - time.monotonic()))


def stream(manager: Any, monitor: Any, extra: Extra | None = None, extra_count: int = 0, *,
           cache: FigureCache | None = None, resource_every_s: float = RESOURCE_EVERY_S,
           min_interval_s: float = MIN_INTERVAL_S,
           progress_every_s: float = PROGRESS_EVERY_S) -> Iterator[list[Any]]:
    """Yield [snapshot values..., resource values..., extra values...] whenever something changed.

    The first yield draws everything (the whole history so far); later ones send only what
    changed, skipping unchanged outputs with ``gr.skip()``. A new epoch, a state change or an
    error is sent at once; batch progress at most every ``progress_every_s`` seconds. Resources
    refresh every ``resource_every_s`` seconds. Runs until Gradio drops the event (tab closed).

    Args:
        manager: The TrainingManager; only ``wait_for_change`` is called.
        monitor: The ResourceMonitor (or None); only ``history()``, ``latest()`` and the
            thresholds are read.
        extra: Values for ``extra_count`` further outputs, from (snapshot, previous snapshot or
            None); called only when the snapshot changed.
        cache: Figures shared with the other tabs' streams (one per app); None = own cache.
        resource_every_s: Seconds between resource refreshes.
        min_interval_s: Pause after each yield, so bursts of changes coalesce.
        progress_every_s: Seconds between two yields for batch progress alone.
    """
    cache = cache or FigureCache()
    last: TrainingSnapshot | None = None
    last_resource = last_yield = float("-inf")
    while True:
        wait_s = max(0.0, resource_every_s - (time.monotonic() - last_resource))
        snap = _next_change(manager, last, wait_s, progress_every_s, last_yield)
        changed = last is None or snap.version != last.version
        # a yield going out anyway takes resources due within the next progress interval
        # along, so a tab following a run wakes about once a second, not once for each
        early = progress_every_s if changed else 0.0
        resources_due = time.monotonic() - last_resource >= resource_every_s - early
        if not changed and not resources_due:
            continue
        snap_part = snapshot_values(snap, last, cache) if changed else [gr.skip()] * 7
        extra_part = extra(snap, last) if changed and extra else [gr.skip()] * extra_count
        res_part = cache.resources(monitor) if resources_due else [gr.skip()] * 2
        if resources_due:
            last_resource = time.monotonic()
        last = snap
        last_yield = time.monotonic()
        yield [*snap_part, *res_part, *extra_part]
        time.sleep(min_interval_s)


async def follow(steps: Iterator[list[Any]],
                 limiter: anyio.CapacityLimiter) -> AsyncIterator[list[Any]]:
    """Run a blocking ``stream()`` one step at a time in ``limiter``'s threads, yielding each.

    Gradio runs a sync generator's steps in its own thread pool (``max_threads``, 40 by
    default); each open tab's stream blocks in ``wait_for_change`` for up to
    ``RESOURCE_EVERY_S`` seconds, so many tabs could starve the Start and Cancel events. This
    async wrapper moves those waits to a separate pool.
    """
    try:
        while True:
            item = await anyio.to_thread.run_sync(next, steps, None, limiter=limiter)
            if item is None:
                return
            yield item
    finally:
        try:
            steps.close()
        except ValueError:  # still running in its thread (cancelled mid-wait): it ends alone
            pass
