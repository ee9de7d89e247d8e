"""Plain-text reports of registered models (the ``models`` CLI prints these).

Pure functions of the values ``ModelService`` returns; tables are rendered by pandas.
"""

from __future__ import annotations

from typing import Any, Iterable

from .evaluation import Evaluation
from .export_report import COLUMNS, ExportReport
from .model_details import ModelComparison, ModelDetails
from .model_metrics import SORT_KEYS, ModelMetrics, RegistryView, metrics_of
from .progress import format_metrics

_HISTORY_KEYS = ("epoch", "train_box_loss", "val_box_loss", "precision", "recall", "map50",
                 "map50_95")


#: Below this best mAP50 (fraction 0-1) a model finds next to nothing on its val split.
WEAK_MAP50 = 0.01


def weak_model_warning(record: Any) -> str:
    """A warning for a model made active whose best mAP50 is under ``WEAK_MAP50``, else ""."""
    best = getattr(record, "best_map50", None)
    if best is None or best >= WEAK_MAP50:
        return ""
    return (f"{record.name} is active, but its best mAP50 on val is {best:.3f}: it finds next "
            "to nothing. Train it longer (more epochs, or from a pretrained .pt), or roll back.")


def no_detections_hint(conf: float, best_map50: float | None) -> str:
    """Why a prediction found no object: the confidence threshold (fraction 0-1), and an
    undertrained model when its best mAP50 is under ``WEAK_MAP50``."""
    hint = f"No detection at confidence >= {conf:.2f}: try a lower confidence threshold."
    if best_map50 is not None and best_map50 < WEAK_MAP50:
        hint += (f" The model's best mAP50 on val is {best_map50:.3f}: it is undertrained, "
                 "train it longer.")
    return hint


def text_table(rows: list[dict[str, Any]], empty: str) -> str:
    """``rows`` as an aligned text table, or ``empty`` when there are none."""
    import pandas as pd

    return pd.DataFrame(rows).to_string(index=False) if rows else empty


