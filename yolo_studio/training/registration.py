"""Registering a job's model, and the small steps of a job around it.

``register`` files a finished run's best.pt with its config, metrics (history, final, per
class), plots, results.csv and info through ``ModelStore.save``, exactly once per job; a stop
requested as a cancel registers nothing. ``maybe_auto_promote`` makes the new model active when
it beats the active one on the same dataset content. Around them: the job's ``StopRequest``, its
model name (``choose_model_name``), ``train_job`` / ``resume_weights`` (what an executor runs),
``final_stop_reason`` and ``earlier_epochs`` (a resumed run's history). Used by
``TrainingManager``'s queue thread (``job_exec``) and the executors.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..config import TrainingConfig
from ..errors import TrainingError, ValidationError
from ..names import validate_name
from ..persistence.model_artifacts import plot_files
from .hooks import STOP_REQUESTED, TrainHooks, TrainOutcome
from .model_metrics import SORT_KEYS, fitness, metrics_of
from .results import parse_results_csv
from .snapshot import EpochMetrics


@dataclass(frozen=True)
class StopRequest:
    """A stop asked of the running job: ``kind`` is "cancel" (register nothing) or "resource"
    (graceful stop on a resource alert: the model trained so far is registered)."""

    kind: str
    reason: str


def history_for(outcome: TrainOutcome) -> tuple[EpochMetrics, ...]:
    """Per-epoch history to store: parsed from the run's results.csv (Ultralytics' own record)
    when it ends with exactly the epochs the callbacks reported and has every epoch from 1;
    else the callbacks' history."""
    csv = outcome.save_dir / "results.csv"
    try:
        parsed = parse_results_csv(csv)
    except TrainingError:
        return outcome.history
    reported = [m.epoch for m in outcome.history]
    epochs = [m.epoch for m in parsed]
    # a resumed run's file also holds the epochs before the resume: accept them as a prefix
    ok = (bool(reported) and epochs[-len(reported):] == reported
          and epochs == list(range(1, len(epochs) + 1)))
    return tuple(parsed) if ok else outcome.history


def best_map50(outcome: TrainOutcome, history: tuple[EpochMetrics, ...]) -> float | None:
    """mAP50 (fraction 0-1) of best.pt on val from the final validation, else the best epoch's."""
    if outcome.final is not None and outcome.final.map50 is not None:
        return outcome.final.map50
    values = [m.map50 for m in history if m.map50 is not None]
    return max(values) if values else None


def metric_info(outcome: TrainOutcome, history: tuple[EpochMetrics, ...]) -> dict[str, Any]:
    """The registry entry's metric keys (``registry_metrics``) of a run: mAP50-95, precision
    and recall of best.pt on val (the final validation, else the epoch with the highest
    fitness, as Ultralytics picks best.pt), its parameters and inference ms per image."""
    final = outcome.final if outcome.final is not None and outcome.final.map50_95 is not None \
        else None
    rows = [m for m in history if m.map50_95 is not None]
    best = final or (max(rows, key=lambda m: fitness(m.to_dict()) or 0.0) if rows else None)
    values = {k: getattr(best, k) if best else None for k in ("map50_95", "precision", "recall")}
    return {**values, "parameters": outcome.parameters, "inference_ms": outcome.inference_ms}


def register(models: Any, dataset_info: Any, config: TrainingConfig, name: str,
             outcome: TrainOutcome, stop_reason: str | None, auto_promote: bool = False,
             log: Callable[[str], None] | None = None) -> Any:
    """Register the run's best.pt as model ``name``; make it active if the dataset had none,
    or (``auto_promote``) if it beats the active model (see ``maybe_auto_promote``).

    The entry holds mAP50, mAP50-95, precision, recall, parameters and inference ms
    (``metric_info``). Kept with the model: config.yaml, metrics.json (final, history, per-class metrics of best.pt
    on val), the run's results.csv and Ultralytics' validation plots (``plots/``).
    ``dataset_info`` (the ``DatasetInfo`` read before training) gives the snapshot and hash of
    the content trained on, so a model registers even after its dataset folder was moved away.

    Returns:
        The ModelRecord from ``ModelStore.save`` (or ``set_active``).

    Raises:
        TrainingError: the run produced no best.pt. RegistryError: from the store.
    """
    if outcome.best_weights is None or not Path(outcome.best_weights).is_file():
        raise TrainingError(f"Training finished but wrote no best.pt in {outcome.save_dir}; "
                            "nothing was registered.")
    had_active = models.get_active(config.dataset) is not None
    history = history_for(outcome)
    metrics = {
        "final": outcome.final.to_dict() if outcome.final else None,
        "history": [m.to_dict() for m in history],
        "per_class": [dict(row) for row in outcome.per_class],
        "stop_reason": stop_reason,
        "batch_used": outcome.batch_used,
        "run_dir": str(outcome.save_dir),
    }
    info = {
        "base_model": config.base_model,
        "epochs_completed": outcome.epochs_completed,
        "best_map50": best_map50(outcome, history),
        "dataset_snapshot": dataset_info.snapshot,
        "dataset_hash": dataset_info.content_hash,
        **metric_info(outcome, history),
    }
    record = models.save(config.dataset, name, outcome.best_weights, config.to_dict(), metrics,
                         info, files=plot_files(outcome.save_dir))
    if not had_active:
        return models.set_active(config.dataset, name)
    if auto_promote:
        return maybe_auto_promote(models, record, log or (lambda line: None))
    return record


