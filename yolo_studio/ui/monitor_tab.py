"""The Monitor tab: the Follow list, status, progress, live charts, resource chart with
alerts, log tail.

Every open browser tab streams the frames of a ``MonitorFeed`` (``monitor_feed.py``): the
app's one feed of the newest running job, or the feed of the job the page picked in Follow
(``monitor_follow.py``); feeds follow the manager's immutable snapshots and nothing here
touches training state, so any number of tabs can watch, and a tab opened or reloaded mid-run,
or one that picks another job, first draws the whole history.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..config import device_gpus
from ..training.executors import LOCAL_NODE
from ..training.snapshot import JobState, TrainingSnapshot
from . import charts
from . import formatting as fmt
from .live_chart import live_chart
from .monitor_feed import Group, Groups, same
from .monitor_follow import NEWEST, NEWEST_LABEL


#: The feed's stream for the Monitor tab (``feed_groups``); it updates ``MonitorTab.outputs``.
STREAM = "monitor"


@dataclass
class MonitorTab:
    """The Monitor tab's components; ``outputs`` are what the feed's ``STREAM`` updates."""

    status: gr.Markdown
    progress: gr.HTML
    final: gr.Markdown
    loss_plot: gr.HTML  # live_chart: a figure's JSON, drawn by the page's own script
    metrics_plot: gr.HTML
    lr_plot: gr.HTML
    resource_plot: gr.HTML
    alert: gr.HTML
    log: gr.Textbox
    cancel_btn: gr.Button
    follow: gr.Dropdown  # NEWEST or a job id (monitor_follow)
    follow_refresh: gr.Button
    node_note: gr.Markdown  # under the resource chart: whose readings it shows

    @property
    def outputs(self) -> list[Any]:
        """In the order of ``feed_groups``' groups: status line, progress bar, final result,
        log tail; loss, metrics and lr charts; resource chart and alert; node note."""
        return [self.status, self.progress, self.final, self.log, self.loss_plot,
                self.metrics_plot, self.lr_plot, self.resource_plot, self.alert, self.node_note]


def build() -> MonitorTab:
    """Lay out the Monitor tab inside the current ``gr.Tab``."""
    with gr.Row(equal_height=True):
        follow = gr.Dropdown(label="Follow", choices=[(NEWEST_LABEL, NEWEST)], value=NEWEST,
                             elem_id="follow-dd", scale=4,
                             info="The newest running job, or one running or recent job.")
        refresh = gr.Button("↻ Refresh list", elem_id="follow-refresh-btn", scale=0,
                            size="sm", min_width=120)
    with gr.Row():  # Cancel on the left: notices pop up over the page's top right
        cancel = gr.Button("Cancel", variant="stop", elem_id="monitor-cancel-btn", scale=0,
                           min_width=120)
        status = gr.Markdown("**IDLE**", elem_id="status-text")
    progress = gr.HTML(progress_html(TrainingSnapshot()), elem_id="progress")
    final = gr.Markdown(elem_id="final-text")
    alert = gr.HTML("", elem_id="resource-alert")
    with gr.Row():
        loss_plot = live_chart("loss-plot")
        metrics_plot = live_chart("metrics-plot")
    with gr.Row():
        lr_plot = live_chart("lr-plot")
        with gr.Column():
            resource_plot = live_chart("resource-plot")
            node_note = gr.Markdown("", elem_id="resource-note")
    log = gr.Textbox(label="Log (last lines)", lines=15, max_lines=20, interactive=False,
                     elem_id="log-text")
    return MonitorTab(status, progress, final, loss_plot, metrics_plot, lr_plot, resource_plot,
                      alert, log, cancel, follow, refresh, node_note)


def progress_html(snap: TrainingSnapshot) -> str:
    """A progress bar with the epoch/batch, elapsed, ETA and images/s line under it."""
    percent = 100.0 * fmt.progress_fraction(snap)
    return (f'<div style="width:100%;background:#e5e7eb;border-radius:4px;height:12px">'
            f'<div style="width:{percent:.1f}%;background:#f97316;height:12px;border-radius:4px">'
            f'</div></div><div id="progress-text" style="margin-top:4px">'
            f'{html.escape(fmt.progress_text(snap))}</div>')


#: Class of the status line's span while a job trains: ``CANCEL_CSS`` keys on it.
TRAINING_CLASS = "studio-training"
#: Makes both Cancel buttons look inactive (secondary colours, faded) unless the page holds
#: a ``TRAINING_CLASS`` span (the Monitor's status line; the Train tab's flag). Both are plain
#: values the streams send anyway when the state changes, so this costs no component update
#: per page (toggling ``interactive`` would, twice per job, on every page). The buttons stay
#: clickable: the flag reaches a page up to about a second after a Start, and a Cancel with
#: nothing training says so.
CANCEL_CSS = (
    "<style>body:not(:has(.%s)) :is(#cancel-btn, #monitor-cancel-btn) {"
    "background: var(--button-secondary-background-fill); opacity: 0.55;"
    "color: var(--button-secondary-text-color);"
    "border-color: var(--button-secondary-border-color)}</style>" % TRAINING_CLASS)


def training_flag(snap: TrainingSnapshot) -> str:
    """For the Train tab's hidden flag (on the app's jobs stream, which that tab always has,
    while the Monitor tab's elements exist only once it was opened): an empty
    ``TRAINING_CLASS`` span while a job trains, else ""."""
    return f'<span class="{TRAINING_CLASS}"></span>' if snap.state is JobState.TRAINING else ""


def remote_node(snap: TrainingSnapshot) -> str:
    """The node the snapshot's job trains (or trained) on when it is not the studio's machine
    (a Ray node's address), else ""."""
    return snap.node if snap.node and snap.node != LOCAL_NODE else ""


def node_note(snap: TrainingSnapshot) -> str:
    """Under the resource chart, for a job on another node: whose readings the chart shows
    (the node's once it sent some, this machine's until then)."""
    node = remote_node(snap)
    if not node:
        return ""
    if snap.node_resources:
        return (f"The resource chart shows node {fmt.markdown_text(node)}, where this job "
                "trains.")
    return (f"The resource chart shows this machine's readings (the studio's), not those of "
            f"node {fmt.markdown_text(node)}, where this job trains.")


def status_markdown(snap: TrainingSnapshot) -> str:
    """The status line in bold (with the node of a job on another machine), inside a
    ``TRAINING_CLASS`` span while a job trains."""
    line = fmt.status_line(snap)
    if remote_node(snap):
        line += f" · on {remote_node(snap)}"
    text = f"**{fmt.markdown_text(line)}**"
    if snap.state is JobState.TRAINING:
        return f'<span class="{TRAINING_CLASS}">{text}</span>'
    return text


def alert_html(statuses: Any) -> str:
    """A visible red box with the alert lines while a threshold is exceeded, else ``""``."""
    text = charts.resource_alert(statuses)
    if not text:
        return ""
    return (f'<div class="resource-alert" style="background:#fee2e2;color:#991b1b;'
            f'border:1px solid #f87171;padding:6px 10px;border-radius:4px">⚠ Resource alert: '
            f'{html.escape(text)}</div>')


def chart_values(snap: TrainingSnapshot) -> list[str]:
    """[loss, metrics, lr] charts of ``snap``, each a figure's JSON (``charts.figure_json``),
    the value of a ``live_chart``. Their ``uirevision`` is the job's id: a user's zoom stays
    while the job's epochs come in, and the axes start afresh for another job (a page that
    follows another job, or the next one)."""
    figures = (charts.loss_figure(snap.history),
               charts.metrics_figure(snap.history, _kept_final(snap), snap.stop_reason),
               charts.lr_figure(snap.history))
    for fig in figures:
        fig["layout"]["uirevision"] = snap.job_id or "keep"
    return [charts.figure_json(fig) for fig in figures]


def resource_values(monitor: Any, device: str = "") -> list[Any]:
    """[resource chart, alert HTML] from the monitor's history (an empty chart without one).

    Args:
        monitor: The ResourceMonitor, or None.
        device: The running job's ``TrainingConfig.device``: the chart draws the memory of
            the GPUs it names (``config.device_gpus``), every GPU when it names none for sure
            (automatic, ``-1``, cpu) or no job trains ("").
    """
    if monitor is None:
        return [charts.figure_json(charts.resource_figure(())), ""]
    statuses = monitor.history()
    fig = charts.resource_figure(statuses, getattr(monitor, "gpu_threshold", None),
                                 getattr(monitor, "ram_threshold", None), device_gpus(device))
    return [charts.figure_json(fig), alert_html(statuses)]


def node_resource_values(monitor: Any, snap: TrainingSnapshot) -> list[Any]:
    """[resource chart, alert HTML] of the Ray node the snapshot's job trains on, from its
    readings (``TrainingSnapshot.node_resources``), with this studio's thresholds."""
    fig = charts.resource_figure(snap.node_resources, getattr(monitor, "gpu_threshold", None),
                                 getattr(monitor, "ram_threshold", None),
                                 device_gpus(snap.device))
    return [charts.figure_json(fig), alert_html(snap.node_resources)]


def _resources_group(monitor: Any, snap: TrainingSnapshot, tick: int) -> Group:
    """The resource chart's group: the job's node's readings for a job on a Ray node that
    sent some, else this machine's monitor (see ``feed_groups``)."""
    if remote_node(snap) and snap.node_resources:
        last = snap.node_resources[-1]
        return ((snap.job_id, len(snap.node_resources), last.timestamp),
                lambda: node_resource_values(monitor, snap))
    return ((tick, _job_device(snap)) if monitor is not None else None,
            lambda: resource_values(monitor, _job_device(snap)))


def _job_device(snap: TrainingSnapshot) -> str:
    """The device of the job that trains now on this machine, "" when none does (a device on
    another node names that node's GPUs, not this machine's)."""
    return snap.device if snap.state is JobState.TRAINING and not remote_node(snap) else ""


def _kept_final(snap: TrainingSnapshot) -> Any:
    """The final result to show: none for a cancelled job (Ultralytics still validated best.pt
    after the stop, but the studio registers nothing)."""
    return None if snap.state is JobState.CANCELLED else snap.final


def _chart_key(snap: TrainingSnapshot) -> tuple[Any, ...]:
    """What the charts are drawn from: equal keys, equal charts."""
    return (snap.job_id, snap.history, _kept_final(snap), snap.stop_reason)


def final_text(snap: TrainingSnapshot) -> str:
    """The line(s) under the progress bar: the final result of best.pt, or why it stopped."""
    final = charts.final_summary(_kept_final(snap))
    if snap.state is JobState.CANCELLED:
        return "Cancelled: no model was registered."
    if snap.stop_reason and snap.state is not JobState.TRAINING:
        final = ((final + "  \n" if final else "")
                 + f"Stopped early: {fmt.markdown_text(snap.stop_reason)}")
    return final


def feed_groups(monitor: Any) -> Groups:
    """The feed's stream for the Monitor tab, ``STREAM``: one update per change for all of
    ``MonitorTab.outputs``, in four groups, each rebuilt only when its key changes (the feed
    builds it once per change, for every tab; an unchanged group goes again as the same
    objects, which Gradio sends as empty diffs):

    - progress: status line, progress bar, final result and log tail, all text, keyed on
      themselves (about once a second in a run);
    - charts: the three charts, keyed on what they are drawn from (per epoch, and at the start
      and end of a run), so a log line alone does not draw them again;
    - resources: resource chart and alert, keyed on the feed's resource tick (every
      ``monitor_feed.RESOURCE_EVERY_S`` seconds; once, without a monitor) and the running
      job's device (its GPUs are the ones drawn);
    - node note: for a job on another node, that the resource chart is this machine's.

    The same groups serve the app's feed of the newest running job and each job's own feed
    (``monitor_follow``).

    Values are sent as given: the event needs ``postprocess=False``.

    Args:
        monitor: The ResourceMonitor (or None); only ``history()`` and the thresholds are
            read.
    """
    def groups(snap: TrainingSnapshot, tick: int) -> dict[str, list[Group]]:
        return {STREAM: [same(status_markdown(snap),
                              progress_html(snap), final_text(snap), fmt.log_text(snap)),
                         (_chart_key(snap), lambda: chart_values(snap)),
                         _resources_group(monitor, snap, tick),
                         same(node_note(snap))]}
    return groups
