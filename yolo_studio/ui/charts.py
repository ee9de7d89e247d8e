"""Pure chart builders: immutable training / resource records in, Plotly figures out.

A figure is a plain dict in Plotly's figure schema (``{"data": [...], "layout": {...}}``, what
``go.Figure(spec)`` accepts and ``fig.to_plotly_json()`` returns), built without ``go.Figure``
and its per-property validation: the live Monitor rebuilds its charts every epoch, so building
one must stay cheap (``bench/monitoring.py``). ``plot_value`` turns one into what ``gr.Plot``
sends; tests validate them with ``go.Figure(spec)``.

Nothing here touches the manager or the disk. Each trained epoch is exactly one point per trace
(x = 1-based epoch) up to ``chart_points.MAX_EPOCH_POINTS`` epochs; a longer history is
thinned, its newest epochs kept one by one (``chart_points``: every update redraws a whole
chart on each page, so what it draws must not grow with the run). The final validation of ``best.pt`` is a separate,
differently drawn trace, never an extra epoch.
"""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Sequence
from typing import Any

import plotly.io as pio

from ..resources.status import ResourceStatus
from ..training.snapshot import EpochMetrics
from .chart_points import thin_history, trace_mode

Figure = dict[str, Any]
#: (EpochMetrics attribute, legend label, colour) of the loss traces; val is dashed.
LOSS_SERIES = (
    ("train_box_loss", "train box", "#1f77b4"), ("train_cls_loss", "train cls", "#ff7f0e"),
    ("train_dfl_loss", "train dfl", "#2ca02c"), ("val_box_loss", "val box", "#1f77b4"),
    ("val_cls_loss", "val cls", "#ff7f0e"), ("val_dfl_loss", "val dfl", "#2ca02c"),
)
#: (EpochMetrics attribute, legend label, colour) of the validation metric traces (fractions 0-1).
METRIC_SERIES = (
    ("precision", "precision", "#1f77b4"), ("recall", "recall", "#ff7f0e"),
    ("map50", "mAP50", "#2ca02c"), ("map50_95", "mAP50-95", "#d62728"),
)
FINAL_TRACE_NAME = "best.pt on val"
#: Most readings one resource chart draws (5 minutes of the sampler's 1 Hz; a longer history
#: is thinned): every open page gets the chart every few seconds, so its size must not grow
#: with the run's length.
MAX_RESOURCE_POINTS = 300
#: Colours of the per-GPU memory lines, in order (the first is the single-GPU one).
GPU_COLOURS = ("#2ca02c", "#17becf", "#8c564b", "#e377c2", "#bcbd22", "#7f7f7f", "#9467bd")
_MARGIN = dict(l=50, r=20, t=50, b=40)
#: The resource chart's time axis title: its times are the studio machine's local time.
RESOURCE_TIME_TITLE = "time (studio machine's clock)"


#: The parts of Plotly's "plotly_white" template that a 2-D line chart uses.
_TEMPLATE_LAYOUT = ("autotypenumbers", "colorway", "font", "hovermode", "hoverlabel",
                    "paper_bgcolor", "plot_bgcolor", "xaxis", "yaxis", "shapedefaults",
                    "annotationdefaults", "title")


@functools.lru_cache(maxsize=1)
def _template() -> dict[str, Any]:
    """Plotly's "plotly_white" template as plain JSON (plotly.js takes no template names),
    cut to what these charts use (``_TEMPLATE_LAYOUT``): every chart update carries it to
    every open page, so it holds only what draws these charts."""
    whole = pio.templates["plotly_white"].to_plotly_json()
    return {"data": {"scatter": whole["data"]["scatter"]},
            "layout": {key: whole["layout"][key] for key in _TEMPLATE_LAYOUT}}


def plot_value(fig: Figure) -> Any:
    """``fig`` serialised as ``gr.Plot`` sends it (a ``PlotData``; Gradio passes one through)."""
    from gradio.components.plot import PlotData

    return PlotData(type="plotly", plot=figure_json(fig))


def figure_json(fig: Figure) -> str:
    """``fig`` as JSON text (what a ``live_chart`` draws)."""
    return pio.to_json(fig, validate=False)


def plot_payload(fig: Figure) -> dict[str, str]:
    """``fig`` as a ``gr.Plot`` value goes over the wire (the dumped ``PlotData``): for events
    with ``postprocess=False``, whose values Gradio sends as given."""
    return plot_value(fig).model_dump()


