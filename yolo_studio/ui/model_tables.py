"""Pure table and text builders for the Models tab: model details, comparisons, predictions.

No Gradio here, so the tests call these directly. Metric fractions (0-1) are shown with three
decimals; missing values as "—".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from pandas.io.formats.style import Styler

from ..training.model_details import PER_CLASS_COLUMNS
from .formatting import format_created, markdown_text

CONFIG_COLUMNS = ["field", "value"]
PER_CLASS_HEADERS = ["class", "images", "instances", "precision", "recall", "mAP50",
                     "mAP50-95"]
DETECTION_COLUMNS = ["class", "confidence", "x1", "y1", "x2", "y2"]
#: First and last column of the comparison table (model names cannot contain spaces).
COMPARE_FIELD = "config field"
COMPARE_DIFFERS = "≠ differs"
#: Background of the comparison rows whose values differ.
DIFF_STYLE = "background-color: #ffe9a8; font-weight: 600"
_MISSING = "—"
#: Comparison rows holding a metric fraction 0-1, shown with three decimals like the others.
METRIC_FIELDS = frozenset({"best_map50"})


def show_value(value: Any) -> str:
    """A config / metric value as table text: None -> "—", floats rounded to 4 significant
    digits (0.00125, 0.8, 1234), lists joined by ", ", anything else ``str``."""
    if value is None:
        return _MISSING
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(show_value(v) for v in value) or "[]"
    return str(value)


def _fraction(value: Any) -> str:
    return _MISSING if value is None else f"{float(value):.3f}"


def config_rows(config: Mapping[str, Any]) -> list[list[str]]:
    """``[[field, value], ...]`` of a ``TrainingConfig.to_dict()``, in its own order."""
    return [[key, show_value(value)] for key, value in config.items()]


def per_class_rows(per_class: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
    """Rows of ``PER_CLASS_HEADERS`` from ``ModelDetails.per_class`` (fractions, 3 decimals)."""
    rows = []
    for row in per_class:
        counts = [row.get(k) for k in PER_CLASS_COLUMNS[:3]]
        rows.append([show_value(counts[0]), *[_MISSING if c is None else c for c in counts[1:]],
                     *[_fraction(row.get(k)) for k in PER_CLASS_COLUMNS[3:]]])
    return rows


def details_markdown(details: Any) -> str:
    """A model's summary: name (active?), created, base model, epochs, best mAP50, dataset
    snapshot, its other registry numbers (``details.metrics``, when read), notes, tags,
    exports and why training stopped early."""
    rec = details.record
    lines = [f"### {rec.name}{' ★ active' if rec.active else ''}",
             f"- created: {format_created(rec.created)} · base model: `{rec.base_model}` · epochs "
             f"completed: {rec.epochs_completed} · best mAP50: {_fraction(rec.best_map50)}",
             f"- trained on: {rec.dataset} ({rec.dataset_snapshot or 'snapshot unknown'})"]
    m = getattr(details, "metrics", None)
    if m is not None:
        ms = _MISSING if m.inference_ms is None else f"{m.inference_ms:.1f}"
        params = _MISSING if m.parameters is None else f"{m.parameters:,}"
        lines.append(f"- best.pt on val: mAP50-95 {_fraction(m.map50_95)} · precision "
                     f"{_fraction(m.precision)} · recall {_fraction(m.recall)} · fitness "
                     f"{_fraction(m.fitness)} · parameters {params} · inference {ms} ms")
    if details.stop_reason:
        lines.append(f"- stopped early: {markdown_text(details.stop_reason)}")
    if rec.tags:
        lines.append(f"- tags: {markdown_text(', '.join(rec.tags))}")
    if rec.notes:
        lines.append(f"- notes: {markdown_text(rec.notes)}")
    lines.append(f"- exports: {exports_text(details.exports, details.export_reports)}")
    return "\n".join(lines)


def exports_text(exports: Mapping[str, Path], reports: Mapping[str, Any] | None = None) -> str:
    """E.g. ``"onnx (best.onnx, 10.3 MB), torchscript (...)"`` or ``"none yet"``; sizes in
    megabytes (10^6 bytes, a folder's files added up). With ``reports`` (``ExportReport`` by
    format) a Markdown list, each export with its validation against best.pt (⚠️ when an INT8
    export's mAP50-95 drop exceeded its maximum)."""
    parts = []
    for fmt, path in exports.items():
        path = Path(path)
        try:
            files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
            size = f", {sum(p.stat().st_size for p in files) / 1e6:.1f} MB"
        except OSError:
            size = ""
        report = (reports or {}).get(fmt)
        note = ""
        if report is not None:
            note = f": {'⚠️ ' if report.drop_exceeded else ''}{markdown_text(report.summary())}"
        parts.append(f"{fmt} ({path.name}{size}){note}")
    if not parts:
        return "none yet"
    return "".join(f"\n  - {p}" for p in parts) if reports else ", ".join(parts)


def dataset_warning(details: Any) -> str:
    """A warning line when the dataset changed since training, else ""."""
    if not details.dataset_changed:
        return ""
    return f"⚠️ **Dataset changed.** {details.dataset_message}"


def comparison_frame(comparison: Any) -> pd.DataFrame:
    """The config table of a ``ModelComparison``: ``COMPARE_FIELD``, one column per model (in
    ``comparison.names`` order) and ``COMPARE_DIFFERS`` ("≠" on rows whose values differ); a
    field repeated in ``config_rows`` is shown once."""
    rows, seen = [], set()
    for row in comparison.config_rows:
        if row.field not in seen:  # e.g. base_model is both a summary and a config field
            seen.add(row.field)
            show = _fraction if row.field in METRIC_FIELDS else show_value
            rows.append([row.field, *[show(v) for v in row.values],
                         "≠" if row.differs else ""])
    return pd.DataFrame(rows, columns=[COMPARE_FIELD, *comparison.names, COMPARE_DIFFERS])


def styled_comparison(comparison: Any) -> Styler:
    """``comparison_frame`` with the differing rows highlighted (``DIFF_STYLE``)."""
    frame = comparison_frame(comparison)

    def highlight(row: pd.Series) -> list[str]:
        style = DIFF_STYLE if row[COMPARE_DIFFERS] else ""
        return [style] * len(row)

    return frame.style.apply(highlight, axis=1)


def comparison_summary(comparison: Any) -> str:
    """Which models were compared, their final mAP50 / mAP50-95 and how many settings differ."""
    differ = [row.field for row in comparison.config_rows if row.differs]
    parts = []
    for name in comparison.names:
        final = comparison.finals.get(name)
        scores = (f"mAP50 {_fraction(final.map50)}, mAP50-95 {_fraction(final.map50_95)}"
                  if final is not None else "no final metrics")
        parts.append(f"**{name}**: {scores}")
    shown = ", ".join(differ[:12]) + (" …" if len(differ) > 12 else "")
    return ("; ".join(parts) + f"  \n{len(differ)} setting(s) differ"
            + (f": {shown}" if differ else "."))


def detection_rows(result: Any) -> list[list[Any]]:
    """``DETECTION_COLUMNS`` rows of a ``PredictionResult`` (confidence 0-1, box in pixels)."""
    return [[row[c] for c in DETECTION_COLUMNS] for row in result.rows()]


def prediction_text(result: Any, hint: str = "") -> str:
    """E.g. ``"**real**: 3 detections (2 RBC, 1 WBC) in 9.3 ms (total 40.2 ms)"``, with
    ``hint`` (e.g. why nothing was found) on a line of its own."""
    text = f"**{result.model or 'model'}**: {result.summary()} (total {result.total_ms:.1f} ms)"
    return text + (f"  \n{markdown_text(hint)}" if hint else "")


#: Columns of the kept-evaluations table (fractions 0-1 with 3 decimals, ms with 1).
EVALUATION_COLUMNS = ["created", "dataset", "split", "images", "imgsz", "mAP50", "mAP50-95",
                      "precision", "recall", "fitness", "inference ms", "device"]


def evaluation_rows(evaluations: Sequence[Any]) -> list[list[Any]]:
    """``EVALUATION_COLUMNS`` rows of ``Evaluation``s, in the order given (newest first from
    ``ModelService.evaluations``)."""
    rows = []
    for e in evaluations:
        r, ms = e.result, e.result.speed_ms.get("inference")
        rows.append([format_created(e.created), e.dataset, e.split, e.images,
                     show_value(e.imgsz), *[_fraction(v) for v in (r.map50, r.map50_95,
                                                                   r.precision, r.recall,
                                                                   r.fitness)],
                     _MISSING if ms is None else f"{ms:.1f}", r.device or _MISSING])
    return rows


def evaluation_markdown(evaluation: Any | None) -> str:
    """One evaluation's headline: model, dataset and split, images and instances, the metrics
    over all classes; a hint when there is none yet."""
    if evaluation is None:
        return "No evaluation kept yet: choose a split and press Evaluate."
    e, r = evaluation, evaluation.result
    ms = r.speed_ms.get("inference")
    return (f"**{e.model}** on **{e.dataset}** {e.split} ({e.images} images, {r.instances} "
            f"instances, imgsz {show_value(e.imgsz)}, {r.device or 'device unknown'}; "
            f"{format_created(e.created)})  \nmAP50 {_fraction(r.map50)} · mAP50-95 "
            f"{_fraction(r.map50_95)} · precision {_fraction(r.precision)} · recall "
            f"{_fraction(r.recall)} · fitness {_fraction(r.fitness)} · inference "
            f"{_MISSING if ms is None else f'{ms:.1f}'} ms per image")
