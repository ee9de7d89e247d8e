"""Translates Ultralytics trainer callbacks into ``TrainHooks`` calls (no ultralytics import).

Event order in Ultralytics 8.4 (``engine/trainer.py``): ``on_pretrain_routine_start``,
``on_pretrain_routine_end``, ``on_train_start``, then per epoch ``on_train_epoch_start``,
per batch ``on_train_batch_start``/``on_train_batch_end``, ``on_train_epoch_end``,
``on_model_save``, ``on_fit_epoch_end``; after the loop ``final_eval`` fires ``on_fit_epoch_end``
once more (``trainer.epoch`` one past the last epoch, no ``on_train_epoch_start`` before it),
then ``on_train_end``; ``teardown`` ends every ``train()``, failed ones too.

DDP (a device list such as ``0,1``): Ultralytics cloudpickles the trainer's callbacks, this
bridge and its hooks included, into each rank's process (``utils/dist.py``), where they run on
every rank; the launcher's trainer runs none. In a rank ``trainer.stop`` set per batch on rank 0
alone leaves the other ranks waiting at the next collective, while a stop set in
``on_fit_epoch_end`` on rank 0 is broadcast to all; an exception on rank 0 ends the run (torchrun
ends the others). So in a DDP rank a graceful stop waits for the epoch's end and a user abort
raises ``RunAborted`` at the next batch. Rank 0's Ultralytics log lines reach ``hooks.log``
through a ``LogForwarder`` the bridge attaches there (the launcher's own does not reach it).
"""

from __future__ import annotations

import functools
import logging
import math
import os
from pathlib import Path
from typing import Any, Callable

from ..errors import TrainingError
from .hooks import STOP_REQUESTED, TrainHooks, TrainOutcome
from .log_lines import tail_lines
from .results import metrics_from_trainer, model_facts, per_class_metrics, train_losses
from .snapshot import EpochMetrics


class RunAborted(Exception):
    """Raised from a callback to end a discarded run (a user cancel) at once, without the
    validations Ultralytics runs after ``trainer.stop``; ``UltralyticsBackend.train`` catches
    it. Never reaches the user."""


class LogForwarder(logging.Handler):
    """Forwards log records (of the ``"ultralytics"`` logger) to ``hooks.log``, one call per
    non-blank line, while one training runs; each header over its own rows
    (``log_lines.tail_lines``: no training header, the validation header over the validation
    rows)."""

    def __init__(self, hooks: TrainHooks) -> None:
        super().__init__(level=logging.INFO)
        self._hooks = hooks

    def emit(self, record: logging.LogRecord) -> None:
        try:
            for line in record.getMessage().splitlines():
                for shown in tail_lines(line) if line.strip() else ():
                    self._hooks.log(shown)
        except Exception:  # a log line must never break training
            self.handleError(record)


def _env_int(name: str) -> int | None:
    try:
        return int(os.environ[name])
    except (KeyError, ValueError):
        return None


def launched_rank() -> int | None:
    """This process's rank when a launcher (torchrun) started it as a rank (env ``RANK`` >= 0),
    else None (``RANK`` unset, -1 or not a number: the studio's own worker process)."""
    rank = _env_int("RANK")
    return rank if rank is not None and rank >= 0 else None


def in_ddp() -> bool:
    """True in a rank of a DDP run of several processes (``launched_rank()`` set and
    ``WORLD_SIZE`` > 1, as Ultralytics reads it): ``trainer.stop`` must then change on every
    rank at once."""
    return launched_rank() is not None and (_env_int("WORLD_SIZE") or 1) > 1


