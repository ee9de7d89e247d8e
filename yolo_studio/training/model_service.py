"""ModelService: what a user does with registered models (the Models tab and ``models`` CLI).

Manage (rename, notes, tags, set active, roll back, delete), inspect, compare, try on an image,
evaluate on a split and export. Reached as ``TrainingManager.registry``; the stores do the locked, atomic file work
and the backend (``UltralyticsBackend``) runs Ultralytics.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from ..errors import NotFoundError, RegistryError, StudioError, ValidationError
from ..persistence.model_artifacts import export_paths, named_link
from .evaluation import Evaluation, evaluate
from .export_formats import ExportFormat, ExportOptions
from .export_report import ExportReport, kept_reports
from .export_service import export_and_validate, formats_table, offered_formats
from .inference import PredictionResult
from .model_details import ModelComparison, ModelDetails, compare_models, model_details


class ModelService:
    """Operations on the registered models of every dataset.

    Args:
        models: A ``ModelStore``. datasets: A ``DatasetStore``.
        backend: Runs ``predict`` / ``export`` (an ``UltralyticsBackend``); None creates one on
            first use.
    """

    def __init__(self, models: Any, datasets: Any, backend: Any = None) -> None:
        self.models = models
        self.datasets = datasets
        self._backend = backend
        self._baselines: dict[tuple, Any] = {}  # best.pt's validations (export_and_validate)

    @property
    def backend(self) -> Any:
        """The backend used to predict and export (created on first use)."""
        if self._backend is None:
            from .ultralytics_backend import UltralyticsBackend

            self._backend = UltralyticsBackend()
        return self._backend

    # ------------------------------------------------------------------ manage
    def rename_model(self, dataset: str, old: str, new: str) -> Any:
        """Rename a model (folder and entry; active / previous active follow it).

        Raises:
            ValidationError: bad new name. NotFoundError: unknown model. RegistryError: the new
                name is taken.
        """
        return self.models.rename(dataset, old, new)

    def update_model_info(self, dataset: str, name: str, notes: str | None = None,
                          tags: list[str] | str | None = None) -> Any:
        """Set a model's notes and/or tags (None leaves a field unchanged). ``tags`` may be a
        list or one comma-separated text ("baseline, v2"); an empty text clears them.

        Raises:
            ValidationError: tags are not text. NotFoundError: unknown model.
        """
        if isinstance(tags, str):
            tags = [t for t in tags.split(",") if t.strip()]
        return self.models.update_info(dataset, name, notes=notes, tags=tags)

    def set_active(self, dataset: str, name: str) -> Any:
        """Make ``name`` active; the one it replaces becomes the rollback target."""
        return self.models.set_active(dataset, name)

    def rollback_active(self, dataset: str) -> Any:
        """Make the previously active model active again (swapping the two).

        Raises:
            RegistryError: there is no previous active model, or its weights are missing.
        """
        return self.models.rollback_active(dataset)

    def delete_model(self, dataset: str, name: str, allow_active: bool = False) -> None:
        """Delete a model; the active one only with ``allow_active=True`` (a confirmation).

        Raises:
            RegistryError: ``name`` is active and ``allow_active`` is False.
        """
        self.models.delete(dataset, name, allow_active=allow_active)

    # ------------------------------------------------------------------ inspect
    def model_details(self, dataset: str, name: str) -> ModelDetails:
        """Record, config, history, final and per-class metrics, plots, exports, and whether
        the dataset changed since training (see ``ModelDetails``)."""
        return model_details(self.models, self.datasets, dataset, name)

    def compare_models(self, dataset: str, names: list[str]) -> ModelComparison:
        """Histories and a config table of two or more models (see ``ModelComparison``)."""
        return compare_models(self.models, dataset, names)

    def resolve(self, dataset: str, name: str | None) -> Any:
        """The ModelRecord of ``name``, or of the active model when ``name`` is None / "".

        Raises:
            NotFoundError: no such model, or no active model. RegistryError: weights missing.
        """
        record = self.models.get(dataset, name) if name else self.models.get_active(dataset)
        if record is None:
            raise NotFoundError(f"Dataset {dataset!r} has no active model; choose a model or "
                                "set one active first.")
        if not Path(record.weights_path).is_file():
            raise RegistryError(f"Model {record.name!r} has no weights file "
                                f"({record.weights_path} is missing); delete or retrain it.")
        return record

    def weights_path(self, dataset: str, name: str | None, fmt: str = "pt") -> Path:
        """The file to download: best.pt (``fmt="pt"``) or an existing export.

        Raises:
            NotFoundError: unknown model, or that format was not exported yet.
        """
        record = self.resolve(dataset, name)
        if fmt == "pt":
            return Path(record.weights_path)
        exported = export_paths(record)
        if fmt not in exported:
            raise NotFoundError(f"Model {record.name!r} has no {fmt} export yet; export it "
                                "first.")
        return exported[fmt]

    def download_file(self, dataset: str, name: str | None, fmt: str = "pt") -> Path:
        """``weights_path``'s file named ``<dataset>-<model>.<ext>`` (e.g. ``bccd-demo.pt``,
        ``bccd-demo.onnx``; a folder export as ``bccd-demo_openvino_model.zip``) for a
        download: a hard link (or zip archive) in the model's ``download/`` folder.

        Raises:
            NotFoundError / RegistryError: as ``weights_path``, or the link failed.
        """
        path = self.weights_path(dataset, name, fmt)
        record = self.resolve(dataset, name)
        ending = path.name[len("best"):] if path.name.startswith("best") else path.suffix
        zipped = ".zip" if path.is_dir() else ""
        return named_link(path, Path(record.folder), f"{dataset}-{record.name}{ending}{zipped}")

    def sample_images(self, dataset: str, split: str = "val", limit: int = 50) -> list[Path]:
        """Images of the dataset to try a model on (``DatasetStore.sample_images``)."""
        return self.datasets.sample_images(dataset, split=split, limit=limit)

    # ------------------------------------------------------------------ try / export
    def predict(self, dataset: str, name: str | None, image: Any, conf: float = 0.25,
                iou: float = 0.7, imgsz: int | None = None) -> PredictionResult:
        """Run a model (``name``, or the active one when None) on one image.

        Args:
            image: An image file path or an RGB ``uint8`` array (height, width, 3).
            conf: Minimum confidence, fraction 0-1. iou: NMS IoU threshold, fraction 0-1.
            imgsz: Inference size in pixels; None = the model's training size.

        Returns:
            PredictionResult: the drawn image (RGB array), detections in pixels, timings (ms).

        Raises:
            NotFoundError: unknown or no active model, missing image. ValidationError: bad
                thresholds or an unreadable image. RegistryError: weights missing/unloadable.
        """
        if image is None or (isinstance(image, str) and not image.strip()):
            raise ValidationError("Choose an image to run the model on.")
        record = self.resolve(dataset, name)
        result = self.backend.predict(record.weights_path, image, conf=conf, iou=iou,
                                      imgsz=imgsz)
        return dataclasses.replace(result, model=record.name)

    def evaluate_model(self, dataset: str, name: str | None, split: str = "val",
                       on_dataset: str | None = None, imgsz: int | None = None,
                       device: str | None = None) -> Evaluation:
        """Validate a model (``name``, or the active one when None) on ``split`` ("val" or
        "test") of its dataset or of ``on_dataset`` (same class names in the same order), at
        ``imgsz`` pixels (None: its training size) on ``device`` (None: Ultralytics' choice);
        the result is kept with the model (``ModelStore.evaluations``). See
        ``evaluation.evaluate`` for the errors."""
        return evaluate(self, dataset, name, split, on_dataset, imgsz, device)

    def evaluations(self, dataset: str, name: str) -> list[Evaluation]:
        """The evaluations kept with a model, newest first.

        Raises:
            NotFoundError: unknown model. RegistryError: its evaluations.json is unreadable.
        """
        return [Evaluation.from_dict(row) for row in
                reversed(self.models.evaluations(dataset, name))]

    def export_formats(self) -> list[ExportFormat]:
        """The formats offered on this machine (Ultralytics' exporter table, see
        ``export_formats.ExportFormat.unavailable``), in Ultralytics' order."""
        return offered_formats(self.backend)

    def export_formats_table(self) -> list[list[str]]:
        """Every format of Ultralytics' exporter with whether it is offered here, its options,
        packages and validation (``export_service.formats_table``)."""
        return formats_table(self.backend)

    def export_model(self, dataset: str, name: str | None, fmt: str,
                     options: ExportOptions | None = None) -> ExportReport:
        """Export a model (at its training imgsz unless ``options`` say otherwise), validate
        the export and best.pt on the dataset's val split, keep the export beside best.pt
        (``weights/best<suffix>``, listed in the registry entry's ``exports``) and its report
        in ``weights/exports.json``. Exporting again to a format replaces the older export.

        Returns:
            The export's report (``report.file`` relative to the model folder; ``path`` it).

        Raises:
            ValidationError: ``fmt`` is not offered here, or an option it does not take.
            StudioError: a needed package is missing (named, with the pip command), the
                export or its validation failed. NotFoundError / RegistryError: as ``resolve``.
        """
        record = self.resolve(dataset, name)
        return export_and_validate(self.models, self.datasets, self.backend, record, fmt,
                                   options or ExportOptions(),
                                   self.training_imgsz(dataset, record.name), self._baselines)

    def export_reports(self, dataset: str, name: str | None) -> dict[str, ExportReport]:
        """The reports of the model's exports that exist, by format."""
        return kept_reports(self.resolve(dataset, name))

    def training_imgsz(self, dataset: str, name: str) -> int | None:
        """The imgsz (pixels) a model was trained at (its config.yaml), or None."""
        try:
            value = self.models.load_config(dataset, name).get("imgsz")
        except StudioError:
            return None
        return value if isinstance(value, int) and not isinstance(value, bool) else None
