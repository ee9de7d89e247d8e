"""Progress monitor: turns backend hook calls into new immutable ``TrainingSnapshot`` values.

``SnapshotBoard`` holds the current snapshot and wakes waiters on every change;
``ProgressTracker`` implements ``TrainHooks`` for one job and publishes to a board. Viewers only
read snapshots, so any number of them can watch without touching the training thread.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path
from typing import Any, Callable

from .snapshot import EpochMetrics, JobState, TrainingSnapshot

#: Lines kept in ``TrainingSnapshot.log``.
LOG_LINES = 200
#: Readings of a job's Ray node kept in ``TrainingSnapshot.node_resources`` (one per
#: ``ray_task.READING_EVERY_S`` seconds: 10 min).
NODE_READINGS = 300


#: Snapshot fields whose change is routine progress; a change of any other field (state, a new
#: epoch, the final result, an error, the queue) is a major change.
PROGRESS_FIELDS = frozenset({"batch_i", "batches", "elapsed_s", "eta_s", "images_per_s", "log",
                             "node_resources"})


class SnapshotBoard:
    """The one current TrainingSnapshot, replaced (never mutated) under a Condition.

    Waiters for any change and waiters for major changes only (see ``PROGRESS_FIELDS``) wait
    on separate conditions, so per-batch progress does not wake the latter.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._major_cond = threading.Condition(self._lock)
        self._major_version = 0  # version of the last major change
        self._snapshot = TrainingSnapshot()

    @property
    def current(self) -> TrainingSnapshot:
        """The latest snapshot (an immutable value; safe to keep)."""
        return self._snapshot

    def publish(self, **changes: Any) -> TrainingSnapshot:
        """Replace the snapshot with ``changes`` applied and version + 1; wake all waiters."""
        with self._cond:
            old = self._snapshot
            new = dataclasses.replace(old, **changes, version=old.version + 1)
            self._snapshot = new
            self._cond.notify_all()
            if any(k not in PROGRESS_FIELDS and getattr(old, k) != v for k, v in changes.items()):
                self._major_version = new.version
                self._major_cond.notify_all()
        return new

    def publish_queue(self, queued: tuple[str, ...]) -> TrainingSnapshot:
        """Publish a write to the job queue: ``queued`` ids and ``queue_rev`` + 1 (a major
        change even when the queued ids stay the same, e.g. a failed job removed)."""
        with self._cond:
            return self.publish(queue=queued, queue_rev=self._snapshot.queue_rev + 1)

    def replace(self, snapshot: TrainingSnapshot) -> TrainingSnapshot:
        """Publish ``snapshot`` as a whole (its version is set to current + 1; the queue's
        count and the last completed job go on from the current one)."""
        fields = {f.name: getattr(snapshot, f.name) for f in dataclasses.fields(snapshot)
                  if f.name not in ("version", "queue_rev", "last_completed")}
        return self.publish(**fields)

    def append_log(self, line: str) -> TrainingSnapshot:
        """Publish with ``line`` appended to the bounded log tail."""
        with self._cond:
            return self.publish(log=(*self._snapshot.log, line)[-LOG_LINES:])

    def wait_for_change(self, version: int, timeout_s: float,
                        major_only: bool = False) -> TrainingSnapshot:
        """Block until the snapshot version exceeds ``version`` (with ``major_only``: until a
        major change newer than ``version``) or ``timeout_s`` seconds pass.

        Returns the current snapshot either way (compare its version to tell which).
        """
        if major_only:
            with self._major_cond:
                self._major_cond.wait_for(lambda: self._major_version > version,
                                          timeout=timeout_s)
                return self._snapshot
        with self._cond:
            self._cond.wait_for(lambda: self._snapshot.version > version, timeout=timeout_s)
            return self._snapshot


class FollowedBoard(SnapshotBoard):
    """One job's own board that also publishes each change to ``main`` while ``followed()``
    is True (the manager's board follows the newest running job), so that board shows that
    job exactly as this one does.

    Args:
        main: The manager's board.
        followed: Returns True while ``main`` follows this job.
    """

    def __init__(self, main: SnapshotBoard, followed: Callable[[], bool]) -> None:
        super().__init__()
        self._main, self._followed = main, followed

    def publish(self, **changes: Any) -> TrainingSnapshot:
        """Publish here (version + 1) and, while followed, the same changes on ``main``."""
        with self._cond:
            new = super().publish(**changes)
            if self._followed():
                self._main.publish(**changes)
        return new


