"""The numbers a registry shows per model, the metric to promote by, and sorting by them.

``metrics_of(record)`` reads a model's mAP50, mAP50-95, precision, recall (best.pt on val after
training, fractions 0-1), parameters and inference ms from its registry entry; a model
registered before the entry held them gets them from its metrics.json (the final validation,
else the best epoch) or its results.csv, read only then, never written back. ``fitness`` is
Ultralytics' (``FITNESS_WEIGHTS``). ``registry_view`` is what the Models tab and the ``models``
CLI list: the records in the order asked, their metrics, the promote metric and the best model.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from typing import Any, Iterable

from ..errors import TrainingError, ValidationError
from ..persistence.registry_metrics import FRACTION_KEYS, PROMOTE_METRICS
from .results import parse_results_csv

#: Ultralytics 8.4's fitness of a detector: ``utils/metrics.py`` ``Metric.fitness`` weighs
#: ``mean_results()`` = [precision, recall, mAP50, mAP50-95] by [0.0, 0.0, 0.0, 1.0] (NaN as 0);
#: it chooses best.pt and drives early stopping. tests/training check it against Ultralytics.
FITNESS_WEIGHTS = {"precision": 0.0, "recall": 0.0, "map50": 0.0, "map50_95": 1.0}
#: Sort keys of the registry table -> (label, best first is the highest value).
SORT_KEYS: dict[str, tuple[str, bool]] = {
    "created": ("created (newest first)", True), "name": ("name (A-Z)", False),
    "map50": ("mAP50", True), "map50_95": ("mAP50-95", True), "precision": ("precision", True),
    "recall": ("recall", True), "fitness": ("fitness", True),
    "parameters": ("parameters (fewest first)", False),
    "inference_ms": ("inference ms (fastest first)", False)}
DEFAULT_SORT = "created"


def fitness(values: dict[str, float | None]) -> float | None:
    """Ultralytics' fitness of ``values`` (keys of ``FITNESS_WEIGHTS``, fractions 0-1); None
    when a metric it weighs is missing."""
    if any(values.get(k) is None for k, w in FITNESS_WEIGHTS.items() if w):
        return None
    return float(sum(w * float(values.get(k) or 0.0) for k, w in FITNESS_WEIGHTS.items()))


@dataclass(frozen=True)
class ModelMetrics:
    """A model's registry numbers (None where unknown).

    Attributes:
        map50, map50_95, precision, recall: best.pt on val after training, fractions 0-1.
        parameters: Number of weights of the model.
        inference_ms: Milliseconds per image of the forward pass (Ultralytics' speed) in the
            final validation after training, or in an evaluation for older models.
        source: Where the four val metrics came from: "registry", "metrics.json",
            "results.csv" or "" (nowhere).
    """

    map50: float | None = None
    map50_95: float | None = None
    precision: float | None = None
    recall: float | None = None
    parameters: int | None = None
    inference_ms: float | None = None
    source: str = ""

    @property
    def fitness(self) -> float | None:
        """Ultralytics' fitness of the four val metrics (``FITNESS_WEIGHTS``)."""
        return fitness({k: getattr(self, k) for k in FITNESS_WEIGHTS})

    def value(self, key: str) -> float | None:
        """The number for a ``PROMOTE_METRICS`` / ``SORT_KEYS`` metric key."""
        return self.fitness if key == "fitness" else getattr(self, key)


def _val_metrics(data: Any) -> dict[str, float | None] | None:
    """The four val metrics of a metrics.json ``final`` / history row, or None unless it has
    mAP50-95."""
    if not isinstance(data, dict) or data.get("map50_95") is None:
        return None
    return {k: data.get(k) for k in ("map50", *FRACTION_KEYS)}


def _best_epoch(rows: Iterable[dict[str, Any]]) -> dict[str, float | None] | None:
    """The val metrics of the epoch with the highest fitness (the epoch of best.pt)."""
    found = [m for m in map(_val_metrics, rows) if m is not None]
    return max(found, key=lambda m: fitness(m) or 0.0) if found else None


def files_metrics(folder: str | os.PathLike[str]) -> tuple[dict[str, float | None] | None, str]:
    """(val metrics, source) read from a model folder: metrics.json's ``final``, else its best
    epoch, else results.csv's best epoch; (None, "") when none has mAP50-95."""
    with contextlib.suppress(OSError, ValueError):
        with open(os.path.join(folder, "metrics.json"), encoding="utf-8") as handle:
            data = json.load(handle)
        if isinstance(data, dict):
            found = _val_metrics(data.get("final")) or _best_epoch(data.get("history") or [])
            if found:
                return found, "metrics.json"
    with contextlib.suppress(TrainingError):
        rows = [m.to_dict() for m in parse_results_csv(os.path.join(folder, "results.csv"))]
        found = _best_epoch(rows)
        if found:
            return found, "results.csv"
    return None, ""


def metrics_of(record: Any) -> ModelMetrics:
    """The registry numbers of a ``ModelRecord``: its entry's, completed from its files when
    the entry lacks the val metrics (a model registered before they were kept)."""
    extra = record.extra
    values = {"map50": record.best_map50, **{k: extra.get(k) for k in FRACTION_KEYS}}
    source = "registry"
    if any(k not in extra for k in FRACTION_KEYS):
        found, source = files_metrics(record.folder)
        values = {k: values[k] if values[k] is not None else (found or {}).get(k)
                  for k in values}
    return ModelMetrics(**values, parameters=extra.get("parameters"),
                        inference_ms=extra.get("inference_ms"), source=source)


def check_sort(key: str | None) -> str:
    """``key`` (None / "": ``DEFAULT_SORT``) when it is a ``SORT_KEYS`` key.

    Raises:
        ValidationError: naming the keys allowed.
    """
    key = key or DEFAULT_SORT
    if key not in SORT_KEYS:
        raise ValidationError(f"Cannot sort models by {key!r}; use one of "
                              f"{', '.join(SORT_KEYS)}.")
    return key


def sort_records(records: Iterable[Any], metrics: dict[str, ModelMetrics],
                 key: str | None = None) -> list[Any]:
    """``records`` best first by ``key`` (``SORT_KEYS``; ``metrics`` by model name); models
    without that number last, ties newest first.

    Raises:
        ValidationError: unknown key.
    """
    key = check_sort(key)
    newest = sorted(records, key=lambda r: str(r.created), reverse=True)
    if key == "created":
        return newest
    if key == "name":
        return sorted(newest, key=lambda r: r.name.casefold())
    highest = SORT_KEYS[key][1]
    known = [r for r in newest if metrics[r.name].value(key) is not None]
    known.sort(key=lambda r: metrics[r.name].value(key), reverse=highest)  # stable: ties
    return known + [r for r in newest if metrics[r.name].value(key) is None]


@dataclass(frozen=True)
class RegistryView:
    """A dataset's registry as listed.

    Attributes:
        records: ModelRecords in the order asked. metrics: ``ModelMetrics`` by model name.
        sort: The sort key used. promote_metric: The dataset's (``PROMOTE_METRICS``).
        best: Name of the model with the highest promote metric (None when no model has it).
    """

    records: tuple[Any, ...]
    metrics: dict[str, ModelMetrics]
    sort: str
    promote_metric: str
    best: str | None

    def best_value(self) -> float | None:
        """The best model's promote metric (fraction 0-1), or None."""
        return None if self.best is None else self.metrics[self.best].value(self.promote_metric)


def registry_view(models: Any, dataset: str, sort: str | None = None) -> RegistryView:
    """The models of ``dataset`` sorted by ``sort`` with their metrics and the best one.

    Raises:
        ValidationError: unknown sort key. RegistryError: the registry is unreadable.
    """
    sort = check_sort(sort)
    records = models.list(dataset)
    metrics = {r.name: metrics_of(r) for r in records}
    promote = models.promote_metric(dataset)
    ranked = sort_records(records, metrics, promote)
    best = ranked[0].name if ranked and metrics[ranked[0].name].value(promote) is not None \
        else None
    return RegistryView(tuple(sort_records(records, metrics, sort)), metrics, sort, promote,
                        best)

