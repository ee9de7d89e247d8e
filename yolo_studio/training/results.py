"""Output parser: Ultralytics ``results.csv`` and live trainer state -> ``EpochMetrics``.

Column names differ across Ultralytics versions (``metrics/mAP50(B)`` in 8.x,
``metrics/mAP_0.5`` in YOLOv5-era files, padded with spaces in some releases); every variant
below maps to the same ``EpochMetrics`` field.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Mapping

from ..errors import TrainingError
from .snapshot import EpochMetrics

#: EpochMetrics field -> accepted column / metric-key names, first match wins.
COLUMN_VARIANTS: dict[str, tuple[str, ...]] = {
    "train_box_loss": ("train/box_loss", "train/box_om", "train/giou_loss"),
    "train_cls_loss": ("train/cls_loss", "train/cls_om"),
    "train_dfl_loss": ("train/dfl_loss", "train/dfl_om", "train/obj_loss"),
    "val_box_loss": ("val/box_loss", "val/box_om", "val/giou_loss"),
    "val_cls_loss": ("val/cls_loss", "val/cls_om"),
    "val_dfl_loss": ("val/dfl_loss", "val/dfl_om", "val/obj_loss"),
    "precision": ("metrics/precision(B)", "metrics/precision"),
    "recall": ("metrics/recall(B)", "metrics/recall"),
    "map50": ("metrics/mAP50(B)", "metrics/mAP_0.5", "metrics/mAP50"),
    "map50_95": ("metrics/mAP50-95(B)", "metrics/mAP_0.5:0.95", "metrics/mAP50-95"),
    "lr": ("lr/pg0", "x/lr0"),
    "time_s": ("time",),
}


def _number(value: Any) -> float | None:
    """float(value), or None for missing / non-numeric / NaN values."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def metrics_from_mapping(values: Mapping[str, Any], epoch: int) -> EpochMetrics:
    """Build EpochMetrics from a mapping keyed by any of the ``COLUMN_VARIANTS`` names.

    Keys are compared with surrounding whitespace stripped; absent values become None.
    """
    clean = {str(k).strip(): v for k, v in values.items()}
    fields: dict[str, float | None] = {}
    for field, names in COLUMN_VARIANTS.items():
        fields[field] = next((_number(clean[n]) for n in names if n in clean), None)
    return EpochMetrics(epoch=int(epoch), **fields)


def parse_results_csv(path: str | Path) -> list[EpochMetrics]:
    """Read an Ultralytics ``results.csv`` into one EpochMetrics per epoch, 1-based, in order.

    Files whose epoch column starts at 0 (older releases) are shifted to 1-based; when an epoch
    appears twice (a resumed run), the last row wins.

    Raises:
        TrainingError: the file is missing, empty or has no ``epoch`` column.
    """
    import pandas as pd

    path = Path(path)
    try:
        frame = pd.read_csv(path, skipinitialspace=True)
    except FileNotFoundError as exc:
        raise TrainingError(f"No results file at {path}.") from exc
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as exc:
        raise TrainingError(f"Results file {path} is empty or not a CSV: {exc}") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    if "epoch" not in frame.columns:
        raise TrainingError(f"Results file {path} has no 'epoch' column; "
                            f"columns are {', '.join(frame.columns)}.")
    frame = frame[pd.to_numeric(frame["epoch"], errors="coerce").notna()]
    epochs = pd.to_numeric(frame["epoch"]).astype(int)
    if len(epochs) and epochs.iloc[0] == 0:
        epochs = epochs + 1
    frame = frame.assign(epoch=epochs).drop_duplicates("epoch", keep="last")
    return [metrics_from_mapping(row, row["epoch"]) for row in frame.to_dict("records")]


def train_losses(trainer: Any) -> dict[str, float]:
    """The trainer's running mean train losses as ``{"train/box_loss": value, ...}``.

    ``trainer.tloss`` is a dict keyed by loss name in Ultralytics 8.4 and a tensor aligned with
    ``trainer.loss_names`` in earlier 8.x releases; both are handled. Empty before any batch.
    """
    tloss = getattr(trainer, "tloss", None)
    if tloss is None:
        return {}
    if isinstance(tloss, Mapping):
        items = list(tloss.items())
    else:
        names = list(getattr(trainer, "loss_names", ()) or ())
        values = tloss.tolist() if hasattr(tloss, "tolist") else list(tloss)
        values = values if isinstance(values, list) else [values]
        items = list(zip(names, values))
    return {f"train/{name}": float(value) for name, value in items}