def _map50(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def metric_cells(m: ModelMetrics) -> dict[str, str]:
    """A model's registry numbers as text: fractions 0-1 with 4 decimals, parameters with
    thousands separators, inference ms with 1 decimal; "-" where unknown."""
    return {"mAP50": _map50(m.map50), "mAP50-95": _map50(m.map50_95),
            "precision": _map50(m.precision), "recall": _map50(m.recall),
            "fitness": _map50(m.fitness), "parameters": _count(m.parameters),
            "inference_ms": _ms(m.inference_ms)}


def best_line(view: RegistryView) -> str:
    """E.g. "best by fitness: demo (0.4120)", or that no model has that metric."""
    label = SORT_KEYS[view.promote_metric][0]
    if view.best is None:
        return f"best by {label}: none (no model has it)"
    return f"best by {label}: {view.best} ({_map50(view.best_value())})"


def registry_table(view: RegistryView, dataset: str) -> str:
    """The registry of ``dataset`` in ``view``'s order (``*`` marks the active model) with its
    numbers (``metric_cells``), then the best model by the promote metric."""
    rows = [{"active": "*" if r.active else "", "name": r.name, "created": r.created,
             "base_model": r.base_model, "epochs": r.epochs_completed,
             **metric_cells(view.metrics[r.name]), "dataset_snapshot": r.dataset_snapshot,
             "tags": ", ".join(r.tags)} for r in view.records]
    if not rows:
        return f"No models registered for dataset {dataset!r}."
    return f"{text_table(rows, '')}\n{best_line(view)}"


def evaluation_text(e: Evaluation) -> str:
    """One evaluation: where it ran, the metrics over all classes, then per class."""
    r = e.result
    lines = [f"Model {e.model} on {e.dataset} {e.split} ({e.images} images, {r.instances} "
             f"instances; imgsz {e.imgsz}, {r.device or 'device unknown'}), {e.created}",
             f"  mAP50 {_map50(r.map50)}  mAP50-95 {_map50(r.map50_95)}  precision "
             f"{_map50(r.precision)}  recall {_map50(r.recall)}  fitness {_map50(r.fitness)}",
             f"  inference {_ms(r.speed_ms.get('inference'))} ms per image; parameters "
             f"{_count(r.parameters)}",
             text_table(list(r.per_class), "  no class has labels in this split")]
    return "\n".join(lines)


def evaluations_table(evaluations: Iterable[Evaluation]) -> str:
    """Kept evaluations, one row each as given (newest first from ``ModelService``)."""
    rows = [{"created": e.created, "dataset": e.dataset, "split": e.split, "images": e.images,
             "imgsz": e.imgsz, "mAP50": _map50(e.result.map50),
             "mAP50-95": _map50(e.result.map50_95), "precision": _map50(e.result.precision),
             "recall": _map50(e.result.recall),
             "inference_ms": _ms(e.result.speed_ms.get("inference"))} for e in evaluations]
    return text_table(rows, "  none kept")


def details_text(d: ModelDetails) -> str:
    """One model: record, dataset warning, final and per-class metrics, history, config,
    plots."""
    r = d.record
    lines = [f"Model {r.name}{' (active)' if r.active else ''} of dataset {r.dataset}",
             f"  created {r.created}, base model {r.base_model}, {r.epochs_completed} epochs, "
             f"best mAP50 {_map50(r.best_map50)}",
             "  on val: " + "  ".join(f"{k} {v}" for k, v in metric_cells(
                 metrics_of(r)).items()),
             f"  dataset then: {r.dataset_snapshot or 'unknown'}",
             f"  notes: {r.notes or '-'}; tags: {', '.join(r.tags) or '-'}",
             f"  weights: {r.weights_path}"]
    for fmt, path in d.exports.items():
        report = d.export_reports.get(fmt)
        lines.append(f"  export {fmt}: {path}" + (f"\n    {report.summary()}" if report else ""))
    if d.dataset_message:
        lines.append(("WARNING: " if d.dataset_changed else "note: ") + d.dataset_message)
    if d.final is not None:
        lines.append(f"Final (best.pt on val): {format_metrics(d.final)}")
    history = [{k: getattr(m, k) for k in _HISTORY_KEYS} for m in d.history]
    lines += ["Per class (best.pt on val):", text_table(list(d.per_class), "  none recorded"),
              "History:", text_table(history, "  none recorded"), "Config:"]
    lines += [f"  {k}: {v}" for k, v in d.config.items()]
    lines += (["Plots:"] + [f"  {p}" for p in d.plots]) if d.plots else ["Plots: none kept"]
    return "\n".join(lines)


def comparison_text(c: ModelComparison) -> str:
    """The config table (``≠`` marks a difference) and each model's final metrics."""
    lines = [text_table(c.table(), "")]
    for name, final in c.finals.items():
        lines.append(f"{name} final: {format_metrics(final) if final else 'not recorded'}")
    return "\n".join(lines)


def prediction_text(result: Any) -> str:
    """A PredictionResult: summary line and the detections table."""
    return "\n".join([f"{result.model}: {result.summary()} (total {result.total_ms:.1f} ms)",
                      text_table(result.rows(), "no detections")])


def export_text(report: ExportReport, path: Any) -> str:
    """An export: where it is, its options, the comparison table against best.pt (mAP as
    fractions 0-1, latency in ms per image) and, for INT8, the verdict on the mAP50-95 drop."""
    opts = report.options
    lines = [f"Exported to {path} ({report.name}, {opts.get('precision')}, imgsz "
             f"{opts.get('imgsz')}, batch {opts.get('batch')}, {report.export_s:.1f} s)"]
    if not report.rows():
        lines.append(f"Not validated: {report.not_validated or 'no result'}.")
        return "\n".join(lines)
    lines.append(f"Validated on the val split ({report.images} images, "
                 f"{report.exported.instances} boxes) on {report.device}, each with its own "
                 "runtime:")
    header = ["model", *(label for label, _, _ in COLUMNS)]
    lines.append(text_table([dict(zip(header, row)) for row in report.rows()], ""))
    if report.max_drop is not None:
        lines.append(("WARNING: " if report.drop_exceeded else "")
                     + f"mAP50-95 drop {report.map_drop:.3f}: "
                     + ("more than" if report.drop_exceeded else "within")
                     + f" the maximum {report.max_drop:.3f}.")
    return "\n".join(lines)


def formats_text(rows: list[list[str]], columns: Iterable[str]) -> str:
    """The export formats table (``ModelService.export_formats_table``)."""
    return text_table([dict(zip(columns, row)) for row in rows], "No export formats.")
