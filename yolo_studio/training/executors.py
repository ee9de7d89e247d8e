"""Where a job trains: a worker process of its own (``ProcessExecutor``, the default) or the
calling thread (``InProcessExecutor``, for fake backends in tests).

Both have one interface, used by ``TrainingManager``'s queue thread: ``prepare()`` while idle,
``train(config, data_yaml, run_dir, hooks, resume) -> TrainOutcome`` per job (raising
``TrainingError``), ``release(failed)`` after it, ``close()`` at shutdown.
"""

from __future__ import annotations

import os
import time
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, Callable

from ..config import TrainingConfig
from ..errors import TrainingError, ValidationError
from ..resources.memory import oom_kill_count
from .child_process import WorkerProcess, death_cause, send_quietly
from .events import ABORT, STOP, deliver, error_from_message, outcome_from_dict
from .hooks import STOP_REQUESTED, TrainHooks, TrainOutcome
from .registration import resume_weights, train_job
from .worker import DEFAULT_BACKEND

#: Seconds a cancelled job may take to end by itself before its process group is killed.
CANCEL_GRACE_S = 10.0
#: Seconds without any event from a training job before it counts as hung and is killed.
HANG_TIMEOUT_S = 30 * 60.0
#: The node name of jobs that train on the studio's own machine.
LOCAL_NODE = "this machine"
#: Environment variable that sets the hang timeout, in minutes.
HANG_TIMEOUT_ENV = "YOLO_STUDIO_HANG_TIMEOUT_MIN"


def hang_timeout_from(minutes: float | str | None = None) -> float:
    """The hang timeout in seconds: ``minutes`` when given, else ``$YOLO_STUDIO_HANG_TIMEOUT_MIN``
    (minutes), else ``HANG_TIMEOUT_S``.

    Raises:
        ValidationError: the value is not a number of minutes above 0.
    """
    value = os.environ.get(HANG_TIMEOUT_ENV) if minutes is None else minutes
    if value is None or value == "":
        return HANG_TIMEOUT_S
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if not number > 0 or number == float("inf"):
        raise ValidationError(f"The hang timeout must be a number of minutes above 0 (got "
                              f"{value!r}; set by --hang-timeout or {HANG_TIMEOUT_ENV}).")
    return number * 60.0


def cancelled_outcome(run_dir: Path, epochs_done: int) -> TrainOutcome:
    """The outcome of a run a user cancelled (``epochs_done`` epochs trained): nothing is
    kept, whatever the run's own end was."""
    return TrainOutcome(save_dir=run_dir, best_weights=None, epochs_completed=epochs_done,
                        stopped=True, stop_reason=STOP_REQUESTED)


class InProcessExecutor:
    """Trains in the calling thread with ``backend`` (the studio's process-wide state is the
    job's: meant for fake backends in tests)."""

    #: Where its jobs train (``TrainingSnapshot.node``); one job at a time.
    node = LOCAL_NODE
    concurrent = False

    def __init__(self, backend: Any) -> None:
        self.backend = backend

    def prepare(self) -> None:
        """Nothing to get ready."""

    def train(self, config: TrainingConfig, data_yaml: Path, run_dir: Path, hooks: TrainHooks,
              resume: bool) -> TrainOutcome:
        """See ``registration.train_job``."""
        return train_job(self.backend, config, data_yaml, run_dir, hooks, resume)

    def release(self, failed: bool) -> None:
        """The backend's ``release_memory(failed=...)``, when it has one."""
        release = getattr(self.backend, "release_memory", None)
        if release is not None:
            release(failed=failed)

    def close(self) -> None:
        """Nothing to stop."""