def maybe_auto_promote(models: Any, record: Any, log: Callable[[str], None]) -> Any:
    """Make ``record`` active when it beats the active model by the dataset's promote metric
    (``models.promote_metric``, default Ultralytics' fitness) on the same dataset content
    (equal ``dataset_hash``); log the decision either way.

    Returns:
        The (possibly now active) ModelRecord.
    """
    active = models.get_active(record.dataset)
    if active is None or active.name == record.name:
        return models.set_active(record.dataset, record.name)
    if not record.dataset_hash or record.dataset_hash != active.dataset_hash:
        log(f"Auto-promote: {record.name} not compared with active {active.name}: they were "
            "trained on different dataset content.")
        return record
    metric = models.promote_metric(record.dataset)
    new, old = metrics_of(record).value(metric), metrics_of(active).value(metric)
    label = SORT_KEYS[metric][0]
    if new is None or (old is not None and new <= old):
        log(f"Auto-promote: {record.name} ({label} {_fmt(new)}) does not beat active "
            f"{active.name} ({label} {_fmt(old)}); {active.name} stays active.")
        return record
    promoted = models.set_active(record.dataset, record.name)
    log(f"Auto-promote: {record.name} ({label} {_fmt(new)}) beats {active.name} "
        f"({label} {_fmt(old)}) and is now the active model.")
    return promoted


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def final_stop_reason(outcome: TrainOutcome, stop: StopRequest | None) -> str | None:
    """The stop reason to record: the studio's request replaces the generic backend text."""
    if stop is not None and (outcome.stopped or outcome.stop_reason == STOP_REQUESTED):
        return stop.reason
    return None if outcome.stop_reason == STOP_REQUESTED else outcome.stop_reason


def earlier_epochs(run_dir: Path) -> tuple[EpochMetrics, ...]:
    """The epochs a run trained before it is resumed, from its results.csv (Ultralytics' own
    record): every row when they are epochs 1..n, else none (an unreadable or gapped file;
    the charts then start at the resume)."""
    try:
        parsed = parse_results_csv(run_dir / "results.csv")
    except TrainingError:
        return ()
    epochs = [m.epoch for m in parsed]
    return tuple(parsed) if epochs == list(range(1, len(epochs) + 1)) else ()


def resume_weights(run_dir: Path, resume: bool) -> Path | None:
    """The ``weights/last.pt`` of ``run_dir`` to resume from, or None when not resuming.

    Raises:
        TrainingError: resume asked but the run has no last.pt.
    """
    if not resume:
        return None
    last = run_dir / "weights" / "last.pt"
    if not last.is_file():
        raise TrainingError(f"Cannot resume: {last} does not exist (the job stopped before its "
                            "first epoch was saved). Retry it from the start instead.")
    return last


def train_job(backend: Any, config: TrainingConfig, data_yaml: Path, run_dir: Path,
              hooks: TrainHooks, resume: bool) -> TrainOutcome:
    """Call the backend, resuming from ``run_dir/weights/last.pt`` when ``resume``.

    Raises:
        TrainingError: resume asked but the run has no last.pt; or from the backend.
    """
    last = resume_weights(run_dir, resume)
    if last is None:
        return backend.train(config, data_yaml, run_dir, hooks)
    return backend.train(config, data_yaml, run_dir, hooks, resume_from=last)


def choose_model_name(config: TrainingConfig, taken: set[str]) -> str:
    """``config.model_name`` if free, else raise; without one ``<base stem>-<UTC timestamp>``
    (suffixed ``-2``, ``-3`` ... when that is taken too).

    Raises:
        ValidationError: the chosen name is already registered or queued for the dataset.
    """
    if config.model_name:
        if config.model_name in taken:
            raise ValidationError(
                f"A model named {config.model_name!r} already exists (or is queued) for dataset "
                f"{config.dataset!r}; choose another name or leave it empty.")
        return config.model_name
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    base = f"{Path(config.base_model).stem}-{stamp}"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    return validate_name(name, "Model name")
