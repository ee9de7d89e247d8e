"""Ultralytics validation of a model file on a dataset split.

Ultralytics comes through ``ultralytics_backend._ultralytics()`` (imported when called: its pip
auto-install off), so this module never imports it itself.

``validate(model_file, data_yaml, split, ...)`` runs ``YOLO(model_file).val(...)`` on a model
of its own (never a cached one that ``predict`` uses: validation fuses it and moves it to its
device) and returns a ``ValidationResult``; any model Ultralytics loads works (``.pt``, or an
export: ``.onnx``, ``.torchscript``, an ``_openvino_model`` / ``_ncnn_model`` folder, ...), run by
its own runtime. An exported fixed-shape model is validated at its export's batch with
``rect=False`` (Ultralytics' validator sets both). ``ValidationMixin`` gives ``UltralyticsBackend`` its
``evaluate`` and ``class_names``.

Facts this relies on (ultralytics 8.4 ``models/yolo/detect/val.py``, ``utils/metrics.py``):
``val()`` returns a ``DetMetrics`` with ``box.mp / mr / map50 / map``, ``fitness``,
``speed`` (ms per image) and the per-class arrays ``results.per_class_rows`` reads; it writes
its save folder under ``project/name`` (a temporary folder here, removed after) and a labels
``.cache`` beside the dataset's labels, as training does.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any, Callable

from ..errors import NotFoundError, StudioError, ValidationError
from .evaluation import SPEED_KEYS, ValidationResult
from .results import count_parameters, per_class_rows

#: Images per validation batch (Ultralytics' default for ``val``).
VAL_BATCH = 16


def _fraction(value: Any) -> float:
    number = float(value)
    return 0.0 if math.isnan(number) else number


def result_from_metrics(metrics: Any, parameters: int | None, device: str) -> ValidationResult:
    """A ``ValidationResult`` of an Ultralytics ``DetMetrics`` (NaN read as 0, as Ultralytics'
    own fitness does)."""
    box = metrics.box
    rows = per_class_rows(metrics)
    speed = dict(getattr(metrics, "speed", None) or {})
    return ValidationResult(
        precision=_fraction(box.mp), recall=_fraction(box.mr), map50=_fraction(box.map50),
        map50_95=_fraction(box.map), fitness=_fraction(metrics.fitness), per_class=rows,
        instances=sum(int(row["instances"] or 0) for row in rows),
        speed_ms={k: float(speed[k]) for k in SPEED_KEYS if speed.get(k) is not None},
        parameters=parameters, device=device)


def _device_of(model: Any, asked: str | None) -> str:
    """Where ``model``'s weights are after validation (e.g. "cpu"), else what was asked."""
    try:
        return str(next(model.model.parameters()).device)
    except (AttributeError, StopIteration, TypeError):
        return asked or "auto"


def validate(model_file: str | Path, data_yaml: str | Path, split: str = "val",
             imgsz: int | None = None, device: str | None = None,
             load: Callable[[str], Any] | None = None, batch: int = VAL_BATCH,
             **options: Any) -> ValidationResult:
    """Validate ``model_file`` on ``split`` of ``data_yaml`` with Ultralytics.

    Args:
        model_file: Weights Ultralytics loads (``.pt``, ``.onnx``, ``.torchscript``, an export
            folder such as ``best_openvino_model``).
        data_yaml: A data.yaml Ultralytics reads (``DatasetStore.get_data_yaml_path``).
        split: "train", "val" or "test" (the data.yaml must name it).
        imgsz: Pixels; None: Ultralytics' default (640). device: None lets Ultralytics choose.
        load: Builds the model from a path (default ``ultralytics.YOLO``); the loader must
            raise ``StudioError`` subclasses for files it cannot load.
        batch: Images per batch. options: More of ``val``'s arguments (``rect``,
            ``quantize``), passed as given.

    Raises:
        NotFoundError: ``model_file`` does not exist. StudioError: the validation failed
            (out of memory, a dataset file missing, ...), with the cause.
    """
    from .ultralytics_backend import _ultralytics

    if not Path(model_file).exists():
        raise NotFoundError(f"Model file {model_file} does not exist.")
    model = (load or _ultralytics().YOLO)(str(model_file))
    parameters = count_parameters(getattr(model, "model", None))  # before val fuses it
    with tempfile.TemporaryDirectory(prefix="yolo-studio-val-") as folder:
        try:
            metrics = model.val(data=str(data_yaml), split=split, imgsz=imgsz, device=device,
                                batch=batch, workers=0, plots=False, save_json=False,
                                verbose=False, project=folder, name="val", exist_ok=True,
                                **options)
        except StudioError:
            raise
        except FileNotFoundError as err:
            raise ValidationError(f"Validation could not read the dataset: {err}. Check that "
                                  "its folder is complete.") from err
        except Exception as err:
            text = str(err)
            if type(err).__name__ == "OutOfMemoryError" or "out of memory" in text.lower():
                raise StudioError(f"Out of memory while validating {Path(model_file).name}; "
                                  "evaluate at a smaller imgsz or on the CPU.") from err
            raise StudioError(f"Validation of {Path(model_file).name} failed: "
                              f"{type(err).__name__}: {text}") from err
    return result_from_metrics(metrics, parameters, _device_of(model, device))


class ValidationMixin:
    """``UltralyticsBackend``'s ``evaluate`` and ``class_names`` (needs its ``_models`` cache
    and ``_load_weights``)."""

    def class_names(self, weights: str | Path) -> tuple[str, ...]:
        """The class names a model detects, in class-id order (from the cached model).

        Raises:
            NotFoundError: no such weights file. RegistryError: they cannot be loaded.
        """
        try:
            model, _lock = self._models.get(weights)  # type: ignore[attr-defined]
        except FileNotFoundError as err:
            raise NotFoundError(f"Model weights {weights} do not exist.") from err
        names = getattr(model, "names", None) or {}
        return tuple(str(names[i]) for i in sorted(names))

    def evaluate(self, weights: str | Path, data_yaml: str | Path, split: str = "val",
                 imgsz: int | None = None, device: str | None = None,
                 **options: Any) -> ValidationResult:
        """``validate`` with this backend's loader (its model factory); ``options``: its
        ``batch`` and ``val`` arguments. See ``validate``."""
        return validate(weights, data_yaml, split, imgsz=imgsz, device=device,
                        load=self._load_weights, **options)  # type: ignore[attr-defined]
