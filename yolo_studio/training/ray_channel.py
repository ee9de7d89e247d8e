"""The wire between a job's Ray task and the studio: ``JobChannel``, a Ray actor (one per
studio) holding each job's events one way and its control message the other, and
``RelayHooks``, the task's ``TrainHooks`` that batch into it. Imports Ray only inside
functions (``ray_task`` runs on the nodes).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from .events import ABORT, STOP, EventSink

#: Seconds between two pushes of a running job's events to its channel.
FLUSH_S = 0.5
#: Seconds between two resource readings of the node sent to the studio.
READING_EVERY_S = 2.0
#: Files of a run sent to the studio while it trains (at an epoch's start).
PROGRESS_FILES = ("weights/last.pt", "results.csv")



class JobChannel:
    """A Ray actor between the jobs' tasks and the studio (one per studio): per job, events
    one way and control the other.

    Events are ``("hook", method, kwargs)`` (``events.EventSink``'s wire), ``("placed",
    node name, node id, training process id)``, ``("files", {relative path: bytes})`` and
    ``("resources", status_to_dict(ResourceStatus))`` (the node's readings).
    """

    def __init__(self) -> None:
        self._items: dict[str, list[tuple]] = {}
        self._control: dict[str, str] = {}

    def push(self, job_id: str, items: list[tuple]) -> str | None:
        """Queue ``items`` of job ``job_id`` for the studio; returns the job's control
        message (None, stop, abort)."""
        self._items.setdefault(job_id, []).extend(items)
        return self._control.get(job_id)

    def pull(self, job_id: str) -> list[tuple]:
        """The items of job ``job_id`` pushed since the last pull, in order."""
        return self._items.pop(job_id, [])

    def set_control(self, job_id: str, message: str) -> None:
        """``stop`` or ``abort`` for job ``job_id`` (an abort is never taken back)."""
        if self._control.get(job_id) != ABORT:
            self._control[job_id] = message

    def forget(self, job_id: str) -> None:
        """Drop what is kept for a job that ended."""
        self._items.pop(job_id, None)
        self._control.pop(job_id, None)


class RelayHooks(EventSink):
    """``TrainHooks`` of a task: each call is queued and pushed to the ``JobChannel`` by a
    thread every ``FLUSH_S`` seconds; the reply sets ``should_stop`` / ``should_abort``.
    At an epoch's start (after the first) the run's last.pt and results.csv follow, when they
    changed, so the studio can resume the job elsewhere if this node dies, and the first
    epoch's train-batch mosaics (the Monitor's augmentation preview).

    Args:
        channel: The studio's ``JobChannel`` actor handle.
        job_id: The job's id.
        run_dir: The run folder on this node.
    """

    def __init__(self, channel: Any, job_id: str, run_dir: Path) -> None:
        super().__init__("", b"")
        self._channel, self._job_id, self._run_dir = channel, job_id, run_dir
        self._items: list[tuple] = []
        self._control: str | None = None
        self._sent: dict[str, tuple[int, int]] = {}
        self._monitor: Any = None
        self._last_reading = float("-inf")
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._pump, name="relay-hooks", daemon=True)
        self._thread.start()

    def _send(self, method: str, **kwargs: Any) -> None:
        self.push(("hook", method, kwargs))
        if method == "on_epoch_start" and kwargs["epoch"] > 1:  # and the first epoch's mosaics
            mosaics = tuple(p.name for p in sorted(self._run_dir.glob("train_batch*.jpg")))
            self.send_files(PROGRESS_FILES + mosaics)

    def push(self, item: tuple) -> None:
        """Queue one item for the studio."""
        with self._lock:
            self._items.append(item)

    def send_files(self, names: tuple[str, ...] | None = None) -> None:
        """Queue the run's files named ``names`` (all of them when None) that changed since
        they were last sent (size or mtime)."""
        files = {}
        for rel in names if names is not None else run_files(self._run_dir):
            path = self._run_dir / rel
            try:
                stat = path.stat()
                if self._sent.get(rel) != (stat.st_size, stat.st_mtime_ns):
                    files[rel] = path.read_bytes()
                    self._sent[rel] = (stat.st_size, stat.st_mtime_ns)
            except FileNotFoundError:
                continue
        if files:
            self.push(("files", files))

    def _read_control(self) -> None:
        self._stop = self._stop or self._control in (STOP, ABORT)
        self._abort = self._abort or self._control == ABORT

    def _reading(self) -> None:
        """Queue a resource reading of this node (GPU memory, RAM, CPU) every
        ``READING_EVERY_S`` seconds."""
        from ..resources.monitor import ResourceMonitor
        from ..resources.status import status_to_dict

        now = time.monotonic()
        if now - self._last_reading < READING_EVERY_S:
            return
        self._last_reading = now
        if self._monitor is None:
            self._monitor = ResourceMonitor()
        self.push(("resources", status_to_dict(self._monitor.check())))

    def _pump(self) -> None:
        import ray

        while True:
            closing = self._closing.wait(FLUSH_S)
            self._reading()
            with self._lock:
                items, self._items = self._items, []
            self._control = (ray.get(self._channel.push.remote(self._job_id, items))
                             or self._control)
            if closing:
                return

    def close(self) -> None:
        """Push what is left and stop the thread."""
        self._closing.set()
        self._thread.join()


def run_files(run_dir: Path) -> list[str]:
    """The files of a run folder that go back to the studio: weights/*.pt and every file at
    the top (results.csv, args.yaml, plots), as paths relative to ``run_dir``."""
    names = [p.name for p in sorted(run_dir.glob("*")) if p.is_file()]
    return names + [f"weights/{p.name}" for p in sorted(run_dir.glob("weights/*.pt"))]
