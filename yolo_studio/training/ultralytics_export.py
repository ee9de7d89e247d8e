"""Ultralytics' exporter for registered models (imported lazily, like ``ultralytics_backend``,
whose ``_ultralytics()`` turns Ultralytics' pip auto-install off first); exports are validated
by ``ultralytics_val``.

Facts this relies on (ultralytics 8.4.190): ``engine/exporter.py`` has ``export_formats()`` and
the precision sets ``FP16_FORMATS`` / ``INT8_FORMATS``; ``validate_args`` refuses an argument a
format does not list; ``model.export`` returns the path of what it wrote beside the weights (a
file, or a folder such as ``best_openvino_model``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from ..errors import StudioError
from .export_formats import ExportFormat, ExportOptions, formats_from_table
from .export_packages import EXTRAS, Missing, missing_message


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