def _figure(data: list[dict[str, Any]], title: str, y_title: str, *, x_title: str = "epoch",
            xaxis: dict[str, Any] | None = None, yaxis: dict[str, Any] | None = None,
            **layout: Any) -> Figure:
    return {"data": data, "layout": {
        "title": {"text": title}, "xaxis": {"title": {"text": x_title}, **(xaxis or {})},
        "yaxis": {"title": {"text": y_title}, **(yaxis or {})}, "margin": dict(_MARGIN),
        "height": 340, "template": _template(), "legend": {"orientation": "h", "y": -0.2},
        "uirevision": "keep", **layout}}  # uirevision: keep the user's zoom across updates


def _epoch_axis(last_epoch: int) -> dict[str, Any]:
    """x axis over the epochs; before the first one, epoch 1 (not Plotly's empty -1..6)."""
    last_epoch = max(last_epoch, 1)
    return {"range": [0.5, last_epoch + 0.5], **({"dtick": 1} if last_epoch <= 20 else {})}


def _value_axis(history: Sequence[EpochMetrics], attrs: Sequence[str] = ()) -> dict[str, Any]:
    """y axis of an unbounded value: autoscaled, or 0-1 while there is no point yet. When the
    ``attrs`` of ``history`` hold one value only (one epoch, or a constant lr), 0 to twice it:
    Plotly would centre a range about 3 wide on it (-0.5 to 1 for an lr of 0.0003)."""
    if not history:
        return {"range": [0, 1]}
    values = {v for m in history for v in (getattr(m, a) for a in attrs) if v is not None}
    if len(values) != 1:
        return {}
    value = values.pop()
    return {"range": sorted([0, 2 * value])} if value else {"range": [-1, 1]}


def _series_trace(history: Sequence[EpochMetrics], attr: str, name: str, color: str,
                  dash: str = "solid") -> dict[str, Any]:
    """One point per epoch of ``history`` (thinned beyond ``chart_points.MAX_EPOCH_POINTS``),
    markers on short traces only (``chart_points``)."""
    history = thin_history(history)
    return {"type": "scatter", "x": [m.epoch for m in history],
            "y": [getattr(m, attr) for m in history], "name": name,
            "mode": trace_mode(len(history)), "line": {"color": color, "dash": dash},
            "connectgaps": False}


def _last_epoch(history: Sequence[EpochMetrics]) -> int:
    return history[-1].epoch if history else 0


def loss_figure(history: Sequence[EpochMetrics]) -> Figure:
    """Train and val box/cls/dfl losses per epoch (six traces; val dashed).

    Args:
        history: One EpochMetrics per trained epoch, in order. Losses are Ultralytics' per-image
            averages (unitless); a None value is drawn as a gap.

    Returns:
        A figure dict with six traces, each with one point per epoch of ``history``.
    """
    data = [_series_trace(history, attr, name, color,
                          "dash" if attr.startswith("val") else "solid")
            for attr, name, color in LOSS_SERIES]
    return _figure(data, "Losses", "loss", xaxis=_epoch_axis(_last_epoch(history)),
                   yaxis=_value_axis(history))


def final_summary(final: EpochMetrics | None) -> str:
    """One line for the final validation of best.pt, e.g. ``best.pt on val: mAP50 0.512 ...``.

    Returns an empty string when ``final`` is None.
    """
    if final is None:
        return ""
    parts = [f"{label} {getattr(final, attr):.3f}" for attr, label, _ in METRIC_SERIES
             if getattr(final, attr) is not None]
    return f"{FINAL_TRACE_NAME}: " + (", ".join(parts) if parts else "no metrics reported")


def _final_trace(final: EpochMetrics, x: float) -> dict[str, Any]:
    labels = [label for attr, label, _ in METRIC_SERIES]
    values = [getattr(final, attr) for attr, _, _ in METRIC_SERIES]
    return {"type": "scatter", "x": [x] * len(METRIC_SERIES), "y": values,
            "name": FINAL_TRACE_NAME, "mode": "markers", "text": labels,
            "marker": {"symbol": "star", "size": 14, "color": [c for _, _, c in METRIC_SERIES],
                       "line": {"color": "black", "width": 1}},
            "hovertemplate": "best.pt %{text}: %{y:.3f}<extra></extra>"}


