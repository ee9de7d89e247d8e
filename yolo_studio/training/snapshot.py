"""Immutable records the training thread publishes and everyone else only reads."""

from __future__ import annotations

from typing import Any

import enum
from dataclasses import dataclass, field


class JobState(str, enum.Enum):
    """States of a job and of the manager: the training state machine plus the queue's states.

    ``IDLE --start--> TRAINING --complete--> COMPLETED --reset--> IDLE``;
    ``TRAINING --cancel--> CANCELLED``; a failure ends in ``ERROR`` with a cause; a job that was
    running when the app died is ``INTERRUPTED`` after restart; waiting jobs are ``QUEUED``.
    """

    IDLE = "IDLE"
    QUEUED = "QUEUED"
    TRAINING = "TRAINING"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    ERROR = "ERROR"
    INTERRUPTED = "INTERRUPTED"


@dataclass(frozen=True)
class EpochMetrics:
    """Metrics of one epoch (or of the final validation of best.pt).

    Losses are Ultralytics' per-image averages (unitless); precision, recall, mAP50, mAP50-95 are
    fractions 0-1 on the val split from Ultralytics' validator; ``lr`` is the learning rate of
    parameter group 0 at the end of the epoch; ``time_s`` is seconds since training started.
    ``epoch`` is 1-based. A value Ultralytics did not report is None.
    """

    epoch: int
    train_box_loss: float | None = None
    train_cls_loss: float | None = None
    train_dfl_loss: float | None = None
    val_box_loss: float | None = None
    val_cls_loss: float | None = None
    val_dfl_loss: float | None = None
    precision: float | None = None
    recall: float | None = None
    map50: float | None = None
    map50_95: float | None = None
    lr: float | None = None
    time_s: float | None = None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class TrainingSnapshot:
    """Everything a viewer needs about one job at one moment; never mutated, only replaced.

    Attributes:
        job_id: Id of the job ("" when the manager has never run one).
        state: Current state.
        dataset / model_name / base_model: What is trained.
        device: The job's ``TrainingConfig.device`` ("" = automatic; "0,1": several GPUs).
        node: Where the job trains ("this machine", or a Ray node's address); "" until known.
        node_resources: The last readings (``resources.ResourceStatus``, oldest first, at most
            ``progress.NODE_READINGS``) of the Ray node the job trains on; empty for a job on
            this machine (the studio's own monitor reads those).
        epoch: Epochs completed so far (0-based count); ``epochs``: total planned.
        batch_i / batches: Batch index (1-based) within the current epoch and batches per epoch.
        elapsed_s / eta_s: Seconds since training started; estimated seconds left (None = unknown).
        images_per_s: Training throughput over the last epoch or batches (None = unknown).
        history: One EpochMetrics per trained epoch, in order, never the final validation.
        final: Metrics of best.pt on the val split after training (None until then).
        stop_reason: Why training ended early (cancel, early stopping, resource alert) or None.
        error: User-facing cause when state is ERROR.
        log: Last log lines (bounded).
        queue: Ids of the queued jobs, in order. queue_rev: Increases on every write to the job
            queue (a job queued, moved, removed, retried), whether or not ``queue`` changed.
        last_completed: (job id, dataset) of the newest job that COMPLETED since the app
            started, or None; kept when the next job starts, so a viewer that only sees the
            next job's snapshot still learns that this one finished.
        version: Increases by one on every published change.
    """

    job_id: str = ""
    state: JobState = JobState.IDLE
    dataset: str = ""
    model_name: str = ""
    base_model: str = ""
    device: str = ""
    node: str = ""
    node_resources: tuple[Any, ...] = ()
    epoch: int = 0
    epochs: int = 0
    batch_i: int = 0
    batches: int = 0
    elapsed_s: float = 0.0
    eta_s: float | None = None
    images_per_s: float | None = None
    history: tuple[EpochMetrics, ...] = ()
    final: EpochMetrics | None = None
    stop_reason: str | None = None
    error: str | None = None
    log: tuple[str, ...] = ()
    queue: tuple[str, ...] = field(default=())
    queue_rev: int = 0
    last_completed: tuple[str, str] | None = None
    version: int = 0
