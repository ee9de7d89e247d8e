"""The narrow interface between a training backend and the studio.

A backend (``UltralyticsBackend`` or a test fake) calls ``TrainHooks`` methods from the training
thread while it trains, asks ``should_stop()`` / ``should_abort()`` between batches, and returns a
``TrainOutcome``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..config import TrainingConfig
from .snapshot import EpochMetrics

#: ``TrainOutcome.stop_reason`` when the studio asked the backend to stop.
STOP_REQUESTED = "stop requested"


class TrainHooks(Protocol):
    """Receives progress from a backend; every method is called on the training thread."""

    def on_start(self, *, epochs: int, batches: int, batch_size: int, images: int,
                 save_dir: Path) -> None:
        """Training is set up: ``batches`` per epoch of ``batch_size`` images, ``images`` in
        the train split; ``save_dir`` is the run folder (Ultralytics' ``trainer.save_dir``)."""

    def on_epoch_start(self, epoch: int) -> None:
        """Epoch ``epoch`` (1-based) starts."""

    def on_batch_end(self, epoch: int, batch_i: int, batches: int, batch_size: int) -> None:
        """Batch ``batch_i`` (1-based) of ``batches`` in epoch ``epoch`` (1-based) is done."""

    def on_epoch_end(self, metrics: EpochMetrics) -> None:
        """One trained epoch ended (called exactly once per trained epoch)."""

    def on_final(self, metrics: EpochMetrics) -> None:
        """Validation of best.pt after training (not an epoch)."""

    def log(self, line: str) -> None:
        """One human-readable log line."""

    def should_stop(self) -> bool:
        """True when the studio wants training to stop after the current batch."""

    def should_abort(self) -> bool:
        """True when the studio discards this run (a user cancel): the backend may end it at
        once, skipping the epoch's validation and the final validation of best.pt, and returns
        an outcome with ``stopped`` True. Implies ``should_stop()``."""


class TrainingBackend(Protocol):
    """What the TrainingManager needs from a backend."""

    def check_base_model(self, base_model: str) -> None:
        """Raise ``TrainingError`` within seconds when ``base_model`` cannot be loaded."""

    def train(self, config: TrainingConfig, data_yaml: Path, run_dir: Path, hooks: TrainHooks,
              resume_from: Path | None = None) -> "TrainOutcome":
        """Train to completion (or until ``hooks.should_stop()``), raising ``TrainingError``."""


@dataclass(frozen=True)
class TrainOutcome:
    """What a finished ``train()`` call produced.

    Attributes:
        save_dir: The run folder Ultralytics wrote to.
        best_weights: ``save_dir/weights/best.pt`` when it exists, else None.
        epochs_completed: Trained epochs (each reported once through ``on_epoch_end``).
        history: One EpochMetrics per trained epoch, in order.
        final: Metrics of best.pt on the val split after training (None if not validated).
        stopped: True when training ended because ``hooks.should_stop()`` said so.
        stop_reason: Why training ended before ``config.epochs`` (stop request, early
            stopping) or None when it ran all epochs.
        batch_used: Batch size really used (after AutoBatch / out-of-memory halving), or None.
        per_class: One dict per class from the final validation of best.pt (see
            ``results.per_class_metrics``); () when there was none.
        parameters: Number of weights of the trained model; None when unknown.
        inference_ms: Milliseconds per image of the forward pass in the final validation of
            best.pt (Ultralytics' ``validator.speed["inference"]``); None when unknown.
    """

    save_dir: Path
    best_weights: Path | None
    epochs_completed: int
    history: tuple[EpochMetrics, ...] = ()
    final: EpochMetrics | None = None
    stopped: bool = False
    stop_reason: str | None = None
    batch_used: int | None = None
    per_class: tuple[dict, ...] = ()
    parameters: int | None = None
    inference_ms: float | None = None
