"""Files kept with a registered model besides best.pt: Ultralytics' plots and exported weights.

Layout inside ``models/<dataset>/models/<name>/``::

    plots/confusion_matrix.png, plots/BoxPR_curve.png, ...   # Ultralytics' validation plots
    plots/train_batch0.jpg, ...                              # its augmented training batches
    results.csv                                              # Ultralytics' per-epoch record
    weights/best.onnx, weights/best_openvino_model/, ...     # exports (files or folders)
    weights/exports.json                                     # {format: export report}

The registry entry lists exports as ``"exports": {format: path relative to the model folder}``;
``weights/exports.json`` keeps each export's report (options, validation against best.pt, see
``training.export_report``), written under the registry's lock with the entry.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

from ..errors import RegistryError
from .json_store import describe_os_error, fsync_dir, write_text_atomic

#: Ultralytics' validation plots kept with each model, in display order.
PLOT_FILES = ("confusion_matrix.png", "confusion_matrix_normalized.png", "BoxPR_curve.png",
              "BoxF1_curve.png", "BoxP_curve.png", "BoxR_curve.png", "val_batch0_pred.jpg",
              "val_batch0_labels.jpg", "results.png")
PLOTS_DIR = "plots"
#: Ultralytics' mosaics of augmented training batches (``train_batch<N>.jpg``): the first
#: three batches of the first epoch, and three more when mosaic augmentation closes.
TRAIN_BATCH_PREFIX = "train_batch"
RESULTS_CSV = "results.csv"
#: Each export's report, beside the exports in ``weights/``.
EXPORT_REPORTS = "exports.json"
#: An export's format key and its name beside best.pt (``best`` + Ultralytics' suffix).
_FORMAT_KEY = re.compile(r"[a-z][a-z0-9_]*")
_EXPORT_NAME = re.compile(r"best[A-Za-z0-9_.]+")
#: Folder in a model's folder holding its files under download names (``named_link``).
DOWNLOAD_DIR = "download"


def train_batch_images(folder: str | os.PathLike[str]) -> list[Path]:
    """The ``train_batch<N>.jpg`` files in ``folder`` (a run folder, or a model's ``plots/``),
    by batch number; [] when there are none (or no folder)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [(int(p.stem[len(TRAIN_BATCH_PREFIX):]), p) for p in folder.iterdir()
             if p.is_file() and p.suffix == ".jpg" and p.stem.startswith(TRAIN_BATCH_PREFIX)
             and p.stem[len(TRAIN_BATCH_PREFIX):].isdigit()]
    return [path for _, path in sorted(found)]


def plot_files(run_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """``ModelStore.save`` ``files`` for a run folder: its ``PLOT_FILES``, its training batch
    mosaics (``train_batch_images``) and results.csv (only those that exist)."""
    run = Path(run_dir)
    files = {f"{PLOTS_DIR}/{n}": run / n for n in PLOT_FILES if (run / n).is_file()}
    files.update((f"{PLOTS_DIR}/{p.name}", p) for p in train_batch_images(run))
    if (run / RESULTS_CSV).is_file():
        files[RESULTS_CSV] = run / RESULTS_CSV
    return files


def plot_paths(model_folder: str | os.PathLike[str]) -> list[Path]:
    """The plot images in ``<model_folder>/plots/``: ``PLOT_FILES`` order first, then the
    training batch mosaics by batch number, then any other image by name; [] when none were
    kept."""
    folder = Path(model_folder) / PLOTS_DIR
    if not folder.is_dir():
        return []
    found = {p.name: p for p in folder.iterdir()
             if p.is_file() and p.suffix.lower() in (".png", ".jpg", ".jpeg")}
    ordered = [found.pop(n) for n in PLOT_FILES if n in found]
    ordered += [found.pop(p.name) for p in train_batch_images(folder)]
    return ordered + [found[n] for n in sorted(found)]


def export_paths(record: Any) -> dict[str, Path]:
    """Exported files of a ``ModelRecord`` that exist: ``{format: absolute path}`` (from its
    entry's ``exports``)."""
    listed = record.extra.get("exports")
    listed = listed if isinstance(listed, dict) else {}
    paths = {fmt: Path(record.folder) / str(rel) for fmt, rel in listed.items()}
    return {fmt: path for fmt, path in paths.items() if path.exists()}


def export_reports(model_folder: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """``weights/exports.json`` of a model folder: ``{format: report dict}``; {} when there is
    none or it cannot be read (the exports themselves stay listed)."""
    try:
        data = json.loads((Path(model_folder) / "weights" / EXPORT_REPORTS).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, dict)} if isinstance(data, dict) else {}


def named_link(path: Path, model_folder: Path, filename: str) -> Path:
    """``path`` under another file name, for a download: a hard link (a copy where links
    fail) ``<model_folder>/download/<filename>``, made fresh each call; a folder (an OpenVINO
    or NCNN export) becomes a zip archive of it, ``filename`` ending in ``.zip``. Other files
    there are removed. The folder moves and goes with the model (rename, delete).

    Raises:
        RegistryError: the file cannot be linked, copied or archived.
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
        if path.is_dir():
            archive = shutil.make_archive(str(tmp), "zip", root_dir=path.parent,
                                          base_dir=path.name)
            os.replace(archive, tmp)
        else:
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


def _replace_export(file: Path, target: Path) -> None:
    """Move ``file`` (a file or folder) to ``target``, replacing an older one there.

    Raises:
        OSError: from the moves (the older export is then left in place).
    """
    aside = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
    if target.is_dir() or (target.exists() and file.is_dir()):
        os.replace(target, aside)  # os.replace cannot put a folder over a non-empty one
    try:
        os.replace(file, target)
    except OSError:
        if aside.exists():
            os.replace(aside, target)
        raise
    if aside.is_dir():
        shutil.rmtree(aside, ignore_errors=True)
    else:
        aside.unlink(missing_ok=True)
    fsync_dir(target.parent)


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

    def add_export(self, dataset: str, name: str, fmt: str, file: str | os.PathLike[str],
                   target_name: str, report: dict[str, Any] | None = None) -> Any:
        """Move an exported ``file`` (or folder) beside the model's best.pt as
        ``weights/<target_name>``, replacing an older export of the same format, list it in
        the registry entry and keep ``report`` in ``weights/exports.json``.

        Args:
            fmt: The format key ("onnx", "openvino", ...).
            file: The exporter's output; moved (same file system), not copied.
            target_name: ``best`` + the format's suffix ("best.onnx", "best_openvino_model").
            report: The export's report (JSON-serializable), or None to keep none.

        Returns:
            The updated ModelRecord (``extra["exports"]`` lists the file).

        Raises:
            RegistryError: a bad format key or name, the file is missing, or the move /
                registry write failed. NotFoundError: the model is not registered.
        """
        if not _FORMAT_KEY.fullmatch(fmt) or not _EXPORT_NAME.fullmatch(target_name):
            raise RegistryError(f"Cannot keep an export named {target_name!r} as {fmt!r}.")
        registry = self._registry(dataset)  # type: ignore[attr-defined]
        with registry.locked():
            data = registry.read()
            entry = self._entry(data, dataset, name)  # type: ignore[attr-defined]
            weights = self._folder(dataset, name) / "weights"  # type: ignore[attr-defined]
            try:
                _replace_export(Path(file), weights / target_name)
                reports = export_reports(weights.parent)
                if report is None:
                    reports.pop(fmt, None)
                else:
                    reports[fmt] = report
                write_text_atomic(weights / EXPORT_REPORTS, json.dumps(reports, indent=1))
            except OSError as err:
                raise RegistryError(f"Could not keep the {fmt} export of {name!r}: "
                                    f"{describe_os_error(err)}.") from err
            entry["exports"] = dict(entry.get("exports") or {}, **{fmt: f"weights/{target_name}"})
            registry.write(data)
            return self._record(dataset, name, data)  # type: ignore[attr-defined]