class CallbackBridge:
    """Per-run callback state: stop flag re-apply, epoch bookkeeping, the first callback error.

    Picklable (the trainer and a log forwarder are left out), so Ultralytics can carry it to
    DDP ranks.

    Args:
        hooks: Receiver of progress.
        epochs: Planned epochs (``config.epochs``).
        gpu_memory_fraction: CUDA memory cap (fraction 0-1, ``max_gpu_memory_percent``) that
            each DDP rank applies to its own GPU; None or outside (0, 1): no cap. Without DDP
            the backend caps its own process.
    """

    def __init__(self, hooks: TrainHooks, epochs: int,
                 gpu_memory_fraction: float | None = None) -> None:
        self.hooks = hooks
        self.epochs = epochs
        self.gpu_memory_fraction = gpu_memory_fraction
        self.history: list[EpochMetrics] = []
        self.final: EpochMetrics | None = None
        self.per_class: tuple[dict, ...] = ()
        self.model_facts: dict[str, Any] = {}
        self.stop_requested = False
        self.error: BaseException | None = None
        self.error_event = ""
        self.save_dir: Path | None = None
        self.batch_used: int | None = None
        self._epoch_open = False
        self._batch_i = 0
        self._trainer: Any = None
        self._forwarder: LogForwarder | None = None

    def __getstate__(self) -> dict[str, Any]:
        return dict(self.__dict__, _trainer=None, _forwarder=None)

    def handlers(self) -> dict[str, Callable[[Any], None]]:
        """Ultralytics event name -> callback, each guarded so its error fails the job."""
        table = {
            "on_pretrain_routine_start": self._pretrain_start,
            "on_pretrain_routine_end": self._cap_rank_memory,
            "on_train_start": self._train_start,
            "on_train_epoch_start": self._epoch_start,
            "on_train_batch_end": self._batch_end,
            "on_fit_epoch_end": self._fit_epoch_end,
            "on_train_end": self._train_end,
            "teardown": self._teardown,
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

    def _apply_stop(self, trainer: Any, epoch_end: bool = False) -> None:
        """Apply a requested stop: a user abort raises ``RunAborted``; a graceful stop sets
        ``trainer.stop``, in a DDP rank only at an epoch's end (``epoch_end``), where
        Ultralytics broadcasts rank 0's flag to all ranks."""
        if self.stop_requested or self.hooks.should_stop():
            self.stop_requested = True
            if self.hooks.should_abort():
                trainer.stop = True
                raise RunAborted("the run is discarded")
            if epoch_end or not in_ddp():
                trainer.stop = True

    def close_loaders(self) -> None:
        """Shut down the data loader workers of an aborted run (Ultralytics does it only at
        the end of a full run)."""
        for name in ("train_loader", "test_loader"):
            loader = getattr(self._trainer, name, None)
            if hasattr(loader, "close"):
                loader.close()

    def _pretrain_start(self, trainer: Any) -> None:
        """In a launched rank 0 (DDP), forward Ultralytics' log there too; Ultralytics runs this
        event in the launcher only without DDP, whose log the backend forwards already."""
        if launched_rank() == 0 and self._forwarder is None:
            self._forwarder = LogForwarder(self.hooks)
            logging.getLogger("ultralytics").addHandler(self._forwarder)

    def _cap_rank_memory(self, trainer: Any) -> None:
        """In a DDP rank on CUDA, cap this rank's GPU memory (every rank runs this event, after
        Ultralytics picked the rank's GPU and before the first batch)."""
        fraction = self.gpu_memory_fraction
        device = getattr(trainer, "device", None)
        if not in_ddp() or not fraction or not 0 < fraction < 1 or \
                getattr(device, "type", None) != "cuda":
            return
        import torch  # already imported by the trainer

        torch.cuda.set_per_process_memory_fraction(fraction, device)

    def _teardown(self, trainer: Any) -> None:
        if self._forwarder is not None:
            logging.getLogger("ultralytics").removeHandler(self._forwarder)
            self._forwarder = None

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
            self.model_facts = model_facts(trainer)
            self.hooks.on_final(self.final)
            return
        self._epoch_open = False
        metrics = metrics_from_trainer(trainer, int(trainer.epoch) + 1)
        self.history.append(metrics)
        self.hooks.on_epoch_end(metrics)
        self._apply_stop(trainer, epoch_end=True)  # DDP: broadcast to every rank after this

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
            per_class=self.per_class, **self.model_facts)