class ProgressTracker:
    """``TrainHooks`` for one job: measures time, estimates ETA, publishes to a board.

    Args:
        board: Where snapshots go.
        should_stop: Returns True when the job should stop (cancel or resource alert).
        should_abort: Returns True when the run is discarded (a user cancel); None = never.
        clock: Monotonic seconds (injectable for tests).
    """

    def __init__(self, board: SnapshotBoard, should_stop: Callable[[], bool],
                 should_abort: Callable[[], bool] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.board = board
        self._should_stop = should_stop
        self._should_abort = should_abort or (lambda: False)
        self._clock = clock
        self._t0 = clock()
        self._epoch_t0 = self._t0
        self._epoch_times: list[float] = []
        self._epoch_images = 0
        self._epochs = board.current.epochs
        #: Called with the node by ``on_node`` (the manager records it in the job queue).
        self.on_placed: Callable[[str], None] | None = None

    def _elapsed(self) -> float:
        return self._clock() - self._t0

    def _eta(self, done: int, batch_i: int, batches: int) -> float | None:
        """Seconds left after ``done`` completed epochs and ``batch_i`` batches of the current
        one: mean measured epoch time x epochs left, minus the current epoch's part already
        spent; before the first epoch ends, from the current epoch's batch rate. None = unknown."""
        in_epoch = (self._clock() - self._epoch_t0) if batch_i else 0.0
        left = max(self._epochs - done, 0)
        if self._epoch_times:
            per_epoch = sum(self._epoch_times) / len(self._epoch_times)
        elif batch_i and batches:
            per_epoch = in_epoch / batch_i * batches
        else:
            return None
        return max(per_epoch * left - in_epoch, 0.0)

    def on_start(self, *, epochs: int, batches: int, batch_size: int, images: int,
                 save_dir: Path) -> None:
        self._epochs = epochs
        self.board.publish(epochs=epochs, batches=batches, elapsed_s=self._elapsed())
        self.log(f"Training {images} images in {batches} batches of {batch_size}, "
                 f"{epochs} epochs; run folder {save_dir}")

    def on_resume(self, earlier: tuple[EpochMetrics, ...]) -> None:
        """Show the epochs a resumed run trained before (``registration.earlier_epochs``) as its
        history, so its charts start at epoch 1; the epochs trained now are added after them
        (an epoch trained again replaces its earlier point)."""
        if earlier:
            self.board.publish(history=earlier, epoch=earlier[-1].epoch)
            self.log(f"Resuming after epoch {earlier[-1].epoch}; epochs 1-{earlier[-1].epoch} "
                     "are charted from the run's results.csv.")

    def on_epoch_start(self, epoch: int) -> None:
        self._epoch_t0 = self._clock()
        self._epoch_images = 0
        self.board.publish(batch_i=0, elapsed_s=self._elapsed(),
                           eta_s=self._eta(epoch - 1, 0, self.board.current.batches))

    def on_batch_end(self, epoch: int, batch_i: int, batches: int, batch_size: int) -> None:
        self._epoch_images += batch_size
        in_epoch = self._clock() - self._epoch_t0
        rate = self._epoch_images / in_epoch if in_epoch > 0 else None
        self.board.publish(batch_i=batch_i, batches=batches, elapsed_s=self._elapsed(),
                           images_per_s=rate, eta_s=self._eta(epoch - 1, batch_i, batches))

    def on_epoch_end(self, metrics: EpochMetrics) -> None:
        self._epoch_times.append(self._clock() - self._epoch_t0)
        current = self.board.current
        history = tuple(m for m in current.history if m.epoch != metrics.epoch) + (metrics,)
        self.board.publish(history=history, epoch=metrics.epoch, elapsed_s=self._elapsed(),
                           eta_s=self._eta(metrics.epoch, 0, current.batches))
        self.log(format_epoch(metrics, self._epochs, history[-2] if len(history) > 1 else None))

    def on_final(self, metrics: EpochMetrics) -> None:
        self.board.publish(final=metrics, elapsed_s=self._elapsed(), eta_s=0.0)
        self.log(f"best.pt on val: {format_metrics(metrics)}")

    def log(self, line: str) -> None:
        self.board.append_log(line)

    def on_node_reading(self, status: Any) -> None:
        """A resource reading (``ResourceStatus``) of the node the job trains on."""
        readings = (*self.board.current.node_resources, status)[-NODE_READINGS:]
        self.board.publish(node_resources=readings)

    def on_node(self, node: str) -> None:
        """Where the job trains, once known ("this machine" or a Ray node's address)."""
        self.board.publish(node=node)
        if self.on_placed is not None:
            self.on_placed(node)

    def should_stop(self) -> bool:
        return self._should_stop()

    def should_abort(self) -> bool:
        return self._should_abort()


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def format_metrics(m: EpochMetrics) -> str:
    """``P 0.5 R 0.4 mAP50 0.45 mAP50-95 0.3`` (fractions 0-1)."""
    return (f"P {_fmt(m.precision)} R {_fmt(m.recall)} mAP50 {_fmt(m.map50)} "
            f"mAP50-95 {_fmt(m.map50_95)}")


def format_epoch(m: EpochMetrics, epochs: int, previous: EpochMetrics | None = None) -> str:
    """One log line for a trained epoch: losses, val metrics, and its time in seconds,
    labelled: ``epoch 2.0 s, elapsed 6.0 s`` (elapsed: since training started).

    Args:
        m: The epoch's metrics (``time_s``: seconds since training started, or None).
        epochs: The planned epochs.
        previous: The epoch before it, for the epoch's own duration (not needed for epoch 1).
    """
    took = None
    if m.time_s is not None:
        if m.epoch == 1:
            took = m.time_s
        elif previous is not None and previous.time_s is not None:
            took = m.time_s - previous.time_s
    times = [f"epoch {took:.1f} s"] if took is not None else []
    if m.time_s is not None:
        times.append(f"elapsed {m.time_s:.1f} s")
    return (f"epoch {m.epoch}/{epochs}: loss box {_fmt(m.train_box_loss)} cls "
            f"{_fmt(m.train_cls_loss)} dfl {_fmt(m.train_dfl_loss)} | {format_metrics(m)}"
            + (f" | {', '.join(times)}" if times else ""))


def begin_snapshot(board: SnapshotBoard, job_id: str, dataset: str, model_name: str,
                   base_model: str, epochs: int, queue: tuple[str, ...],
                   device: str = "") -> TrainingSnapshot:
    """Publish a fresh TRAINING snapshot for a job that is starting (``device``: its
    ``TrainingConfig.device``)."""
    return board.replace(TrainingSnapshot(
        job_id=job_id, state=JobState.TRAINING, dataset=dataset, model_name=model_name,
        base_model=base_model, device=device, epochs=epochs, queue=queue))
