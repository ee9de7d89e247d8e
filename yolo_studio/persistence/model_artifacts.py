"""Files kept with a registered model besides best.pt: validation plots and exported weights.

Layout inside ``models/<dataset>/models/<name>/``::

    plots/confusion_matrix.png, plots/BoxPR_curve.png, ...   # Ultralytics' validation plots
    results.csv                                              # Ultralytics' per-epoch record
    weights/best.onnx, weights/best.torchscript              # exports, listed in the entry

The registry entry lists exports as ``"exports": {format: path relative to the model folder}``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from ..errors import RegistryError
from .json_store import describe_os_error, fsync_dir

#: Ultralytics' validation plots kept with each model, in display order.
PLOT_FILES = ("confusion_matrix.png", "confusion_matrix_normalized.png", "BoxPR_curve.png",
              "BoxF1_curve.png", "BoxP_curve.png", "BoxR_curve.png", "val_batch0_pred.jpg",
              "val_batch0_labels.jpg", "results.png")
PLOTS_DIR = "plots"
RESULTS_CSV = "results.csv"
#: Export format -> file name beside best.pt (Ultralytics' exporter suffixes).
EXPORT_FILES = {"onnx": "best.onnx", "torchscript": "best.torchscript"}
#: Folder in a model's folder holding its files under download names (``named_link``).
DOWNLOAD_DIR = "download"


def plot_files(run_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """``ModelStore.save`` ``files`` for a run folder: its ``PLOT_FILES`` and results.csv
    (only those that exist)."""
    run = Path(run_dir)
    files = {f"{PLOTS_DIR}/{n}": run / n for n in PLOT_FILES if (run / n).is_file()}
    if (run / RESULTS_CSV).is_file():
        files[RESULTS_CSV] = run / RESULTS_CSV
    return files


def plot_paths(model_folder: str | os.PathLike[str]) -> list[Path]:
    """The validation plot images in ``<model_folder>/plots/``: ``PLOT_FILES`` order first, then
    any other image by name; [] when none were kept."""
    folder = Path(model_folder) / PLOTS_DIR
    if not folder.is_dir():
        return []
    found = {p.name: p for p in folder.iterdir()
             if p.is_file() and p.suffix.lower() in (".png", ".jpg", ".jpeg")}
    ordered = [found.pop(n) for n in PLOT_FILES if n in found]
    return ordered + [found[n] for n in sorted(found)]


def export_paths(record: Any) -> dict[str, Path]:
    """Exported files of a ``ModelRecord`` that exist: ``{format: absolute path}`` (from its
    entry's ``exports``)."""
    listed = record.extra.get("exports")
    listed = listed if isinstance(listed, dict) else {}
    paths = {fmt: Path(record.folder) / str(rel) for fmt, rel in listed.items()}
    return {fmt: path for fmt, path in paths.items() if path.is_file()}


def named_link(path: Path, model_folder: Path, filename: str) -> Path:
    """``path`` under another file name, for a download: a hard link (a copy where links
    fail) ``<model_folder>/download/<filename>``, made fresh each call; other files there are
    removed. The folder moves and goes with the model (rename, delete).

    Raises:
        RegistryError: the file cannot be linked or copied.
    """
    folder = Path(model_folder) / DOWNLOAD_DIR
    target = folder / filename
    tmp = folder / f".{filename}.{os.getpid()}.tmp"
    try:
        folder.mkdir(exist_ok=True)
        for old in folder.iterdir():
            if old.name != filename and not old.name.startswith("."):
                old.unlink()
        tmp.unlink(missing_ok=True)
        try:
            os.link(path, tmp)
        except OSError:
            shutil.copyfile(path, tmp)
        os.replace(tmp, target)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise RegistryError(f"Cannot prepare {filename} for download: "
                            f"{describe_os_error(err)}.") from err
    return target


class ModelArtifactsMixin:
    """``ModelStore`` methods for plots and exports (needs ``_registry``, ``_entry``,
    ``_folder``, ``_record`` of ModelStore)."""

    def plots(self, dataset: str, name: str) -> list[Path]:
        """The model's validation plot images: ``PLOT_FILES`` order first, then any other image
        in ``plots/`` by name; [] when none were kept.

        Raises:
            NotFoundError: the model is not registered.
        """
        return plot_paths(self.get(dataset, name).folder)  # type: ignore[attr-defined]

    def exports(self, dataset: str, name: str) -> dict[str, Path]:
        """Exported files of the model that exist: ``{format: absolute path}``."""
        return export_paths(self.get(dataset, name))  # type: ignore[attr-defined]

    def add_export(self, dataset: str, name: str, fmt: str,
                   file: str | os.PathLike[str]) -> Any:
        """Move an exported ``file`` beside the model's best.pt (replacing an older export of
        the same format atomically) and list it in the registry entry.

        Args:
            fmt: A key of ``EXPORT_FILES`` ("onnx", "torchscript").
            file: The exporter's output; moved (same file system), not copied.

        Returns:
            The updated ModelRecord (``extra["exports"]`` lists the file).

        Raises:
            RegistryError: unknown format, the file is missing, or the move / registry write
                failed. NotFoundError: the model is not registered.
        """
        if fmt not in EXPORT_FILES:
            raise RegistryError(f"Unknown export format {fmt!r}; use one of "
                                f"{', '.join(EXPORT_FILES)}.")
        registry = self._registry(dataset)  # type: ignore[attr-defined]
        with registry.locked():
            data = registry.read()
            entry = self._entry(data, dataset, name)  # type: ignore[attr-defined]
            target = self._folder(dataset, name) / "weights" / EXPORT_FILES[fmt]  # type: ignore
            try:
                os.replace(file, target)
                fsync_dir(target.parent)
            except OSError as err:
                raise RegistryError(f"Could not keep the {fmt} export of {name!r}: "
                                    f"{describe_os_error(err)}.") from err
            exports = dict(entry.get("exports") or {})
            exports[fmt] = f"weights/{EXPORT_FILES[fmt]}"
            entry["exports"] = exports
            registry.write(data)
            return self._record(dataset, name, data)  # type: ignore[attr-defined]
