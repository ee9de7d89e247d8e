"""What a ``TrainingManager`` tells viewers and lets them do with jobs other than start and
cancel: snapshots (the studio's and each job's), waiting for a job, and the queue's edits.

``JobViewsMixin`` is kept apart so the manager module stays small (same pattern as
``JobExecutionMixin``); it uses the manager's ``_lock``, ``_board``, ``_runs``, ``queue``,
``settings`` and ``_publish_queue`` / ``_publish_queued`` / ``_queued_ids``.
"""

from __future__ import annotations

import time
from typing import Any

from ..errors import NotFoundError, TrainingError, ValidationError
from .progress import SnapshotBoard
from .queue import JobRecord
from .snapshot import JobState, TrainingSnapshot

_ENDED = (JobState.COMPLETED, JobState.CANCELLED, JobState.ERROR, JobState.INTERRUPTED)


class JobViewsMixin:
    """Snapshots, waits and queue edits of ``TrainingManager``."""

    _lock: Any
    _board: Any
    _runs: Any
    queue: Any
    settings: Any
    _publish_queue: Any
    _publish_queued: Any
    _queued_ids: Any

    def snapshot(self, job_id: str | None = None) -> TrainingSnapshot:
        """The current snapshot (immutable): of the newest running job, or the last finished
        one's; with ``job_id``, of that running or recent job (``NotFoundError`` if none)."""
        return self._board_of(job_id).current

    def wait_for_change(self, version: int, timeout_s: float, major_only: bool = False,
                        job_id: str | None = None) -> TrainingSnapshot:
        """Block until the snapshot's version exceeds ``version`` or ``timeout_s`` seconds pass;
        return the current snapshot. Any number of threads may wait. With ``major_only``, batch
        progress and log lines do not end the wait: only a new state, epoch, final result,
        error or queue change newer than ``version`` does. ``job_id``: as in ``snapshot``
        (a job's own versions count apart from the studio's)."""
        return self._board_of(job_id).wait_for_change(version, timeout_s, major_only)

    def _board_of(self, job_id: str | None) -> SnapshotBoard:
        if job_id is None:
            return self._board
        with self._lock:
            return self._runs.board(job_id)

    def running_jobs(self) -> list[str]:
        """Ids of the jobs training now, oldest first."""
        with self._lock:
            return list(self._runs.runs)

    def recent_jobs(self) -> list[str]:
        """Ids of the jobs training now and of those that ran recently, newest first (each
        has a ``snapshot(job_id)``)."""
        with self._lock:
            return self._runs.recent()

    def wait_for_job(self, job_id: str, timeout_s: float | None = None) -> TrainingSnapshot:
        """Block until job ``job_id`` has run and ended; return its last snapshot.

        A retried job keeps its id: its earlier run's snapshot is not taken for the new one.

        Args:
            job_id: From ``start_training`` (or ``retry_job``); the job may still be queued.
            timeout_s: Seconds to wait at most; None waits as long as it takes.

        Returns:
            The snapshot whose ``state`` is COMPLETED, CANCELLED, ERROR or INTERRUPTED.

        Raises:
            TrainingError: ``timeout_s`` passed first, or the job left the queue without
                being followed (removed, or cancelled while queued).
        """
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            # the queue first, then the job's snapshot: a job's run publishes its start after
            # claiming it and ends it in the queue before publishing its end, so the snapshot
            # read second is never older than the state read first
            state = self._job_state(job_id)
            with self._lock:
                board = self._runs.board(job_id) if job_id in self._runs.recent() else None
            snap = None if board is None else board.current
            if snap is not None and snap.state in _ENDED and state is snap.state:
                return snap
            if snap is None and state not in (JobState.QUEUED, JobState.TRAINING):
                raise TrainingError(f"Job {job_id} ended {state.value} before it could be "
                                    "followed.")
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise TrainingError(f"Job {job_id} did not finish within {timeout_s} s.")
            wait_s = 1.0 if left is None else min(left, 1.0)
            if board is None:  # not started: its start is a major change of the main board
                self._board.wait_for_change(self._board.current.version, wait_s, True)
            else:  # not every batch: a state change
                board.wait_for_change(snap.version, wait_s, major_only=True)

    def _job_state(self, job_id: str) -> JobState:
        try:
            return self.queue.get(job_id).state
        except NotFoundError:
            raise TrainingError(f"Job {job_id} was removed from the queue.") from None

    def reset(self) -> TrainingSnapshot:
        """COMPLETED / CANCELLED / ERROR -> IDLE (a no-op when already IDLE).

        Raises:
            ValidationError: a job is training.
        """
        current = self._board.current
        if current.state == JobState.TRAINING:
            raise ValidationError("A job is training; cancel it before resetting.")
        if current.state == JobState.IDLE:
            return current
        return self._board.replace(TrainingSnapshot(queue=self._queued_ids(), log=current.log))

    def jobs(self) -> list[JobRecord]:
        """All jobs (queued, running and recent finished ones) in queue order."""
        return self.queue.list()

    def remove_job(self, job_id: str) -> None:
        """Remove a job that is not running (see ``JobQueue.remove``)."""
        self.queue.remove(job_id)
        self._publish_queue()

    def move_job(self, job_id: str, delta: int) -> None:
        """Move a queued job ``delta`` places (-1 = run earlier)."""
        self.queue.move(job_id, delta)
        self._publish_queue()

    def retry_job(self, job_id: str, resume: bool = False) -> JobRecord:
        """Queue an INTERRUPTED / ERROR / CANCELLED job again; ``resume=True`` continues its
        run from ``weights/last.pt`` (Ultralytics resume) instead of starting over.

        Raises:
            ValidationError: ``resume`` but the run has no last.pt; or the job is not
                INTERRUPTED / ERROR / CANCELLED. NotFoundError: no such job.
        """
        if resume and not (self.settings.run_dir(job_id) / "weights" / "last.pt").is_file():
            raise ValidationError(f"Job {job_id} cannot be resumed: it has no last.pt (it "
                                  "stopped before its first epoch was saved). Use Retry to "
                                  "start it over.")
        job = self.queue.retry(job_id, resume=resume)
        self._publish_queued()
        return job
