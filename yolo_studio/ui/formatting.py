"""Pure text/table builders for the UI: snapshots and records in, strings and rows out.

No Gradio here, so the tests call these directly.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..training.model_metrics import ModelMetrics, metrics_of, sort_records
from ..training.snapshot import JobState, TrainingSnapshot

#: The registry table's columns; mAP50 to recall and fitness are best.pt on val (fractions 0-1).
MODEL_COLUMNS = ["active", "name", "created", "base model", "epochs completed", "mAP50",
                 "mAP50-95", "precision", "recall", "fitness", "parameters", "inference ms",
                 "dataset snapshot"]
#: ``node``: where the job runs or ran ("this machine", or a Ray node's address); empty until
#: it starts.
JOB_COLUMNS = ["job", "state", "node", "dataset", "model name", "base model", "epochs",
               "detail"]
ACTIVE_MARK = "★ active"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
#: Characters that mean something inside a Markdown line (emphasis, code, links, HTML, tables,
#: strike-through, entities). ``.``, ``-``, ``+`` and ``#`` only do at a line's start, and
#: escaping them would break the links Gradio makes of bare URLs.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")


def markdown_text(text: str) -> str:
    """``text`` shown as it is inside a Markdown line that does not start with it: Markdown's
    (and HTML's) inline special characters backslash-escaped, so an error's ``*.pt`` keeps its
    star and makes nothing italic, and line breaks made spaces."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def format_duration(seconds: float | None) -> str:
    """``h:mm:ss`` (or ``m:ss`` under an hour) for a number of seconds; ``"—"`` when unknown."""
    if seconds is None or seconds < 0:
        return "—"
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def status_line(snap: TrainingSnapshot) -> str:
    """The state, with the cause for ERROR and the stop reason when there is one.

    Examples: ``"TRAINING — bccd / demo"``, ``"ERROR: CUDA out of memory ..."``.
    """
    state = snap.state.value
    if snap.state is JobState.ERROR:
        return f"ERROR: {snap.error or 'unknown cause'}"
    text = state
    if snap.dataset:
        text += f" — {snap.dataset} / {snap.model_name or 'unnamed'}"
    if snap.stop_reason and snap.state is not JobState.TRAINING:
        text += f" (stopped: {snap.stop_reason})"
    return text


def epoch_text(snap: TrainingSnapshot) -> str:
    """``"epoch x/N"`` where x is the epoch being trained (TRAINING) or the epochs done (else)."""
    if not snap.epochs:
        return "epoch —"
    if snap.state is JobState.TRAINING:
        if snap.epoch >= snap.epochs:
            return f"epoch {snap.epochs}/{snap.epochs} · validating best.pt"
        text = f"epoch {snap.epoch + 1}/{snap.epochs}"
        if snap.batches:
            text += f" · batch {snap.batch_i}/{snap.batches}"
        return text
    return f"epoch {snap.epoch}/{snap.epochs}"


def progress_fraction(snap: TrainingSnapshot) -> float:
    """Fraction 0-1 of the planned epochs done, counting the current epoch's batches."""
    if not snap.epochs:
        return 0.0
    if snap.state is JobState.COMPLETED:
        return 1.0
    partial = snap.batch_i / snap.batches if snap.batches and snap.epoch < snap.epochs else 0.0
    return max(0.0, min(1.0, (snap.epoch + partial) / snap.epochs))


def progress_text(snap: TrainingSnapshot) -> str:
    """One line: epoch/batch, elapsed, ETA and images/s of the snapshot."""
    parts = [epoch_text(snap), f"elapsed {format_duration(snap.elapsed_s)}"]
    if snap.state is JobState.TRAINING:
        parts.append(f"ETA {format_duration(snap.eta_s)}")
    if snap.images_per_s is not None:
        parts.append(f"{snap.images_per_s:.1f} images/s")
    return " · ".join(parts)


def log_text(snap: TrainingSnapshot, max_lines: int = 15, max_chars: int = 200) -> str:
    """The last ``max_lines`` log lines, newest last, without terminal colour codes; a line
    longer than ``max_chars`` characters is cut with "…" so the tail fits without scrolling."""
    lines = [_ANSI.sub("", line) for line in snap.log[-max_lines:]]
    return "\n".join(line if len(line) <= max_chars else line[:max_chars - 1] + "…"
                     for line in lines)


def format_created(created: Any) -> str:
    """An ISO-8601 time (the registry's ``created``) as ``"2025-01-31 14:05:09 UTC"``; a
    time without an offset is taken as UTC (the studio writes UTC); text that is not a time
    is returned as it is."""
    try:
        when = _dt.datetime.fromisoformat(str(created))
    except ValueError:
        return str(created)
    if when.tzinfo is not None:
        when = when.astimezone(_dt.timezone.utc)
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")


def _fmt_metric(value: Any) -> str:
    return "—" if value is None else f"{float(value):.3f}"


def _fmt_count(value: int | None) -> str:
    """Parameters as "2.59 M" (millions) or "950 k"; "—" when unknown."""
    if value is None:
        return "—"
    return f"{value / 1e6:.2f} M" if value >= 1e6 else f"{value / 1e3:.0f} k"


def model_rows(records: Iterable[Any], metrics: Mapping[str, ModelMetrics] | None = None,
               sort: str | None = None) -> list[list[Any]]:
    """Rows of the Models table (see ``MODEL_COLUMNS``) from ``ModelRecord``s sorted by
    ``sort`` (``model_metrics.SORT_KEYS``, default newest first); ``metrics`` by model name
    (default: ``metrics_of`` each record). Inference ms with 1 decimal."""
    records = list(records)
    metrics = metrics if metrics is not None else {r.name: metrics_of(r) for r in records}
    rows = []
    for rec in sort_records(records, dict(metrics), sort):
        m = metrics[rec.name]
        rows.append([ACTIVE_MARK if rec.active else "", rec.name, format_created(rec.created),
                     rec.base_model, rec.epochs_completed,
                     *[_fmt_metric(m.value(k)) for k in ("map50", "map50_95", "precision",
                                                         "recall", "fitness")],
                     _fmt_count(m.parameters),
                     "—" if m.inference_ms is None else f"{m.inference_ms:.1f}",
                     rec.dataset_snapshot])
    return rows


#: The detail of a COMPLETED job whose model is no longer registered.
MODEL_GONE = "model deleted (or renamed) since"


def job_rows(jobs: Sequence[Any], gone: Iterable[str] = ()) -> list[list[Any]]:
    """Rows of the job-queue table (see ``JOB_COLUMNS``) from the manager's ``JobRecord``s;
    the detail of a job whose id is in ``gone`` says its model is gone (``MODEL_GONE``)."""
    rows, gone = [], set(gone)
    for job in jobs:
        config = job.config or {}
        detail = job.error or job.stop_reason or ("resume from last.pt" if job.resume else "")
        if job.job_id in gone:
            detail = f"{MODEL_GONE}; {detail}" if detail else MODEL_GONE
        rows.append([job.job_id, job_state(job), job.node or "",
                     config.get("dataset", ""), job.model_name, config.get("base_model", ""),
                     config.get("epochs", ""), detail])
    return rows


def job_state(job: Any) -> str:
    """The job's state as text (``"QUEUED"``, ``"TRAINING"`` ...)."""
    state = getattr(job, "state", "")
    return getattr(state, "value", str(state))
