"""The jobs a ``TrainingManager`` runs at once, and the snapshot boards of recent jobs.

Each running job has a ``JobRun``: its queue record, its own ``FollowedBoard`` and its stop
request. The manager's main board follows the newest running job (the one a page that picked
no job watches); every job's own board stays readable for ``KEEP_BOARDS`` jobs, so a page can
follow any running job, or look at one that just ended.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from ..errors import NotFoundError
from .progress import FollowedBoard, SnapshotBoard
from .queue import JobRecord

#: Boards of finished jobs kept for viewers (the oldest is dropped first).
KEEP_BOARDS = 20


@dataclass
class JobRun:
    """One running job.

    Attributes:
        job: Its queue record, as claimed.
        board: Its own snapshots (``FollowedBoard``).
        stop: The stop request for it (``registration.StopRequest``) or None.
        thread: The thread that runs it when jobs run at once, else None.
    """

    job: JobRecord
    board: FollowedBoard
    stop: Any = None
    thread: threading.Thread | None = None

    @property
    def cancelled(self) -> bool:
        """True when a user (or the shutdown) cancelled it."""
        return self.stop is not None and self.stop.kind == "cancel"


class RunBook:
    """Running jobs in start order, and recent jobs' boards. Call its methods under the
    manager's lock.

    Args:
        main: The manager's board, which follows the newest running job.
    """

    def __init__(self, main: SnapshotBoard) -> None:
        self.main = main
        self.runs: dict[str, JobRun] = {}
        self._boards: OrderedDict[str, SnapshotBoard] = OrderedDict()
        self._followed: str | None = None

    def begin(self, job: JobRecord) -> JobRun:
        """A run for ``job``, now the one the main board follows."""
        board = FollowedBoard(self.main, lambda: self._followed == job.job_id)
        self._followed = job.job_id
        run = JobRun(job, board)
        self.runs[job.job_id] = run
        self._boards[job.job_id] = board
        while len(self._boards) > KEEP_BOARDS:
            oldest = next(iter(self._boards))
            if oldest in self.runs:
                break
            del self._boards[oldest]
        return run

    def end(self, job_id: str) -> None:
        """Forget a run that ended (its board stays readable). When the main board followed
        it and other jobs still run, it follows the newest of them from now on."""
        self.runs.pop(job_id, None)
        if self._followed != job_id or not self.runs:
            return
        newest = self.newest()
        board = newest.board
        with board._cond:  # no change of that job between its snapshot and the switch
            self._followed = newest.job.job_id
            self.main.replace(board.current)

    def newest(self) -> JobRun | None:
        """The run started last, or None when nothing runs."""
        return next(reversed(self.runs.values()), None)

    def board(self, job_id: str) -> SnapshotBoard:
        """The board of a running or recent job.

        Raises:
            NotFoundError: no such job ran since the studio started (or it is too old).
        """
        try:
            return self._boards[job_id]
        except KeyError:
            raise NotFoundError(f"Job {job_id} is not running and did not run recently; "
                                "pick a job from the list.") from None

    def recent(self) -> list[str]:
        """Ids of the running and recent jobs, newest first."""
        return list(reversed(self._boards))