class ProcessExecutor:
    """Trains each job in a fresh worker process (``training/worker.py``), started ahead of the
    job so that it waits for no import.

    Args:
        backend: ``module:callable`` the worker trains with (default: Ultralytics).
        cancel_grace_s: Seconds a cancelled job may take to end before its process group is
            killed (``CANCEL_GRACE_S``).
        hang_timeout_s: Seconds without an event while a job trains before it is killed and
            ends in ERROR; None: ``hang_timeout_from()`` (the environment, else 30 min).
        env: Extra environment variables for the workers.
        poll_s: Seconds between checks of the stop flags, the worker's health and new
            connections (events themselves are read as they come).

    Attributes:
        jobs_waiting: Returns how many jobs wait in the queue (the manager sets it): while one
            does, the next job's worker is started while this one trains, so it starts at once.
        keep_standby: Start a worker for the next job when a job ends even if none waits
            (True: a Start then waits for no import; a Ray node sets False, so that an idle
            node holds no worker).

    Call every method from one thread (the manager's queue thread): the kernel ends a worker
    when the thread that started it ends (``worker.py``).
    """

    #: Where its jobs train (``TrainingSnapshot.node``); one job at a time.
    node = LOCAL_NODE
    concurrent = False

    def __init__(self, backend: str = DEFAULT_BACKEND, cancel_grace_s: float = CANCEL_GRACE_S,
                 hang_timeout_s: float | None = None, env: dict[str, str] | None = None,
                 poll_s: float = 0.2) -> None:
        self.backend = backend
        self.cancel_grace_s = cancel_grace_s
        self.hang_timeout_s = hang_timeout_from() if hang_timeout_s is None else hang_timeout_s
        self.env = env
        self.poll_s = poll_s
        self._standby: WorkerProcess | None = None
        self._running: WorkerProcess | None = None
        self.jobs_waiting: Callable[[], int] = lambda: 0
        self.keep_standby = True

    def prepare(self) -> None:
        """Start a worker for the next job unless one was started (a worker that died while
        waiting is replaced when the next job comes, not in a loop)."""
        if self._standby is None:
            self._standby = WorkerProcess(self.backend, self.env)

    @property
    def standby_pid(self) -> int | None:
        """The process id of the worker waiting for the next job, if any."""
        return None if self._standby is None else self._standby.pid

    @property
    def standby_ready(self) -> bool:
        """True once the standby worker has imported its backend and said ``ready`` (a job
        started now waits for no import); the message stays for the job to read."""
        standby = self._standby
        if standby is None:
            return False
        with standby.connections.mutex:  # its control connection comes first
            control = standby.connections.queue[0] if standby.connections.queue else None
        return control is not None and control.poll(0)

    @property
    def running_pid(self) -> int | None:
        """The process id of the worker training the current job, if any."""
        running = self._running
        return None if running is None else running.pid

    def train(self, config: TrainingConfig, data_yaml: Path, run_dir: Path, hooks: TrainHooks,
              resume: bool) -> TrainOutcome:
        """Train in the standby worker and start the next one afterwards.

        Raises:
            TrainingError: the backend's error; the worker died (the signal, "ran out of
                memory", its last output) or made no progress for ``hang_timeout_s``.
        """
        spec = {"config": config.to_dict(), "data_yaml": str(data_yaml), "run_dir": str(run_dir),
                "resume_from": None}
        last = resume_weights(run_dir, resume)
        if last is not None:
            spec["resume_from"] = str(last)
        if self._standby is not None and not self._standby.alive():
            self._standby.close()  # died while waiting (its own output said why)
            self._standby = None
        self.prepare()
        worker, self._standby = self._standby, None
        self._running = worker
        try:
            return _RemoteRun(self, worker, hooks, run_dir).run(spec)
        finally:
            self._running = None
            worker.close()
            if self.keep_standby or self.jobs_waiting():
                self.prepare()

    def release(self, failed: bool) -> None:
        """Nothing: the job's memory went with its process."""

    def close(self) -> None:
        """Kill the standby worker."""
        if self._standby is not None:
            self._standby.close()
            self._standby = None


