"""Plain-text reports of registered models (the ``models`` CLI prints these).

Pure functions of the values ``ModelService`` returns; tables are rendered by pandas.
"""

from __future__ import annotations

from typing import Any, Iterable

from .model_details import ModelComparison, ModelDetails
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


def registry_table(records: Iterable[Any], dataset: str) -> str:
    """The registry of ``dataset`` (``*`` marks the active model; mAP50 as a fraction 0-1)."""
    rows = [{"active": "*" if r.active else "", "name": r.name, "created": r.created,
             "base_model": r.base_model, "epochs": r.epochs_completed,
             "best_mAP50": _map50(r.best_map50), "dataset_snapshot": r.dataset_snapshot,
             "tags": ", ".join(r.tags)} for r in records]
    return text_table(rows, f"No models registered for dataset {dataset!r}.")


def details_text(d: ModelDetails) -> str:
    """One model: record, dataset warning, final and per-class metrics, history, config,
    plots."""
    r = d.record
    lines = [f"Model {r.name}{' (active)' if r.active else ''} of dataset {r.dataset}",
             f"  created {r.created}, base model {r.base_model}, {r.epochs_completed} epochs, "
             f"best mAP50 {_map50(r.best_map50)}",
             f"  dataset then: {r.dataset_snapshot or 'unknown'}",
             f"  notes: {r.notes or '-'}; tags: {', '.join(r.tags) or '-'}",
             f"  weights: {r.weights_path}"]
    lines += [f"  export {fmt}: {path}" for fmt, path in d.exports.items()]
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
