"""Inspecting and comparing registered models: pure assembly from the stores' files.

``model_details`` gathers one model's record, training config, per-epoch history, final and
per-class metrics, validation plots and whether its dataset changed since; ``compare_models``
lines up the histories and configs of several models of one dataset.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import StudioError, TrainingError, ValidationError
from ..extra_args import flat_config
from ..persistence.model_artifacts import export_paths, plot_paths
from .model_metrics import ModelMetrics, metrics_of
from .export_report import ExportReport, kept_reports
from .results import parse_results_csv
from .snapshot import EpochMetrics

_FIELDS = set(EpochMetrics.__dataclass_fields__)
#: Config keys left out of the comparison table (they always differ or say nothing).
_SKIP_CONFIG = ("model_name", "notes")
#: Per-class row keys, in table order: class, images, instances, then fractions 0-1.
PER_CLASS_COLUMNS = ("class", "images", "instances", "precision", "recall", "map50", "map50_95")


def epoch_metrics(data: dict[str, Any]) -> EpochMetrics:
    """EpochMetrics from a metrics.json dict (unknown keys ignored)."""
    return EpochMetrics(**{k: v for k, v in data.items() if k in _FIELDS})


@dataclass(frozen=True)
class ModelDetails:
    """Everything the studio knows about one registered model.

    Attributes:
        record: The registry's ModelRecord.
        config: The TrainingConfig it was trained with (``to_dict()`` form, its extra train
            arguments as ``extra_args.<key>`` entries: ``extra_args.flat_config``; {} if
            unreadable).
        history: One EpochMetrics per trained epoch (metrics.json, else the kept results.csv).
        final: Metrics of best.pt on val after training, or None.
        per_class: Rows with ``PER_CLASS_COLUMNS`` keys (fractions 0-1) from the final
            validation; () for models registered before per-class metrics were kept.
        plots: Validation plot images kept with the model (``ModelStore.plots``).
        exports: ``{format: path}`` of exported weights that exist.
        export_reports: ``{format: ExportReport}`` of those exports (validation vs best.pt).
        dataset_changed: True when the dataset's content hash now differs from the one at
            training time (or the dataset is gone). dataset_message: says so, or "".
        stop_reason: Why training ended early, or None.
        metrics: The registry numbers (``model_metrics.metrics_of``), None when not read.
    """

    record: Any
    config: dict[str, Any]
    history: tuple[EpochMetrics, ...]
    final: EpochMetrics | None
    per_class: tuple[dict[str, Any], ...]
    plots: tuple[Path, ...]
    exports: dict[str, Path] = field(default_factory=dict)
    dataset_changed: bool = False
    dataset_message: str = ""
    stop_reason: str | None = None
    metrics: ModelMetrics | None = None
    export_reports: dict[str, ExportReport] = field(default_factory=dict)


def _history(metrics: dict[str, Any], folder: Path) -> tuple[EpochMetrics, ...]:
    rows = metrics.get("history") or []
    if rows:
        return tuple(epoch_metrics(m) for m in rows if isinstance(m, dict))
    with contextlib.suppress(TrainingError):
        return tuple(parse_results_csv(folder / "results.csv"))
    return ()


def dataset_status(datasets: Any, record: Any) -> tuple[bool, str]:
    """(changed, message) comparing the dataset's current content hash with the record's."""
    try:
        info = datasets.get(record.dataset)
    except StudioError as err:
        return True, (f"The dataset {record.dataset!r} cannot be read any more ({err}); this "
                      "model's metrics describe the data it had then.")
    if not record.dataset_hash:
        return False, "The dataset's content at training time was not recorded."
    if info.content_hash != record.dataset_hash:
        return True, (f"The dataset {record.dataset!r} has changed since this model was trained "
                      f"(then: {record.dataset_snapshot or 'unknown'}; now: {info.snapshot}). "
                      "Its metrics describe the old content; retrain to compare fairly.")
    return False, ""


def model_details(models: Any, datasets: Any | None, dataset: str, name: str) -> ModelDetails:
    """Assemble the ``ModelDetails`` of one model; ``datasets=None`` skips the dataset check.

    Raises:
        NotFoundError: the model is not registered. RegistryError: its registry is unreadable.
    """
    record = models.get(dataset, name)
    metrics: dict[str, Any] = {}
    with contextlib.suppress(StudioError):
        metrics = models.load_metrics(dataset, name)
    config: dict[str, Any] = {}
    with contextlib.suppress(StudioError):
        config = flat_config(models.load_config(dataset, name))
    final = metrics.get("final")
    per_class = tuple({k: row.get(k) for k in PER_CLASS_COLUMNS}
                      for row in metrics.get("per_class") or [] if isinstance(row, dict))
    changed, message = dataset_status(datasets, record) if datasets is not None else (False, "")
    return ModelDetails(record=record, config=config, history=_history(metrics, record.folder),
                        final=epoch_metrics(final) if isinstance(final, dict) else None,
                        per_class=per_class, plots=tuple(plot_paths(record.folder)),
                        exports=export_paths(record), dataset_changed=changed,
                        dataset_message=message, stop_reason=metrics.get("stop_reason"),
                        metrics=metrics_of(record), export_reports=kept_reports(record))


@dataclass(frozen=True)
class ConfigDiffRow:
    """One training-config field across the compared models; ``differs`` marks a difference."""

    field: str
    values: tuple[Any, ...]
    differs: bool


@dataclass(frozen=True)
class ModelComparison:
    """Several models of one dataset side by side.

    Attributes:
        names: The models, in the order asked.
        histories: ``{name: per-epoch EpochMetrics}`` for overlaid charts.
        finals: ``{name: final EpochMetrics or None}``.
        config_rows: Summary fields (base model, epochs, best mAP50, dataset snapshot) then every
            config field, each with one value per model.
    """

    names: tuple[str, ...]
    histories: dict[str, tuple[EpochMetrics, ...]]
    finals: dict[str, EpochMetrics | None]
    config_rows: tuple[ConfigDiffRow, ...]

    def table(self) -> list[dict[str, Any]]:
        """Rows ``{"field", <one column per model>, "differs": "≠" or ""}`` for display."""
        return [{"field": row.field, **dict(zip(self.names, row.values)),
                 "differs": "≠" if row.differs else ""} for row in self.config_rows]


def _row(name: str, values: list[Any]) -> ConfigDiffRow:
    shown = tuple(values)
    return ConfigDiffRow(name, shown, len({repr(v) for v in shown}) > 1)


def compare_models(models: Any, dataset: str, names: list[str]) -> ModelComparison:
    """Compare two or more models of ``dataset``.

    Raises:
        ValidationError: fewer than two distinct names. NotFoundError: a model is unknown.
    """
    names = list(dict.fromkeys(n for n in names or [] if n))
    if len(names) < 2:
        raise ValidationError("Choose at least two different models to compare.")
    details = [model_details(models, None, dataset, n) for n in names]
    rows = [_row("base_model", [d.record.base_model for d in details]),
            _row("epochs_completed", [d.record.epochs_completed for d in details]),
            _row("best_map50", [d.record.best_map50 for d in details]),
            _row("dataset_snapshot", [d.record.dataset_snapshot for d in details])]
    summary = {row.field for row in rows}  # base_model is a summary row and a config key
    keys = list(dict.fromkeys(k for d in details for k in d.config
                              if k not in _SKIP_CONFIG and k not in summary))
    rows += [_row(k, [d.config.get(k) for d in details]) for k in keys]
    return ModelComparison(names=tuple(names),
                           histories={d.record.name: d.history for d in details},
                           finals={d.record.name: d.final for d in details},
                           config_rows=tuple(rows))

