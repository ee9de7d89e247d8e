"""Exporting a registered model and validating the export against best.pt.

``export_and_validate`` checks the format and its options, names missing packages before any
work, exports a copy of best.pt in a work folder inside the model's folder, validates the
export with its own runtime and best.pt the same way on the dataset's val split, and only then
keeps the export beside best.pt with its ``ExportReport`` (``ModelStore.add_export``). Any
failure leaves the model's files and the registry as they were.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import StudioError, ValidationError
from .export_formats import ExportFormat, ExportOptions
from .export_packages import EXTRAS, missing, missing_message
from .evaluation import ValidationResult
from .export_report import ExportReport

#: best.pt validations remembered (``export_and_validate``'s ``baselines``) before starting over.
MAX_BASELINES = 32
#: Columns of ``formats_table``.
FORMAT_COLUMNS = ("format", "name", "offered", "options", "packages", "validated")


def offered_formats(backend: Any) -> list[ExportFormat]:
    """The formats the studio offers on this machine, in Ultralytics' order."""
    gpu = backend.has_gpu()
    return [f for f in backend.export_formats() if not f.unavailable(gpu)]


def find_format(backend: Any, key: str) -> ExportFormat:
    """The offered format ``key`` (Ultralytics' ``format=`` argument).

    Raises:
        ValidationError: not a format of Ultralytics, or not offered here (saying why, and
            which are).
    """
    key = str(key or "").strip().lower()
    known = {f.key: f for f in backend.export_formats()}
    offered = ", ".join(f.key for f in offered_formats(backend))
    if key not in known:
        raise ValidationError(f"Export format {key!r} is not one of Ultralytics' formats; "
                              f"choose one of {offered}.")
    reason = known[key].unavailable(backend.has_gpu())
    if reason:
        raise ValidationError(f"{reason}, so the studio does not export to it here; choose "
                              f"one of {offered}.")
    return known[key]


def formats_table(backend: Any) -> list[list[str]]:
    """Every format of Ultralytics' exporter as rows of ``FORMAT_COLUMNS``: whether it is
    offered here (else why not), the options it takes, its packages ("installed" or the pip
    command) and whether its export is validated here."""
    gpu, rows = backend.has_gpu(), []
    for fmt in backend.export_formats():
        reason = fmt.unavailable(gpu)
        lacking = missing(fmt.key)
        packages = ("installed" if not lacking else
                    "pip install " + " ".join(m.requirement.split(";")[0] for m in lacking))
        rows.append([fmt.key, fmt.name, "yes" if not reason else f"no: {reason}",
                     ", ".join(fmt.options(gpu)), packages if not reason else "",
                     (fmt.not_validated(sys.platform) or "on the val split") if not reason
                     else ""])
    return rows


def export_and_validate(models: Any, datasets: Any, backend: Any, record: Any, key: str,
                        options: ExportOptions, default_imgsz: int | None,
                        baselines: dict[tuple, ValidationResult] | None = None) -> ExportReport:
    """Export ``record``'s best.pt to format ``key`` with ``options``, validate it, keep it.

    ``baselines`` (a dict the caller keeps) remembers best.pt's validations: one of the same
    weights file, dataset content, imgsz, batch and device is not run again.

    Returns:
        The kept export's report (also in ``weights/exports.json``).

    Raises:
        ValidationError: unknown / not offered format, or an option it does not take.
        StudioError: a package is missing (named, with the pip command, before anything
            runs), the export or its validation failed, or the files could not be kept.
    """
    fmt = find_format(backend, key)
    gpu = backend.has_gpu()
    options = options.checked(fmt, gpu, default_imgsz)
    lacking = missing(fmt.key, options.precision, options.simplify)
    if lacking:
        raise StudioError(missing_message(fmt.name, lacking, EXTRAS.get(fmt.key)))
    data_yaml = datasets.get_data_yaml_path(record.dataset)
    work = Path(record.folder) / f".export-{uuid.uuid4().hex[:8]}"
    try:
        work.mkdir()
        report, produced = _export(backend, record, fmt, options, fmt.device(gpu), data_yaml,
                                   work)
        if not report.not_validated:
            info = datasets.get(record.dataset)
            key = (str(record.weights_path), Path(record.weights_path).stat().st_mtime_ns,
                   info.content_hash, options.imgsz, options.batch, report.device)
            report = _validated(backend, dataclasses.replace(
                report, images=info.image_counts.get("val", 0)), produced, data_yaml,
                {} if baselines is None else baselines, key)
        models.add_export(record.dataset, record.name, fmt.key, produced, fmt.file_name,
                          report.to_dict())
    except OSError as err:
        raise StudioError(f"Export of {record.name!r} failed: {err}") from err
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return report


def _export(backend: Any, record: Any, fmt: ExportFormat, options: ExportOptions, device: str,
            data_yaml: Path, work: Path) -> tuple[ExportReport, Path]:
    """Export a copy of best.pt in ``work`` (no half-written file is ever listed); returns the
    report without validation and the exporter's output."""
    weights = work / "best.pt"
    shutil.copyfile(record.weights_path, weights)
    start = time.monotonic()
    produced = backend.export(weights, fmt, options, device, data_yaml)
    return ExportReport(
        format=fmt.key, name=fmt.name, file=f"weights/{fmt.file_name}",
        options=options.to_dict(), export_s=round(time.monotonic() - start, 2),
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"), device=device,
        not_validated=fmt.not_validated(sys.platform)), produced


def _validated(backend: Any, report: ExportReport, produced: Path, data_yaml: Path,
               baselines: dict[tuple, ValidationResult], key: tuple) -> ExportReport:
    """``report`` with the export's and best.pt's validation on the val split, both at the
    export's imgsz and batch with ``rect=False`` (as an exported fixed-shape model is
    validated), an FP16 export with ``quantize=16`` (as Ultralytics' exporter suggests);
    best.pt's is taken from ``baselines[key]`` when there."""
    options = ExportOptions.from_dict(report.options)
    same = dict(imgsz=options.imgsz, device=report.device, batch=options.batch, rect=False)
    exported = backend.evaluate(produced, data_yaml, "val", **same,
                                quantize=16 if options.precision == "fp16" else None)
    if key not in baselines:
        if len(baselines) >= MAX_BASELINES:
            baselines.clear()
        baselines[key] = backend.evaluate(produced.parent / "best.pt", data_yaml, "val", **same)
    return dataclasses.replace(report, exported=exported, baseline=baselines[key])
