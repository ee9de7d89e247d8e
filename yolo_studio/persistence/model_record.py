"""The registry's schema: ``ModelRecord`` and the checks on registry.json content.

registry.json (one per dataset)::

    {"schema_version": 1, "active": name|null, "previous_active": name|null,
     "promote_metric": "fitness" (optional, see ``registry_metrics``),
     "models": {name: {"created": ISO-8601 UTC, "base_model", "epochs_completed", "best_map50",
                       "dataset_snapshot", "dataset_hash", "status", "notes", "tags",
                       "map50_95", "precision", "recall", "parameters", "inference_ms"
                       (optional, ``registry_metrics``), ...extras}}}
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import RegistryError, ValidationError
from .registry_metrics import check_metric_info

SCHEMA_VERSION = 1
STATUS_OK = "ok"
#: Status of a registered model whose weights file is gone (shown, never made active).
STATUS_MISSING_WEIGHTS = "missing-weights"
CORE_KEYS = ("created", "base_model", "epochs_completed", "best_map50", "dataset_snapshot",
             "dataset_hash", "status", "notes", "tags")


def utc_now_iso() -> str:
    """The current UTC time as ISO-8601, e.g. ``2025-01-31T12:00:00.123456+00:00``."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds")


def empty_registry() -> dict[str, Any]:
    """The content of a registry with no model."""
    return {"schema_version": SCHEMA_VERSION, "active": None, "previous_active": None,
            "models": {}}


def check_registry(data: Any) -> str | None:
    """Say why ``data`` is not a registry (None when it is); fill keys older files lack.

    Raises:
        RegistryError: the file was written by a newer studio (schema_version > 1); it is left
            untouched.
    """
    if not isinstance(data, dict):
        return "the top level is not a JSON object"
    if not isinstance(data.get("models"), dict):
        return 'it has no "models" object'
    version = data.setdefault("schema_version", SCHEMA_VERSION)  # none given: version 1
    if not isinstance(version, int):
        return "schema_version is not an integer"
    if version > SCHEMA_VERSION:
        raise RegistryError(f"This registry has schema_version {version}, written by a newer "
                            "YOLO Studio; upgrade the studio to read it.")
    data.setdefault("previous_active", None)
    data.setdefault("active", None)
    for key in ("active", "previous_active"):
        if data[key] is not None and not isinstance(data[key], str):
            return f'"{key}" is neither a model name nor null'
    for name, entry in data["models"].items():
        if not isinstance(entry, dict):
            return f"the entry for model {name!r} is not a JSON object"
    return None


def make_entry(info: dict[str, Any]) -> dict[str, Any]:
    """Build a registry entry from ``ModelStore.save``'s ``info`` (validated).

    Raises:
        ValidationError: a known key has the wrong type (metric keys: ``check_metric_info``),
            or an extra value is not JSON data.
    """
    info = dict(info or {})
    epochs = info.pop("epochs_completed", 0)
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise ValidationError(f"epochs_completed must be an integer >= 0, not {epochs!r}.")
    best = info.pop("best_map50", None)
    if best is not None:
        if isinstance(best, bool) or not isinstance(best, (int, float)) or not (
                math.isfinite(best) and 0 <= best <= 1):
            raise ValidationError(f"best_map50 must be a fraction 0-1 or None, not {best!r}.")
        best = float(best)
    tags = check_tags(info.pop("tags", []))
    check_metric_info(info)  # map50_95, precision, recall, parameters, inference_ms: extras
    entry = {"created": utc_now_iso(), "base_model": str(info.pop("base_model", "") or ""),
             "epochs_completed": epochs, "best_map50": best,
             "dataset_snapshot": str(info.pop("dataset_snapshot", "") or ""),
             "dataset_hash": str(info.pop("dataset_hash", "") or ""), "status": STATUS_OK,
             "notes": str(info.pop("notes", "") or ""), "tags": tags}
    info.pop("created", None)
    info.pop("status", None)
    try:
        json.dumps(info, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ValidationError(f"Model info must be plain JSON data (text, numbers, lists, "
                              f"dicts): {err}.") from err
    entry.update(info)
    return entry


def check_tags(tags: Any) -> list[str]:
    """Return ``tags`` as a list of non-empty, stripped strings.

    Raises:
        ValidationError: tags is not a list/tuple of strings.
    """
    if isinstance(tags, str) or not isinstance(tags, (list, tuple)) or not all(
            isinstance(t, str) for t in tags):
        raise ValidationError("tags must be a list of text labels, e.g. ['baseline', 'v2'].")
    return list(dict.fromkeys(t.strip() for t in tags if t.strip()))


@dataclass(frozen=True)
class ModelRecord:
    """One registered model, as read from registry.json plus where its files are.

    Attributes:
        dataset: Dataset name the model was trained on.
        name: Model name (unique within the dataset).
        created: Registration time, ISO-8601 UTC.
        base_model: The base model the training started from.
        epochs_completed: Epochs actually trained.
        best_map50: Best val mAP50 as a fraction 0-1, None when not measured.
        dataset_snapshot: The dataset at training time, e.g. "364 images, 3 classes".
        dataset_hash: The dataset's content hash at training time (sha256 hex, may be "").
        active: True for the dataset's active model.
        notes: Free text.
        tags: Labels.
        folder: ``models/<dataset>/models/<name>/``.
        weights_path: ``folder/weights/best.pt``.
        extra: Any other keys stored in the entry.
        status: "ok", or "missing-weights" when the weights file is gone.
    """

    dataset: str
    name: str
    created: str
    base_model: str
    epochs_completed: int
    best_map50: float | None
    dataset_snapshot: str
    dataset_hash: str
    active: bool
    notes: str
    tags: tuple[str, ...]
    folder: Path
    weights_path: Path
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    status: str = STATUS_OK

    @classmethod
    def from_entry(cls, dataset: str, name: str, entry: dict[str, Any], folder: Path,
                   active: bool, weights_path: Path, weights_exist: bool) -> "ModelRecord":
        """Build a record from a registry entry (tolerant of missing keys)."""
        status = str(entry.get("status") or STATUS_OK)
        if not weights_exist:
            status = STATUS_MISSING_WEIGHTS
        tags = entry.get("tags") or ()
        return cls(
            dataset=dataset, name=name, created=str(entry.get("created") or ""),
            base_model=str(entry.get("base_model") or ""),
            epochs_completed=int(entry.get("epochs_completed") or 0),
            best_map50=entry.get("best_map50"),
            dataset_snapshot=str(entry.get("dataset_snapshot") or ""),
            dataset_hash=str(entry.get("dataset_hash") or ""), active=active,
            notes=str(entry.get("notes") or ""),
            tags=tuple(str(t) for t in tags) if isinstance(tags, (list, tuple)) else (),
            folder=folder, weights_path=weights_path,
            extra={k: v for k, v in entry.items() if k not in CORE_KEYS}, status=status)
