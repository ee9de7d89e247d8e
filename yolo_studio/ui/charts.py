"""Pure chart builders: immutable training / resource records in, Plotly figures out.

Nothing here touches Gradio, the manager or the disk, so the tests call these directly. Each trained
epoch is exactly one point per trace (x = 1-based epoch); the final validation of ``best.pt`` is a
separate, differently drawn trace, never an extra epoch.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from ..resources.status import ResourceStatus
from ..training.snapshot import EpochMetrics

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
_MARGIN = dict(l=50, r=20, t=50, b=40)


def _layout(fig: go.Figure, title: str, y_title: str, *, x_title: str = "epoch") -> go.Figure:
    fig.update_layout(title=title, xaxis_title=x_title, yaxis_title=y_title, margin=_MARGIN,
                      height=340, template="plotly_white", legend=dict(orientation="h", y=-0.2),
                      uirevision="keep")  # keep the user's zoom across live updates
    return fig


def _epoch_axis(fig: go.Figure, history: Sequence[EpochMetrics]) -> None:
    if history:
        fig.update_xaxes(range=[0.5, history[-1].epoch + 0.5],
                         dtick=1 if len(history) <= 20 else None)


def _series_trace(history: Sequence[EpochMetrics], attr: str, name: str, color: str,
                  dash: str = "solid") -> go.Scatter:
    return go.Scatter(x=[m.epoch for m in history], y=[getattr(m, attr) for m in history],
                      name=name, mode="lines+markers", line=dict(color=color, dash=dash),
                      connectgaps=False)


def loss_figure(history: Sequence[EpochMetrics]) -> go.Figure:
    """Train and val box/cls/dfl losses per epoch (six traces; val dashed).

    Args:
        history: One EpochMetrics per trained epoch, in order. Losses are Ultralytics' per-image
            averages (unitless); a None value is drawn as a gap.

    Returns:
        A Figure with six traces, each with one point per epoch of ``history``.
    """
    fig = go.Figure()
    for attr, name, color in LOSS_SERIES:
        fig.add_trace(_series_trace(history, attr, name, color,
                                    "dash" if attr.startswith("val") else "solid"))
    _epoch_axis(fig, history)
    return _layout(fig, "Losses", "loss")


def final_summary(final: EpochMetrics | None) -> str:
    """One line for the final validation of best.pt, e.g. ``best.pt on val: mAP50 0.512 ...``.

    Returns an empty string when ``final`` is None.
    """
    if final is None:
        return ""
    parts = [f"{label} {getattr(final, attr):.3f}" for attr, label, _ in METRIC_SERIES
             if getattr(final, attr) is not None]
    return f"{FINAL_TRACE_NAME}: " + (", ".join(parts) if parts else "no metrics reported")


def _final_trace(final: EpochMetrics, x: float) -> go.Scatter:
    labels = [label for attr, label, _ in METRIC_SERIES]
    values = [getattr(final, attr) for attr, _, _ in METRIC_SERIES]
    return go.Scatter(x=[x] * len(METRIC_SERIES), y=values,
                      name=FINAL_TRACE_NAME, mode="markers", text=labels,
                      marker=dict(symbol="star", size=14, color=[c for _, _, c in METRIC_SERIES],
                                  line=dict(color="black", width=1)),
                      hovertemplate="best.pt %{text}: %{y:.3f}<extra></extra>")


def metrics_figure(history: Sequence[EpochMetrics], final: EpochMetrics | None = None,
                   stop_reason: str | None = None) -> go.Figure:
    """Precision, recall, mAP50 and mAP50-95 on the val split per epoch, final result apart.

    Args:
        history: One EpochMetrics per trained epoch (fractions 0-1 from Ultralytics' validator).
        final: Metrics of best.pt on val after training; drawn as a separate star-marker trace
            named ``"best.pt on val"`` just right of the last epoch, with an annotation.
        stop_reason: Why training ended early (early stopping, cancel, alert); marked with a
            vertical line at the last trained epoch.

    Returns:
        A Figure with four metric traces (one point per epoch each) plus, when ``final`` is given,
        one final trace of four points.
    """
    fig = go.Figure()
    for attr, name, color in METRIC_SERIES:
        fig.add_trace(_series_trace(history, attr, name, color))
    last = history[-1].epoch if history else 0
    _epoch_axis(fig, history)
    if final is not None:
        x = last + 0.35
        fig.add_trace(_final_trace(final, x))
        fig.update_xaxes(range=[0.5, last + 0.8])
        fig.add_annotation(text=final_summary(final), xref="paper", yref="paper", x=1, y=1.08,
                           showarrow=False, xanchor="right", font=dict(size=11))
    if stop_reason and history:
        fig.add_vline(x=last, line=dict(color="gray", dash="dot"))
        fig.add_annotation(text=f"stopped: {stop_reason}", x=last, y=0.02, yref="paper",
                           showarrow=False, xanchor="right", font=dict(size=10, color="gray"))
    fig.update_yaxes(range=[0, 1.05])
    return _layout(fig, "Validation metrics", "fraction (0-1)")


def lr_figure(history: Sequence[EpochMetrics]) -> go.Figure:
    """Learning rate of parameter group 0 at the end of each epoch (one point per epoch)."""
    fig = go.Figure(_series_trace(history, "lr", "lr", "#9467bd"))
    _epoch_axis(fig, history)
    return _layout(fig, "Learning rate", "lr")


def _percent(values: Sequence[float | None]) -> list[float | None]:
    return [None if v is None else 100.0 * v for v in values]


def resource_figure(statuses: Sequence[ResourceStatus], gpu_threshold: float | None = None,
                    ram_threshold: float | None = None) -> go.Figure:
    """GPU memory, RAM and CPU use over time, in percent 0-100, with threshold lines.

    Args:
        statuses: Resource checks in time order (``ResourceMonitor.history()``); their
            ``gpu_percent`` / ``ram_percent`` are fractions 0-1, ``cpu_percent`` is 0-100.
        gpu_threshold / ram_threshold: Alert thresholds as fractions 0-1, drawn as dotted lines.

    Returns:
        A Figure with traces "GPU memory", "RAM" and "CPU" (one point per status; GPU only when
        some status has a GPU reading) and an "alert" marker trace on the checks that were
        constrained.
    """
    times = [_dt.datetime.fromtimestamp(s.timestamp) for s in statuses]
    fig = go.Figure()
    if any(s.gpu_percent is not None for s in statuses):  # no GPU: no GPU trace or limit line
        fig.add_trace(go.Scatter(x=times, y=_percent([s.gpu_percent for s in statuses]),
                                 name="GPU memory", mode="lines", line=dict(color="#2ca02c")))
    fig.add_trace(go.Scatter(x=times, y=_percent([s.ram_percent for s in statuses]),
                             name="RAM", mode="lines", line=dict(color="#1f77b4")))
    fig.add_trace(go.Scatter(x=times, y=[s.cpu_percent for s in statuses], name="CPU",
                             mode="lines", line=dict(color="#ff7f0e", width=1)))
    alerts = [(t, s) for t, s in zip(times, statuses) if s.constrained]
    if alerts:
        fig.add_trace(go.Scatter(
            x=[t for t, _ in alerts], y=[100.0 * max(s.ram_percent, s.gpu_percent or 0.0)
                                         for _, s in alerts],
            name="alert", mode="markers", marker=dict(color="red", symbol="x", size=9),
            text=["; ".join(s.alerts) for _, s in alerts], hovertemplate="%{text}<extra></extra>"))
    has_gpu = any(s.gpu_percent is not None for s in statuses)
    for value, label in ((gpu_threshold if has_gpu else None, "GPU limit"),
                         (ram_threshold, "RAM limit")):
        if value is not None:
            fig.add_hline(y=100.0 * value, line=dict(color="red", dash="dot", width=1),
                          annotation_text=f"{label} {value:.0%}", annotation_position="top left")
    fig.update_yaxes(range=[0, 105])
    return _layout(fig, "Resources", "percent (0-100)", x_title="time")


def resource_alert(statuses: Sequence[ResourceStatus]) -> str:
    """The alert lines of the latest status when it is constrained, else an empty string."""
    if not statuses or not statuses[-1].constrained:
        return ""
    latest = statuses[-1]
    return "; ".join(latest.alerts) or "A resource threshold is exceeded."


#: Metrics offered in the comparison charts: EpochMetrics attribute -> (title, y-axis title).
COMPARE_METRICS = {
    "map50": ("mAP50", "fraction (0-1)"), "map50_95": ("mAP50-95", "fraction (0-1)"),
    "precision": ("Precision", "fraction (0-1)"), "recall": ("Recall", "fraction (0-1)"),
    **{attr: (label, "loss") for attr, label, _ in LOSS_SERIES},
}
#: Colours cycled over the compared models (Plotly's default qualitative palette).
MODEL_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                "#7f7f7f", "#bcbd22", "#17becf")
_LOSS_DASH = {"box": "solid", "cls": "dash", "dfl": "dot"}


def _compare_axis(fig: go.Figure, histories: Mapping[str, Sequence[EpochMetrics]]) -> None:
    last = max((h[-1].epoch for h in histories.values() if h), default=0)
    if last:
        fig.update_xaxes(range=[0.5, last + 0.5], dtick=1 if last <= 20 else None)


def compare_figure(histories: Mapping[str, Sequence[EpochMetrics]], metric: str) -> go.Figure:
    """One metric per epoch of several models overlaid: one trace per model, named after it.

    Args:
        histories: ``{model name: its per-epoch EpochMetrics}`` (``ModelComparison.histories``),
            in legend order. A model without history gets an empty trace.
        metric: An EpochMetrics attribute in ``COMPARE_METRICS`` (e.g. ``"map50"``, fraction
            0-1, or ``"val_box_loss"``, unitless).

    Returns:
        A Figure with one trace per model (one point per trained epoch).

    Raises:
        ValueError: ``metric`` is not in ``COMPARE_METRICS``.
    """
    if metric not in COMPARE_METRICS:
        raise ValueError(f"unknown metric {metric!r}; use one of {', '.join(COMPARE_METRICS)}")
    title, y_title = COMPARE_METRICS[metric]
    fig = go.Figure()
    for i, (name, history) in enumerate(histories.items()):
        fig.add_trace(_series_trace(history, metric, name, MODEL_COLORS[i % len(MODEL_COLORS)]))
    _compare_axis(fig, histories)
    if y_title.startswith("fraction"):
        fig.update_yaxes(range=[0, 1.05])
    return _layout(fig, f"{title} per epoch", y_title)


def compare_losses_figure(histories: Mapping[str, Sequence[EpochMetrics]],
                          split: str = "val") -> go.Figure:
    """The box/cls/dfl losses of one split of several models overlaid.

    Args:
        histories: ``{model name: per-epoch EpochMetrics}``.
        split: ``"val"`` or ``"train"``.

    Returns:
        A Figure with three traces per model, named ``"<model> <split> box|cls|dfl"``: the
        model's colour, one dash style per loss (box solid, cls dashed, dfl dotted).

    Raises:
        ValueError: ``split`` is neither "val" nor "train".
    """
    if split not in ("val", "train"):
        raise ValueError(f"split must be 'val' or 'train', not {split!r}")
    fig = go.Figure()
    for i, (name, history) in enumerate(histories.items()):
        color = MODEL_COLORS[i % len(MODEL_COLORS)]
        for kind, dash in _LOSS_DASH.items():
            trace = _series_trace(history, f"{split}_{kind}_loss", f"{name} {split} {kind}",
                                  color, dash)
            trace.legendgroup = name
            fig.add_trace(trace)
    _compare_axis(fig, histories)
    return _layout(fig, f"{split.capitalize()} losses", "loss")
