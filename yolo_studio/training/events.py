"""The plain-data wire between a training worker process and the studio.

A worker process (``training/worker.py``) trains with an ``EventSink`` as its ``TrainHooks``: each
hook call goes to the studio as a message ``("hook", method, kwargs)`` of plain values (str,
int, float, None, lists and dicts), and the studio answers ``"stop"`` (stop gracefully, keep the
run) or ``"abort"`` (the run is discarded) on the same connection. The sink is picklable and
connects lazily, so the copies Ultralytics cloudpickles into its DDP worker processes connect on
their own; only rank 0 (or a process outside DDP, ``RANK`` unset or -1) sends.

The worker's first message on its control connection is ``("ready", pid)``; the studio then sends
``("job", spec)``, and the worker ends with ``("outcome", outcome_to_dict(...))`` or
``("error", error_type, message)``.
"""

from __future__ import annotations

import os
import threading
from dataclasses import asdict
from multiprocessing.connection import Client, Connection
from pathlib import Path
from typing import Any

from .. import errors
from .hooks import TrainOutcome
from .snapshot import EpochMetrics

#: Control messages the studio sends to a running worker.
STOP, ABORT = "stop", "abort"

#: The ``TrainHooks`` methods an ``EventSink`` forwards, with the keyword arguments each takes.
HOOK_METHODS = ("on_start", "on_epoch_start", "on_batch_end", "on_epoch_end", "on_final",
                "log")


def metrics_from_dict(data: dict | None) -> EpochMetrics | None:
    """The EpochMetrics that ``EpochMetrics.to_dict`` gave (None stays None)."""
    return None if data is None else EpochMetrics(**data)


def outcome_to_dict(outcome: TrainOutcome) -> dict[str, Any]:
    """``TrainOutcome`` as plain data (paths as str, metrics as dicts)."""
    data = asdict(outcome)
    data["save_dir"] = str(outcome.save_dir)
    data["best_weights"] = None if outcome.best_weights is None else str(outcome.best_weights)
    data["per_class"] = [dict(row) for row in outcome.per_class]
    return data


def outcome_from_dict(data: dict[str, Any]) -> TrainOutcome:
    """The ``TrainOutcome`` that ``outcome_to_dict`` gave."""
    best = data.get("best_weights")
    return TrainOutcome(
        save_dir=Path(data["save_dir"]), best_weights=Path(best) if best else None,
        epochs_completed=int(data["epochs_completed"]),
        history=tuple(EpochMetrics(**m) for m in data.get("history") or ()),
        final=metrics_from_dict(data.get("final")), stopped=bool(data.get("stopped")),
        stop_reason=data.get("stop_reason"), batch_used=data.get("batch_used"),
        per_class=tuple(dict(row) for row in data.get("per_class") or ()),
        parameters=data.get("parameters"), inference_ms=data.get("inference_ms"))


def error_from_message(kind: str, message: str) -> errors.StudioError:
    """The studio error a worker's ``("error", kind, message)`` stands for: ``kind`` names a
    ``StudioError`` subclass when training raised one, else the error becomes a
    ``TrainingError`` carrying ``message`` as it is."""
    cls = getattr(errors, kind, None)
    if isinstance(cls, type) and issubclass(cls, errors.StudioError):
        return cls(message)
    return errors.TrainingError(message)


def sending_rank() -> bool:
    """True in the process whose events the studio wants: outside DDP (``RANK`` unset or -1)
    or DDP rank 0. Other ranks' validation metrics are None and their events duplicates."""
    try:
        return int(os.environ.get("RANK", "-1")) <= 0
    except ValueError:
        return True


class EventSink:
    """``TrainHooks`` that send every call to the studio and read its stop requests.

    Picklable (the connection and lock are left out and made again after unpickling), so
    Ultralytics can carry it to DDP workers inside the trainer's callbacks. In a process that is
    not the sending rank (``sending_rank``) every method does nothing and ``should_stop`` is
    False: the studio stops DDP through rank 0.

    Args:
        address: The studio's ``multiprocessing.connection.Listener`` address (an AF_UNIX
            socket path).
        authkey: The listener's secret (bytes).

    Raises:
        OSError: from a hook call when the studio cannot be reached (it died): the callback
            error then ends the training.
    """

    def __init__(self, address: str, authkey: bytes) -> None:
        self.address = address
        self.authkey = authkey
        self._conn: Connection | None = None
        self._pid = 0
        self._lock = threading.Lock()
        self._stop = False
        self._abort = False

    def __getstate__(self) -> dict[str, Any]:
        return {"address": self.address, "authkey": self.authkey}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["address"], state["authkey"])

    def _connection(self) -> Connection:
        if self._conn is None or self._pid != os.getpid():  # a new process connects anew
            self._conn = Client(self.address, authkey=self.authkey)
            self._pid = os.getpid()
        return self._conn

    def _send(self, method: str, **kwargs: Any) -> None:
        if sending_rank():
            with self._lock:
                self._connection().send(("hook", method, kwargs))

    def _read_control(self) -> None:
        if not sending_rank():
            return
        with self._lock:
            conn = self._connection()
            while conn.poll():
                message = conn.recv()
                self._stop = self._stop or message in (STOP, ABORT)
                self._abort = self._abort or message == ABORT

    def close(self) -> None:
        """Close this process's connection (the next call connects again)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def on_start(self, *, epochs: int, batches: int, batch_size: int, images: int,
                 save_dir: Path) -> None:
        self._send("on_start", epochs=epochs, batches=batches, batch_size=batch_size,
                   images=images, save_dir=str(save_dir))

    def on_epoch_start(self, epoch: int) -> None:
        self._send("on_epoch_start", epoch=epoch)

    def on_batch_end(self, epoch: int, batch_i: int, batches: int, batch_size: int) -> None:
        self._send("on_batch_end", epoch=epoch, batch_i=batch_i, batches=batches,
                   batch_size=batch_size)

    def on_epoch_end(self, metrics: EpochMetrics) -> None:
        self._send("on_epoch_end", metrics=metrics.to_dict())

    def on_final(self, metrics: EpochMetrics) -> None:
        self._send("on_final", metrics=metrics.to_dict())

    def log(self, line: str) -> None:
        self._send("log", line=str(line))

    def on_outcome(self, outcome: TrainOutcome) -> None:
        """The run's outcome, from the process that saw its callbacks (DDP rank 0 included)."""
        self._send("on_outcome", outcome=outcome_to_dict(outcome))

    def should_stop(self) -> bool:
        self._read_control()
        return self._stop

    def should_abort(self) -> bool:
        self._read_control()
        return self._abort


def deliver(hooks: Any, method: str, kwargs: dict[str, Any]) -> None:
    """Call ``hooks.<method>(**kwargs)`` for a received ``("hook", method, kwargs)``, turning
    plain data back into ``Path`` and ``EpochMetrics``; an unknown method is ignored."""
    if method not in HOOK_METHODS:
        return
    if method == "on_start":
        kwargs = dict(kwargs, save_dir=Path(kwargs["save_dir"]))
    elif method in ("on_epoch_end", "on_final"):
        kwargs = {"metrics": metrics_from_dict(kwargs["metrics"])}
    getattr(hooks, method)(**kwargs)