class _RemoteRun:
    """One job in one worker: send it, relay its events to ``hooks``, relay stop requests to
    it, and turn its end (a reply, a death, a kill) into an outcome or an error."""

    def __init__(self, executor: ProcessExecutor, worker: WorkerProcess, hooks: TrainHooks,
                 run_dir: Path) -> None:
        self.executor, self.worker, self.hooks, self.run_dir = executor, worker, hooks, run_dir
        self.conns: list[Connection] = []
        self.reply: tuple | None = None
        self.sink_outcome: TrainOutcome | None = None
        self.epochs_done = 0
        self.stop_sent = self.abort_sent = False
        self.last_event = time.monotonic()

    def run(self, spec: dict[str, Any]) -> TrainOutcome:
        oom_before = oom_kill_count()
        abort_deadline = None
        self._spec = spec
        while self.reply is None and self.worker.alive():
            self._take_connections()
            if self.hooks.should_abort() and not self.abort_sent:
                self.abort_sent = self.stop_sent = True
                self._broadcast(ABORT)
                abort_deadline = time.monotonic() + self.executor.cancel_grace_s
            elif self.hooks.should_stop() and not self.stop_sent:
                self.stop_sent = True
                self._broadcast(STOP)
            if self.executor.standby_pid is None and self.executor.jobs_waiting():
                self.executor.prepare()  # the next job's worker imports while this one trains
            if self.conns:
                self._read(wait(self.conns, self.executor.poll_s))
            else:
                time.sleep(self.executor.poll_s)
            now = time.monotonic()
            if abort_deadline is not None and now > abort_deadline and self.reply is None:
                self.hooks.log(f"The job did not stop within {self.executor.cancel_grace_s:g} s "
                               "of the cancel; its training process was killed.")
                self.worker.kill()
            elif now - self.last_event > self.executor.hang_timeout_s:
                self.worker.kill()
                raise TrainingError(self._hang_message())
        self._take_connections()
        self._drain()
        return self._result(oom_kill_count() > oom_before)

    def _hang_message(self) -> str:
        minutes = self.executor.hang_timeout_s / 60
        return (f"Training made no progress for {minutes:g} min (no batch, epoch or log line "
                "from its process), so the studio killed it. A stuck data loader, GPU or DDP "
                "rank can cause this; retry or resume the job.")

    def _take_connections(self) -> None:
        while not self.worker.connections.empty():
            conn = self.worker.connections.get_nowait()
            self.conns.append(conn)
            if self.abort_sent or self.stop_sent:  # a DDP rank that connected late
                send_quietly(conn, ABORT if self.abort_sent else STOP)

    def _broadcast(self, message: str) -> None:
        for conn in self.conns:
            send_quietly(conn, message)

    def _read(self, ready: list) -> None:
        for conn in ready:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                self.conns.remove(conn)
                continue
            self.last_event = time.monotonic()
            self._handle(conn, message)

    def _drain(self) -> None:
        """Read what is left in every connection (events sent before the reply or the end)."""
        for conn in list(self.conns):
            while conn in self.conns and conn.poll(0):
                self._read([conn])

    def _handle(self, conn: Connection, message: tuple) -> None:
        kind = message[0]
        if kind == "ready" and self.abort_sent:  # cancelled while its worker got ready
            self.worker.kill()
        elif kind == "ready":
            send_quietly(conn, ("job", self._spec))
        elif kind == "hook" and message[1] == "on_outcome":
            self.sink_outcome = outcome_from_dict(message[2]["outcome"])
        elif kind == "hook":
            if message[1] == "on_epoch_end":
                self.epochs_done = max(self.epochs_done, int(message[2]["metrics"]["epoch"]))
            deliver(self.hooks, message[1], message[2])
        elif kind in ("outcome", "error"):
            self.reply = message

    def _result(self, ran_out_of_memory: bool) -> TrainOutcome:
        if self.abort_sent:  # cancelled: whatever the end, nothing is kept
            return cancelled_outcome(self.run_dir, self.epochs_done)
        if self.reply is None:
            self.worker.proc.wait()
            raise TrainingError(death_cause(self.worker.proc.returncode, ran_out_of_memory,
                                            self.worker.last_lines()))
        if self.reply[0] == "error":
            raise error_from_message(self.reply[1], self.reply[2])
        # DDP: the worker's own trainer saw no callback; rank 0's outcome came as an event
        return self.sink_outcome or outcome_from_dict(self.reply[1])