def metrics_figure(history: Sequence[EpochMetrics], final: EpochMetrics | None = None,
                   stop_reason: str | None = None) -> Figure:
    """Precision, recall, mAP50 and mAP50-95 on the val split per epoch, final result apart.

    Args:
        history: One EpochMetrics per trained epoch (fractions 0-1 from Ultralytics' validator).
        final: Metrics of best.pt on val after training; drawn as a separate star-marker trace
            named ``"best.pt on val"`` just right of the last epoch, with an annotation.
        stop_reason: Why training ended early (early stopping, cancel, alert); marked with a
            vertical line at the last trained epoch.

    Returns:
        A figure dict with four metric traces (one point per epoch each) plus, when ``final`` is
        given, one final trace of four points.
    """
    data = [_series_trace(history, attr, name, color) for attr, name, color in METRIC_SERIES]
    last = _last_epoch(history)
    xaxis, annotations, shapes = _epoch_axis(last), [], []
    if final is not None:
        data.append(_final_trace(final, last + 0.35))
        xaxis["range"] = [0.5, last + 0.8]
        annotations.append({"text": final_summary(final), "xref": "paper", "yref": "paper",
                            "x": 1, "y": 1.08, "showarrow": False, "xanchor": "right",
                            "font": {"size": 11}})
    if stop_reason and history:
        shapes.append({"type": "line", "x0": last, "x1": last, "xref": "x", "y0": 0, "y1": 1,
                       "yref": "y domain", "line": {"color": "gray", "dash": "dot"}})
        annotations.append({"text": f"stopped: {stop_reason}", "x": last, "y": 0.02,
                            "yref": "paper", "showarrow": False, "xanchor": "right",
                            "font": {"size": 10, "color": "gray"}})
    return _figure(data, "Validation metrics", "fraction (0-1)", xaxis=xaxis,
                   yaxis={"range": [0, 1.05]}, annotations=annotations, shapes=shapes)


def lr_figure(history: Sequence[EpochMetrics]) -> Figure:
    """Learning rate of parameter group 0 at the end of each epoch (one point per epoch)."""
    return _figure([_series_trace(history, "lr", "lr", "#9467bd")], "Learning rate", "lr",
                   xaxis=_epoch_axis(_last_epoch(history)), yaxis=_value_axis(history, ("lr",)))


def _percent(values: Sequence[float | None], scale: float = 100.0) -> list[float | None]:
    """``values`` times ``scale``, to one decimal (the chart's resolution; it keeps the JSON
    every open page gets small)."""
    return [None if v is None else round(scale * v, 1) for v in values]


def _line(times: list[Any], values: list[Any], name: str, color: str, **line: Any) -> dict:
    return {"type": "scatter", "x": times, "y": values, "name": name, "mode": "lines",
            "line": {"color": color, **line}}


def _limit_lines(limits: Sequence[tuple[float | None, str]]) -> tuple[list, list]:
    """(shapes, annotations) of dotted horizontal threshold lines (fractions 0-1 -> percent)."""
    shapes, annotations = [], []
    for value, label in limits:
        if value is not None:
            shapes.append({"type": "line", "xref": "x domain", "x0": 0, "x1": 1, "yref": "y",
                           "y0": 100.0 * value, "y1": 100.0 * value,
                           "line": {"color": "red", "dash": "dot", "width": 1}})
            annotations.append({"text": f"{label} {value:.0%}", "showarrow": False,
                                "xref": "x domain", "x": 0, "xanchor": "left", "yref": "y",
                                "y": 100.0 * value, "yanchor": "bottom"})
    return shapes, annotations


def _local_time(timestamp: float) -> str:
    """``timestamp`` (seconds since the epoch) as local ISO time to a tenth of a second (short,
    and the 1 Hz sampler's readings never share an x, as whole seconds could)."""
    tenths = round(timestamp * 10)
    return f"{_dt.datetime.fromtimestamp(tenths // 10):%Y-%m-%dT%H:%M:%S}.{tenths % 10}"


