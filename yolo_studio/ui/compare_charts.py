"""Pure functions: the per-epoch histories of several models overlaid (the Models tab's
Compare). Figure dicts as in ``charts``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..training.snapshot import EpochMetrics
from .charts import LOSS_SERIES, Figure, _epoch_axis, _figure, _series_trace

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


def _compare_axis(histories: Mapping[str, Sequence[EpochMetrics]]) -> dict[str, Any]:
    return _epoch_axis(max((h[-1].epoch for h in histories.values() if h), default=0))


def fraction_range(histories: Mapping[str, Sequence[EpochMetrics]],
                   metric: str) -> dict[str, Any]:
    """A y-axis fitted to the values of a fraction metric (0-1) over every history, padded
    by 8% of their spread (at least 0.02) and kept inside 0-1.05, so models of mAP50 0.01
    and 0.03 do not draw as one flat line; ``{"range": [0, 1.05]}`` without values."""
    values = [v for h in histories.values() for m in h
              if (v := getattr(m, metric, None)) is not None]
    if not values:
        return {"range": [0, 1.05]}
    low, high = min(values), max(values)
    pad = max(0.02, 0.08 * (high - low))
    return {"range": [max(0.0, low - pad), min(1.05, high + pad)]}


def compare_figure(histories: Mapping[str, Sequence[EpochMetrics]], metric: str) -> Figure:
    """One metric per epoch of several models overlaid: one trace per model, named after it;
    a fraction's y-axis is fitted to the data (``fraction_range``).

    Args:
        histories: ``{model name: its per-epoch EpochMetrics}`` (``ModelComparison.histories``),
            in legend order. A model without history gets an empty trace.
        metric: An EpochMetrics attribute in ``COMPARE_METRICS`` (e.g. ``"map50"``, fraction
            0-1, or ``"val_box_loss"``, unitless).

    Returns:
        A figure dict with one trace per model (one point per trained epoch).

    Raises:
        ValueError: ``metric`` is not in ``COMPARE_METRICS``.
    """
    if metric not in COMPARE_METRICS:
        raise ValueError(f"unknown metric {metric!r}; use one of {', '.join(COMPARE_METRICS)}")
    title, y_title = COMPARE_METRICS[metric]
    data = [_series_trace(history, metric, name, MODEL_COLORS[i % len(MODEL_COLORS)])
            for i, (name, history) in enumerate(histories.items())]
    yaxis = fraction_range(histories, metric) if y_title.startswith("fraction") else {}
    return _figure(data, f"{title} per epoch", y_title, xaxis=_compare_axis(histories),
                   yaxis=yaxis)


def compare_losses_figure(histories: Mapping[str, Sequence[EpochMetrics]],
                          split: str = "val") -> Figure:
    """The box/cls/dfl losses of one split of several models overlaid.

    Args:
        histories: ``{model name: per-epoch EpochMetrics}``.
        split: ``"val"`` or ``"train"``.

    Returns:
        A figure dict with three traces per model, named ``"<model> <split> box|cls|dfl"``: the
        model's colour, one dash style per loss (box solid, cls dashed, dfl dotted).

    Raises:
        ValueError: ``split`` is neither "val" nor "train".
    """
    if split not in ("val", "train"):
        raise ValueError(f"split must be 'val' or 'train', not {split!r}")
    data = []
    for i, (name, history) in enumerate(histories.items()):
        color = MODEL_COLORS[i % len(MODEL_COLORS)]
        for kind, dash in _LOSS_DASH.items():
            trace = _series_trace(history, f"{split}_{kind}_loss", f"{name} {split} {kind}",
                                  color, dash)
            data.append({**trace, "legendgroup": name})
    return _figure(data, f"{split.capitalize()} losses", "loss", xaxis=_compare_axis(histories))