def metrics_from_trainer(trainer: Any, epoch: int, include_train: bool = True) -> EpochMetrics:
    """EpochMetrics for ``epoch`` (1-based) from a live Ultralytics trainer.

    Train losses come from ``trainer.tloss``/``trainer.loss_names``, val metrics and losses from
    ``trainer.metrics``, the learning rate from ``trainer.lr["lr/pg0"]``, and ``time_s`` is
    seconds since ``trainer.train_time_start``. ``include_train=False`` leaves the train losses
    None (for the final validation of best.pt, which has no train losses of its own).
    """
    values: dict[str, Any] = dict(getattr(trainer, "metrics", None) or {})
    if include_train:
        values.update(train_losses(trainer))
        values.update(getattr(trainer, "lr", None) or {})
    start = getattr(trainer, "train_time_start", None)
    if start is not None:
        values["time"] = time.time() - start
    return metrics_from_mapping(values, epoch)


def _at(values: Any, i: int) -> float | None:
    try:
        return _number(values[i])
    except (IndexError, KeyError, TypeError):
        return None


def per_class_metrics(trainer: Any) -> tuple[dict[str, Any], ...]:
    """Per-class metrics of the trainer's last validation (after ``final_eval``: best.pt on val),
    ``per_class_rows`` of ``trainer.validator.metrics``; () when the trainer has none (e.g. a
    fake trainer or no final validation)."""
    return per_class_rows(getattr(getattr(trainer, "validator", None), "metrics", None))


def per_class_rows(metrics: Any) -> tuple[dict[str, Any], ...]:
    """Per-class rows of one Ultralytics validation.

    Read from an Ultralytics 8.4 ``DetMetrics`` (what ``YOLO.val`` returns and
    ``validator.metrics`` holds): ``box.ap_class_index`` (class ids present in the labels),
    ``box.p``, ``box.r``, ``box.ap50``, ``box.ap`` (mAP50-95), ``nt_per_class`` /
    ``nt_per_image`` and ``names``. Classes without labels are not listed (Ultralytics computes
    nothing for them).

    Returns:
        One dict per class: ``class`` (name), ``class_id``, ``images``, ``instances``, and
        ``precision``, ``recall``, ``map50``, ``map50_95`` as fractions 0-1; () when
        ``metrics`` has no box metrics.
    """
    box = getattr(metrics, "box", None)
    index = getattr(box, "ap_class_index", None)
    if box is None or index is None:
        return ()
    names = dict(getattr(metrics, "names", None) or {})
    per_class, per_image = (getattr(metrics, k, None) for k in ("nt_per_class", "nt_per_image"))
    rows = []
    for i, class_id in enumerate(int(c) for c in index):
        instances, images = _at(per_class, class_id), _at(per_image, class_id)
        rows.append({"class": str(names.get(class_id, f"class_{class_id}")), "class_id": class_id,
                     "images": None if images is None else int(images),
                     "instances": None if instances is None else int(instances),
                     "precision": _at(box.p, i), "recall": _at(box.r, i),
                     "map50": _at(box.ap50, i), "map50_95": _at(box.ap, i)})
    return tuple(rows)


def count_parameters(module: Any) -> int | None:
    """Number of weights of a torch module (``sum(p.numel())``, as Ultralytics' model summary
    counts them; a DDP wrapper's inner module); None when ``module`` is not one (e.g. the
    file name of an exported model)."""
    module = getattr(module, "module", module)
    parameters = getattr(module, "parameters", None)
    if not callable(parameters):
        return None
    return int(sum(p.numel() for p in parameters()))


def model_facts(trainer: Any) -> dict[str, Any]:
    """``{"parameters": int | None, "inference_ms": float | None}`` of a trainer after its final
    validation: the trained model's weights (``count_parameters(trainer.model)``) and the
    milliseconds per image of the forward pass Ultralytics measured
    (``trainer.validator.speed["inference"]``)."""
    speed = getattr(getattr(trainer, "validator", None), "speed", None)
    ms = _number(speed.get("inference")) if isinstance(speed, Mapping) else None
    return {"parameters": count_parameters(getattr(trainer, "model", None)),
            "inference_ms": ms}