def thin_statuses(statuses: Sequence[ResourceStatus],
                  max_points: int = MAX_RESOURCE_POINTS) -> list[ResourceStatus]:
    """At most ``max_points`` of ``statuses``, in order: the history is cut into equal slices
    and each slice keeps its reading with the highest memory use (RAM or GPU, fraction 0-1), so
    peaks and alerts stay visible; the newest reading is always kept."""
    if len(statuses) <= max_points:
        return list(statuses)
    step = -(-len(statuses) // (max_points - 1))  # ceil: leaves room for the newest reading
    kept = [max(statuses[i:i + step], key=lambda s: max(s.ram_percent, s.gpu_percent or 0.0))
            for i in range(0, len(statuses) - 1, step)]
    return [*kept, statuses[-1]]


def _gpu_traces(statuses: Sequence[ResourceStatus], times: list[str],
                gpus: Sequence[int] | None) -> list[dict]:
    """One memory line per GPU (or MIG instance) of the readings whose NVML index is in
    ``gpus`` (all when None, or when none of them is read); a single "GPU memory" line of
    ``gpu_percent`` for statuses without per-GPU readings; none without a GPU figure."""
    per_status = [{g.label: g for g in s.gpus} for s in statuses]
    labels = {label: g.index for readings in per_status for label, g in readings.items()}
    chosen = [label for label, index in labels.items() if gpus is None or index in gpus]
    traces = [_line(times, _percent([r[label].memory_fraction if label in r else None
                                     for r in per_status]),
                    f"{label} memory", GPU_COLOURS[n % len(GPU_COLOURS)])
              for n, label in enumerate(chosen or labels)]
    if traces or all(s.gpu_percent is None for s in statuses):
        return traces
    return [_line(times, _percent([s.gpu_percent for s in statuses]), "GPU memory",
                  GPU_COLOURS[0])]


def resource_figure(statuses: Sequence[ResourceStatus], gpu_threshold: float | None = None,
                    ram_threshold: float | None = None,
                    gpus: Sequence[int] | None = None) -> Figure:
    """GPU memory, RAM and CPU use over time, in percent 0-100, with threshold lines.

    Args:
        statuses: Resource checks in time order (``ResourceMonitor.history()``); their
            ``gpu_percent`` / ``ram_percent`` are fractions 0-1, ``cpu_percent`` is 0-100.
            More than ``MAX_RESOURCE_POINTS`` are thinned (``thin_statuses``), which bounds
            the chart's size however long the run: every open page gets it often. Times
            are drawn to 0.1 s, values to 0.1 percent.
        gpu_threshold / ram_threshold: Alert thresholds as fractions 0-1, drawn as dotted lines.
        gpus: NVML indices of the GPUs to draw (the running job's, ``config.device_gpus``);
            None draws every GPU read.

    Returns:
        A figure dict with traces "GPU 0 memory", "GPU 1 memory", ... (one per drawn GPU;
        "GPU memory" for statuses without per-GPU readings; none without a GPU), "RAM" and
        "CPU" (one point per kept status) and an "alert" marker trace on the kept checks that
        were constrained.
    """
    statuses = thin_statuses(statuses)
    times = [_local_time(s.timestamp) for s in statuses]
    data = _gpu_traces(statuses, times, gpus)
    has_gpu = bool(data)  # no GPU: no GPU trace or limit line
    data.append(_line(times, _percent([s.ram_percent for s in statuses]), "RAM", "#1f77b4"))
    data.append(_line(times, _percent([s.cpu_percent for s in statuses], scale=1.0), "CPU",
                      "#ff7f0e", width=1))
    alerts = [(t, s) for t, s in zip(times, statuses) if s.constrained]
    if alerts:
        data.append({"type": "scatter", "x": [t for t, _ in alerts],
                     "y": [100.0 * max(s.ram_percent, s.gpu_percent or 0.0) for _, s in alerts],
                     "name": "alert", "mode": "markers",
                     "marker": {"color": "red", "symbol": "x", "size": 9},
                     "text": ["; ".join(s.alerts) for _, s in alerts],
                     "hovertemplate": "%{text}<extra></extra>"})
    shapes, annotations = _limit_lines(((gpu_threshold if has_gpu else None, "GPU limit"),
                                        (ram_threshold, "RAM limit")))
    # Plotly draws times as given, in no time zone: say whose clock (a page on another
    # machine, or of a Space, would otherwise read the studio machine's time as its own)
    return _figure(data, "Resources", "percent (0-100)", x_title=RESOURCE_TIME_TITLE,
                   yaxis={"range": [0, 105]}, shapes=shapes, annotations=annotations)


def resource_alert(statuses: Sequence[ResourceStatus]) -> str:
    """The alert lines of the latest status when it is constrained, else an empty string."""
    if not statuses or not statuses[-1].constrained:
        return ""
    latest = statuses[-1]
    return "; ".join(latest.alerts) or "A resource threshold is exceeded."
