"""Ultralytics' exporter and validator for registered models (imported lazily, like
``ultralytics_backend``, whose ``_ultralytics()`` turns Ultralytics' pip auto-install off first).

Facts this relies on (ultralytics 8.4.190): ``engine/exporter.py`` has ``export_formats()`` and
the precision sets ``FP16_FORMATS`` / ``INT8_FORMATS``; ``validate_args`` refuses an argument a
format does not list; an exported model validates through ``YOLO(path, task=...).val(...)``,
which loads it with its own runtime (AutoBackend) and, for a fixed-shape export, validates with
``rect=False`` at the export's batch; the validator's ``on_val_end`` callback sees ``seen``
(images validated).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from ..errors import StudioError
from .export_formats import ExportFormat, ExportOptions, formats_from_table
from .export_packages import EXTRAS, Missing, missing_message
from .export_report import ValidationResult


def _ultralytics() -> Any:
    from .ultralytics_backend import _ultralytics as load

    return load()


class UltralyticsExportMixin:
    """``UltralyticsBackend``'s export methods (needs its ``_load_weights`` and ``_formats``)."""

    _formats: list[ExportFormat] | None

    def export_formats(self) -> list[ExportFormat]:
        """Every format of Ultralytics' exporter (``read_formats``), read once per backend."""
        if self._formats is None:
            self._formats = read_formats()
        return list(self._formats)

    @staticmethod
    def has_gpu() -> bool:
        """A CUDA GPU torch can use is present (for GPU-only formats such as TensorRT)."""
        import torch

        return bool(torch.cuda.is_available())

    def export(self, weights: str | Path, fmt: ExportFormat, options: ExportOptions,
               device: str, data_yaml: Path) -> Path:
        """Export ``weights`` on ``device``; the result (a file or a folder) lands beside
        them. Callers check the format's packages first (``export_packages``).

        Raises:
            StudioError: a package the exporter imports is missing (named, with the pip
                command), or the export failed (Ultralytics' reason).
        """
        return export(self._load_weights, Path(weights), fmt, options,  # type: ignore
                      device, data_yaml)

    @staticmethod
    def validate(model_path: Path, data_yaml: Path, options: ExportOptions, device: str,
                 save_dir: Path, quantize: int | None = None) -> ValidationResult:
        """Validate best.pt or an export on the val split (``validate`` below).

        Raises:
            StudioError: the model cannot be loaded or run.
        """
        return validate(model_path, data_yaml, options, device, save_dir, quantize)


def read_formats() -> list[ExportFormat]:
    """Every format of Ultralytics' exporter (``export_formats()``), with its precisions."""
    _ultralytics()
    from ultralytics.engine import exporter

    return formats_from_table(exporter.export_formats(),
                              getattr(exporter, "FP16_FORMATS", frozenset()),
                              getattr(exporter, "INT8_FORMATS", frozenset()))


def export(load: Callable[[str], Any], weights: Path, fmt: ExportFormat,
           options: ExportOptions, device: str, data_yaml: Path) -> Path:
    """Export ``weights`` (loaded with ``load``) to ``fmt``; the result lands beside them.

    Raises:
        StudioError: a package the exporter imports is missing (named, with the pip command),
            or the export failed (Ultralytics' reason).
    """
    _ultralytics()
    model = load(str(weights))
    try:
        produced = model.export(**options.export_kwargs(fmt, device, str(data_yaml)))
    except ImportError as err:
        name = getattr(err, "name", None) or str(err)
        raise StudioError(missing_message(fmt.name, [Missing(name, "not installed")],
                                          EXTRAS.get(fmt.key))) from err
    except Exception as err:
        raise StudioError(f"Export to {fmt.name} failed: {type(err).__name__}: {err}") from err
    if not produced or not Path(produced).exists():
        raise StudioError(f"Export to {fmt.name} produced no file.")
    return Path(produced)


def validate(model_path: Path, data_yaml: Path, options: ExportOptions, device: str,
             save_dir: Path, quantize: int | None = None) -> ValidationResult:
    """Validate ``model_path`` (best.pt or an export) on the val split of ``data_yaml`` as
    ``yolo val`` does, at ``options``' imgsz and batch, ``rect=False``, plots off; Ultralytics'
    files go under ``save_dir``.

    Raises:
        StudioError: the model cannot be loaded or run (its runtime's reason).
    """
    ultralytics = _ultralytics()
    seen: list[int] = []
    try:
        model = ultralytics.YOLO(str(model_path), task="detect")
        model.add_callback("on_val_end", lambda validator: seen.append(int(validator.seen)))
        metrics = model.val(data=str(data_yaml), split="val", imgsz=options.imgsz,
                            batch=options.batch, device=device, rect=False, plots=False,
                            verbose=False, workers=0, quantize=quantize,
                            project=str(save_dir.parent), name=save_dir.name, exist_ok=True)
    except Exception as err:
        raise StudioError(f"Validating {Path(model_path).name} on the val split failed: "
                          f"{type(err).__name__}: {err}") from err
    box, speed = metrics.box, metrics.speed
    return ValidationResult(
        map50_95=float(box.map), map50=float(box.map50), precision=float(box.mp),
        recall=float(box.mr), inference_ms=float(speed.get("inference") or 0.0),
        total_ms=float(sum(speed.get(k) or 0.0 for k in ("preprocess", "inference",
                                                          "postprocess"))),
        images=seen[-1] if seen else 0, instances=int(sum(metrics.nt_per_class)))
