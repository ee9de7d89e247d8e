"""Evaluating a registered model on a dataset split: the result types and the checks before.

``ValidationResult`` is one Ultralytics validation of a model file (``ultralytics_val.validate``
runs it; nothing here imports Ultralytics). ``Evaluation`` is a registered model's evaluation
as kept with it (``ModelStore.add_evaluation``): where it ran, on what, and the result.
``evaluate`` is ``ModelService.evaluate_model``: a model is evaluated on its own dataset or on
another one whose data.yaml names the same classes in the same order (``class_mismatch``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import ValidationError
from ..persistence.model_record import utc_now_iso
from .inference import check_thresholds

#: Splits a model is evaluated on.
EVAL_SPLITS = ("val", "test")
#: Keys of ``ValidationResult.speed_ms``: Ultralytics' per-image timings.
SPEED_KEYS = ("preprocess", "inference", "postprocess")


@dataclass(frozen=True)
class ValidationResult:
    """One Ultralytics validation of a model file on one split.

    Attributes:
        precision, recall, map50, map50_95: Over all classes, fractions 0-1
            (``DetMetrics.box.mp / mr / map50 / map``).
        fitness: Ultralytics' own fitness of this validation (``DetMetrics.fitness``).
        per_class: Rows of ``results.per_class_rows`` (class, class_id, images, instances,
            precision, recall, map50, map50_95).
        instances: Labelled boxes in the split (sum over classes).
        speed_ms: Milliseconds per image: preprocess, inference, postprocess.
        parameters: Number of weights (None for an exported model).
        device: Where it ran, e.g. "cpu", "cuda:0".
    """

    precision: float
    recall: float
    map50: float
    map50_95: float
    fitness: float
    per_class: tuple[dict[str, Any], ...] = ()
    instances: int = 0
    speed_ms: dict[str, float] = field(default_factory=dict)
    parameters: int | None = None
    device: str = ""


@dataclass(frozen=True)
class Evaluation:
    """A registered model's evaluation, as kept in its evaluations.json.

    Attributes:
        model: The model's name. dataset: The dataset evaluated on (the model's own or another
            with the same classes). split: "val" or "test".
        created: When it ran, ISO-8601 UTC. imgsz: Pixels. images: Images in the split.
        dataset_hash, dataset_snapshot: The dataset's content then ("72 images, 3 classes"
            counts all splits).
        result: The validation's numbers.
    """

    model: str
    dataset: str
    split: str
    created: str
    imgsz: int | None
    images: int
    dataset_hash: str
    dataset_snapshot: str
    result: ValidationResult

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data: the context keys and the result's keys side by side."""
        data = {k: v for k, v in asdict(self).items() if k != "result"}
        result = asdict(self.result)
        result["per_class"] = [dict(row) for row in self.result.per_class]
        return {**data, **result}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Evaluation":
        """The Evaluation that ``to_dict`` gave (a missing number is None)."""
        values = {k: data.get(k) for k in ("precision", "recall", "map50", "map50_95",
                                           "fitness", "parameters")}
        result = ValidationResult(**values, per_class=tuple(data.get("per_class") or ()),
                                  instances=int(data.get("instances") or 0),
                                  speed_ms=dict(data.get("speed_ms") or {}),
                                  device=str(data.get("device", "")))
        return cls(model=str(data.get("model", "")), dataset=str(data.get("dataset", "")),
                   split=str(data.get("split", "")), created=str(data.get("created", "")),
                   imgsz=data.get("imgsz"), images=int(data.get("images") or 0),
                   dataset_hash=str(data.get("dataset_hash", "")),
                   dataset_snapshot=str(data.get("dataset_snapshot", "")), result=result)


def class_mismatch(model_names: tuple[str, ...], dataset_names: tuple[str, ...],
                   dataset: str) -> str | None:
    """Why a model detecting ``model_names`` (in class-id order) cannot be evaluated on
    ``dataset`` whose data.yaml names ``dataset_names``; None when they are the same."""
    model_names, dataset_names = tuple(model_names), tuple(dataset_names)
    if model_names == dataset_names:
        return None
    if len(model_names) != len(dataset_names):
        return (f"the model detects {len(model_names)} classes ({', '.join(model_names)}) but "
                f"dataset {dataset!r} names {len(dataset_names)} "
                f"({', '.join(dataset_names)})")
    pairs = [(i, a, b) for i, (a, b) in enumerate(zip(model_names, dataset_names)) if a != b]
    shown = "; ".join(f"class {i} is {a!r} in the model but {b!r} in dataset {dataset!r}"
                      for i, a, b in pairs[:5])
    more = f" (and {len(pairs) - 5} more)" if len(pairs) > 5 else ""
    return shown + more


def _checked_target(service: Any, record: Any, target: str, split: str) -> Any:
    """The ``DatasetInfo`` of ``target`` once it has ``split`` images and the model's classes.

    Raises:
        NotFoundError: no such dataset. ValidationError: no images in ``split``, or other class
            names or order (named).
    """
    info = service.datasets.get(target)
    if not info.image_counts.get(split):
        raise ValidationError(
            f"Dataset {target!r} has no {split} images (its data.yaml names "
            f"{', '.join(f'{s} ({n})' for s, n in info.image_counts.items()) or 'no split'}); "
            f"add a {split}: folder to its data.yaml, or evaluate on another split.")
    problem = class_mismatch(service.backend.class_names(record.weights_path),
                             info.class_names, target)
    if problem:
        raise ValidationError(f"Model {record.name!r} cannot be evaluated on dataset "
                              f"{target!r}: {problem}. Evaluate it on a dataset whose "
                              "data.yaml names the same classes in the same order.")
    return info


def evaluate(service: Any, dataset: str, name: str | None, split: str = "val",
             on_dataset: str | None = None, imgsz: int | None = None,
             device: str | None = None) -> Evaluation:
    """``ModelService.evaluate_model``: validate a registered model on ``split`` of
    ``on_dataset`` (default: its own dataset) and keep the result with it.

    Raises:
        ValidationError: unknown split, a dataset without that split, other class names or
            order (the message names the difference), bad imgsz. NotFoundError: unknown
            model or dataset. TrainingError: a device torch cannot use. StudioError: the
            validation failed. Nothing is kept then.
    """
    if split not in EVAL_SPLITS:
        raise ValidationError(f"Evaluate on {' or '.join(EVAL_SPLITS)}, not {split!r}.")
    check_thresholds(0.5, 0.5, imgsz)  # imgsz: a positive number of pixels, as predict takes
    record = service.resolve(dataset, name)
    target = on_dataset or dataset
    info = _checked_target(service, record, target, split)
    device = (device or "").strip().lower() or None
    if device:
        from .devices import check_device

        check_device(device)
    imgsz = imgsz or service.training_imgsz(dataset, record.name)
    result = service.backend.evaluate(record.weights_path,
                                      service.datasets.get_data_yaml_path(target, info), split,
                                      imgsz=imgsz, device=device)
    evaluation = Evaluation(model=record.name, dataset=target, split=split,
                            created=utc_now_iso(), imgsz=imgsz, images=info.image_counts[split],
                            dataset_hash=info.content_hash, dataset_snapshot=info.snapshot,
                            result=result)
    service.models.add_evaluation(dataset, record.name, evaluation.to_dict(),
                                  fill={"parameters": result.parameters,
                                        "inference_ms": result.speed_ms.get("inference")})
    return evaluation
