"""Translates Ultralytics trainer callbacks into ``TrainHooks`` calls (no ultralytics import).

Event order in Ultralytics 8.4 (``engine/trainer.py``): ``on_pretrain_routine_start``,
``on_pretrain_routine_end``, ``on_train_start``, then per epoch ``on_train_epoch_start``,
per batch ``on_train_batch_start``/``on_train_batch_end``, ``on_train_epoch_end``,
``on_model_save``, ``on_fit_epoch_end``; after the loop ``final_eval`` fires ``on_fit_epoch_end``
once more (``trainer.epoch`` one past the last epoch, no ``on_train_epoch_start`` before it),
then ``on_train_end``.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any, Callable

from ..errors import TrainingError
from .hooks import STOP_REQUESTED, TrainHooks, TrainOutcome
from .results import metrics_from_trainer, per_class_metrics, train_losses
from .snapshot import EpochMetrics


class RunAborted(Exception):
    """Raised from a callback to end a discarded run (a user cancel) at once, without the
    validations Ultralytics runs after ``trainer.stop``; ``UltralyticsBackend.train`` catches
    it. Never reaches the user."""


class CallbackBridge:
    """Per-run callback state: stop flag re-apply, epoch bookkeeping, the first callback error.

    Args:
        hooks: Receiver of progress.
        epochs: Planned epochs (``config.epochs``).
    """

    def __init__(self, hooks: TrainHooks, epochs: int) -> None:
        self.hooks = hooks
        self.epochs = epochs
        self.history: list[EpochMetrics] = []
        self.final: EpochMetrics | None = None
        self.per_class: tuple[dict, ...] = ()
        self.stop_requested = False
        self.error: BaseException | None = None
        self.error_event = ""
        self.save_dir: Path | None = None
        self.batch_used: int | None = None
        self._epoch_open = False
        self._batch_i = 0
        self._trainer: Any = None

    def handlers(self) -> dict[str, Callable[[Any], None]]:
        """Ultralytics event name -> callback, each guarded so its error fails the job."""
        table = {
            "on_train_start": self._train_start,
            "on_train_epoch_start": self._epoch_start,
            "on_train_batch_end": self._batch_end,
            "on_fit_epoch_end": self._fit_epoch_end,
            "on_train_end": self._train_end,
        }
        return {event: self._guard(event, fn) for event, fn in table.items()}

    def _guard(self, event: str, fn: Callable[[Any], None]) -> Callable[[Any], None]:
        @functools.wraps(fn)
        def run(trainer: Any) -> None:
            self._trainer = trainer
            try:
                fn(trainer)
            except RunAborted:
                raise
            except Exception as exc:
                if self.error is None:
                    self.error, self.error_event = exc, event
                trainer.stop = True
                raise
        return run

    def _apply_stop(self, trainer: Any) -> None:
        if self.stop_requested or self.hooks.should_stop():
            self.stop_requested = True
            trainer.stop = True
            if self.hooks.should_abort():
                raise RunAborted("the run is discarded")

    def close_loaders(self) -> None:
        """Shut down the data loader workers of an aborted run (Ultralytics does it only at
        the end of a full run)."""
        for name in ("train_loader", "test_loader"):
            loader = getattr(self._trainer, name, None)
            if hasattr(loader, "close"):
                loader.close()

    def _train_start(self, trainer: Any) -> None:
        self.save_dir = Path(trainer.save_dir)
        self.batch_used = int(trainer.batch_size)
        loader = trainer.train_loader
        self.hooks.on_start(epochs=int(trainer.epochs), batches=len(loader),
                            batch_size=self.batch_used, images=len(loader.dataset),
                            save_dir=self.save_dir)
        self._apply_stop(trainer)

    def _epoch_start(self, trainer: Any) -> None:
        size = int(trainer.batch_size)
        if self.batch_used is not None and size != self.batch_used:  # OOM halving (epoch 1)
            self.hooks.log(f"Batch size lowered from {self.batch_used} to {size} after running "
                           "out of memory; the epoch starts again with it.")
        self.batch_used = size
        self._epoch_open = True
        self._batch_i = 0
        self.hooks.on_epoch_start(int(trainer.epoch) + 1)
        self._apply_stop(trainer)  # setup resets trainer.stop; an early cancel is re-applied

    def _batch_end(self, trainer: Any) -> None:
        losses = train_losses(trainer)
        bad = [name for name, value in losses.items() if not math.isfinite(value)]
        if bad:
            raise TrainingError(
                f"Training diverged: {', '.join(bad)} became NaN/Inf in epoch {trainer.epoch + 1}. "
                "Lower lr0 (e.g. by 10x), check the labels, or use a pretrained base model.")
        batches = len(trainer.train_loader)
        self._batch_i += 1
        self.hooks.on_batch_end(int(trainer.epoch) + 1, self._batch_i, batches,
                                int(trainer.batch_size))
        self._apply_stop(trainer)

    def _fit_epoch_end(self, trainer: Any) -> None:
        self.batch_used = int(trainer.batch_size)
        if not self._epoch_open:  # final_eval's extra call: validation of best.pt
            best = getattr(getattr(trainer, "stopper", None), "best_epoch", None)
            epoch = int(best) if best else self.epochs_completed
            self.final = metrics_from_trainer(trainer, epoch, include_train=False)
            self.per_class = per_class_metrics(trainer)
            self.hooks.on_final(self.final)
            return
        self._epoch_open = False
        metrics = metrics_from_trainer(trainer, int(trainer.epoch) + 1)
        self.history.append(metrics)
        self.hooks.on_epoch_end(metrics)

    def _train_end(self, trainer: Any) -> None:
        """After the final validation (rank 0 only): hooks that relay the outcome to another
        process (``events.EventSink.on_outcome``) get it here, where DDP's callbacks run."""
        report = getattr(self.hooks, "on_outcome", None)
        if report is not None:
            report(self.outcome(Path(trainer.save_dir)))

    @property
    def epochs_completed(self) -> int:
        """Last trained epoch (1-based); counts the epochs before a resume too."""
        return self.history[-1].epoch if self.history else 0

    def stop_reason(self) -> str | None:
        """Why training ended before the planned epochs, or None when it ran them all."""
        if self.stop_requested:
            return STOP_REQUESTED
        done = self.epochs_completed
        if done >= self.epochs:
            return None
        stopper = getattr(self._trainer, "stopper", None)
        patience = getattr(stopper, "patience", None)
        best = getattr(stopper, "best_epoch", None)
        if patience is not None and math.isfinite(patience):
            return (f"early stopping: no val improvement for {int(patience)} epochs after the "
                    f"best epoch {best} (stopped at epoch {done}/{self.epochs})")
        return f"stopped at epoch {done}/{self.epochs}"

    def outcome(self, run_dir: Path) -> TrainOutcome:
        """The TrainOutcome of the finished run (call after ``model.train()`` returned)."""
        save_dir = self.save_dir or run_dir
        best = save_dir / "weights" / "best.pt"
        return TrainOutcome(
            save_dir=save_dir, best_weights=best if best.is_file() else None,
            epochs_completed=self.epochs_completed,
            history=tuple(self.history), final=self.final, stopped=self.stop_requested,
            stop_reason=self.stop_reason(), batch_used=self.batch_used,
            per_class=self.per_class)
