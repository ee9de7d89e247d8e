"""What the registry keeps about how good its models are, besides their training records.

- Metric keys of a registry entry (optional: entries written before them lack them; readers
  fill them from the model's metrics.json / results.csv, ``training.model_metrics``)::

      "map50_95", "precision", "recall"   # best.pt on val after training, fractions 0-1 or null
      "parameters"                        # number of weights of the model, int or null
      "inference_ms"                      # ms per image of the forward pass (Ultralytics' speed)

  (mAP50 is the entry's older ``"best_map50"``.) ``check_metric_info`` validates them on save.
- The dataset's promote metric, registry.json's top-level ``"promote_metric"`` (absent: the
  default, Ultralytics' fitness): what auto-promote and "best model" compare.
- Evaluations kept with a model, ``<model folder>/evaluations.json``:
  ``{"evaluations": [evaluation, ...]}``, oldest first, at most ``MAX_EVALUATIONS`` (the oldest
  dropped); each evaluation a JSON object (``training.evaluation.Evaluation.to_dict``). Written
  atomically under the registry's lock, so it moves and goes with the model folder.
"""

from __future__ import annotations

import json
import math
from typing import Any

from ..errors import NotFoundError, RegistryError, ValidationError
from .json_store import describe_os_error, write_text_atomic

#: Metrics a user may promote by / rank "best" by, in menu order; ``fitness`` is Ultralytics'.
PROMOTE_METRICS = ("fitness", "map50", "map50_95", "precision", "recall")
DEFAULT_PROMOTE_METRIC = "fitness"
#: Entry keys holding fractions 0-1 (``best_map50`` is checked by ``make_entry``).
FRACTION_KEYS = ("map50_95", "precision", "recall")
EVALUATIONS_FILE = "evaluations.json"
MAX_EVALUATIONS = 100


def check_promote_metric(metric: Any) -> str:
    """Return ``metric`` when it is one of ``PROMOTE_METRICS``.

    Raises:
        ValidationError: naming the metrics allowed.
    """
    if metric not in PROMOTE_METRICS:
        raise ValidationError(f"Unknown metric {metric!r} to promote by; use one of "
                              f"{', '.join(PROMOTE_METRICS)}.")
    return str(metric)


def check_metric_info(info: dict[str, Any]) -> None:
    """Validate the metric keys of ``ModelStore.save``'s ``info`` (absent or None is fine).

    Raises:
        ValidationError: a fraction outside 0-1, ``parameters`` not a whole number >= 0, or
            ``inference_ms`` not a finite number >= 0.
    """
    for key in FRACTION_KEYS:
        value = info.get(key)
        if value is not None and not (_number(value) and 0 <= value <= 1):
            raise ValidationError(f"{key} must be a fraction 0-1 or None, not {value!r}.")
    params = info.get("parameters")
    if params is not None and (isinstance(params, bool) or not isinstance(params, int)
                               or params < 0):
        raise ValidationError(f"parameters must be a whole number >= 0, not {params!r}.")
    ms = info.get("inference_ms")
    if ms is not None and not (_number(ms) and ms >= 0):
        raise ValidationError(f"inference_ms must be a number of milliseconds >= 0, not {ms!r}.")


def _number(value: Any) -> bool:
    return (not isinstance(value, bool) and isinstance(value, (int, float))
            and math.isfinite(value))


class RegistryMetricsMixin:
    """``ModelStore`` methods for the promote metric and kept evaluations (needs ``_registry``,
    ``_entry`` and ``_folder`` of ModelStore)."""

    def promote_metric(self, dataset: str) -> str:
        """The dataset's promote metric (one of ``PROMOTE_METRICS``); the default when none was
        set or the stored one is unknown."""
        data = self._registry(dataset).read()  # type: ignore[attr-defined]
        metric = data.get("promote_metric")
        return metric if metric in PROMOTE_METRICS else DEFAULT_PROMOTE_METRIC

    def set_promote_metric(self, dataset: str, metric: str) -> str:
        """Store the dataset's promote metric in its registry.json; returns it.

        Raises:
            ValidationError: unknown metric (nothing written). RegistryError: write failed.
        """
        check_promote_metric(metric)
        with self._registry(dataset).update() as data:  # type: ignore[attr-defined]
            data["promote_metric"] = metric
        return metric

    def evaluations(self, dataset: str, name: str) -> list[dict[str, Any]]:
        """The evaluations kept with the model, oldest first ([] when none).

        Raises:
            NotFoundError: the model is not registered. RegistryError: evaluations.json is
                unreadable (it is left as it is).
        """
        self._entry(self._registry(dataset).read(), dataset, name)  # type: ignore[attr-defined]
        return self._read_evaluations(dataset, name)

    def _read_evaluations(self, dataset: str, name: str) -> list[dict[str, Any]]:
        path = self._folder(dataset, name) / EVALUATIONS_FILE  # type: ignore[attr-defined]
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise RegistryError(f"The evaluations of model {name!r} cannot be read ({path}: "
                                f"{err}); move the file away to start a new record.") from err
        rows = data.get("evaluations") if isinstance(data, dict) else None
        if not isinstance(rows, list):
            raise RegistryError(f"{path} has no \"evaluations\" list; move the file away to "
                                "start a new record.")
        return [row for row in rows if isinstance(row, dict)]

    def add_evaluation(self, dataset: str, name: str, evaluation: dict[str, Any],
                       fill: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Keep ``evaluation`` with the model (newest last) and set the entry's ``fill`` keys
        (e.g. ``parameters``, ``inference_ms``) that it lacks or holds as null.

        Returns:
            The kept evaluations, oldest first.

        Raises:
            NotFoundError: the model is not registered (deleted or renamed meanwhile).
            ValidationError: ``evaluation`` or ``fill`` is not plain JSON data / valid metrics.
            RegistryError: evaluations.json cannot be read or written (the kept evaluations
                are then as they were), or the registry cannot be written.
        """
        fill = {k: v for k, v in (fill or {}).items() if v is not None}
        check_metric_info(fill)
        try:
            json.dumps(evaluation, allow_nan=False)
        except (TypeError, ValueError) as err:
            raise ValidationError(f"An evaluation must be plain JSON data: {err}.") from err
        registry = self._registry(dataset)  # type: ignore[attr-defined]
        with registry.locked():
            data = registry.read()
            entry = self._entry(data, dataset, name)  # type: ignore[attr-defined]
            folder = self._folder(dataset, name)  # type: ignore[attr-defined]
            if not folder.is_dir():
                raise NotFoundError(f"Model {name!r} has no folder ({folder} is missing).")
            rows = [*self._read_evaluations(dataset, name), evaluation][-MAX_EVALUATIONS:]
            try:
                write_text_atomic(folder / EVALUATIONS_FILE,
                                  json.dumps({"evaluations": rows}, indent=1))
            except OSError as err:
                raise RegistryError(f"Could not keep the evaluation of {name!r}: "
                                    f"{describe_os_error(err)}.") from err
            missing = {k: v for k, v in fill.items() if entry.get(k) is None}
            if missing:
                entry.update(missing)
                registry.write(data)
        return rows
