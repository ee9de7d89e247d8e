"""A training worker process: ``python -m yolo_studio.training.worker --address A --backend B``.

Started by ``ProcessExecutor`` ahead of a job (never imports gradio or the app). It imports its
backend (torch and Ultralytics for the default one), says ``("ready", pid)`` on its control
connection, waits for one ``("job", spec)``, trains it with an ``EventSink`` as hooks, answers
``("outcome", ...)`` or ``("error", type, message)`` and exits. Everything process-wide that a
job sets (the CUDA memory cap, Ultralytics' settings, log handlers) dies with it.

It never outlives the studio: the kernel sends it SIGTERM when the studio's thread that started
it ends (``PR_SET_PDEATHSIG``, Linux), and a thread watching the control connection sees it
close; either way the worker kills its whole process group (its data loader workers and DDP
ranks included). The connection's secret comes in the environment (``WORKER_KEY_ENV``), never on
the command line.
"""

from __future__ import annotations

import argparse
import ctypes
import importlib
import os
import signal
import sys
import threading
import traceback
from multiprocessing.connection import Client, Connection
from pathlib import Path
from typing import Any

#: Environment variable holding the control connection's secret, hex encoded.
WORKER_KEY_ENV = "YOLO_STUDIO_WORKER_KEY"
#: The backend a worker trains with unless told otherwise: ``module:callable``.
DEFAULT_BACKEND = "yolo_studio.training.ultralytics_backend:UltralyticsBackend"
_PR_SET_PDEATHSIG = 1


def _kill_group(*_: Any) -> None:
    """End this worker and everything it started (same process group)."""
    os.killpg(os.getpgrp(), signal.SIGKILL)


def _die_with_parent(parent_pid: int) -> None:
    """SIGTERM (which kills the group) when the studio's spawning thread dies (Linux)."""
    signal.signal(signal.SIGTERM, _kill_group)
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent_pid:  # the studio died before the signal was armed
        _kill_group()


def _watch_control(conn: Connection) -> None:
    """Kill the group when the studio closes the control connection (it died or gave up)."""
    while True:
        try:
            conn.recv()  # control messages go to the sink's own connection; ignore these
        except (EOFError, OSError):
            _kill_group()


def load_backend(spec: str) -> Any:
    """Build the backend named ``module:callable`` and warm it up (``warm_up()``, if it has one:
    the default backend imports torch and Ultralytics there, so a job does not wait for them).
    """
    module_name, _, attr = spec.partition(":")
    backend = getattr(importlib.import_module(module_name), attr)()
    warm = getattr(backend, "warm_up", None)
    if warm is not None:
        warm()
    return backend


def run_job(backend: Any, spec: dict[str, Any], sink: Any) -> tuple:
    """Train one job; returns the message to send back (``outcome`` or ``error``)."""
    from ..config import TrainingConfig
    from ..errors import StudioError
    from .events import outcome_to_dict

    resume = spec.get("resume_from")
    try:
        outcome = backend.train(TrainingConfig.from_dict(spec["config"]), Path(spec["data_yaml"]),
                                Path(spec["run_dir"]), sink,
                                resume_from=Path(resume) if resume else None)
    except StudioError as err:
        return ("error", type(err).__name__, str(err))
    except BaseException as err:  # noqa: BLE001 - reported to the studio, never swallowed
        lines = traceback.format_exception(err)
        print("".join(lines), file=sys.stderr, flush=True)
        return ("error", type(err).__name__,
                f"Unexpected error in the training process: {type(err).__name__}: {err}")
    return ("outcome", outcome_to_dict(outcome))


def main(argv: list[str] | None = None) -> int:
    """Serve one job for the studio at ``--address`` (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", required=True)
    parser.add_argument("--backend", default=DEFAULT_BACKEND)
    parser.add_argument("--parent", type=int, required=True)
    args = parser.parse_args(argv)
    _die_with_parent(args.parent)
    key = bytes.fromhex(os.environ.pop(WORKER_KEY_ENV))
    control = Client(args.address, authkey=key)
    backend = load_backend(args.backend)
    from .events import EventSink

    control.send(("ready", os.getpid()))
    message = control.recv()
    if message[0] != "job":
        return 0
    threading.Thread(target=_watch_control, args=(control,), daemon=True).start()
    sink = EventSink(args.address, key)
    reply = run_job(backend, message[1], sink)
    sink.close()
    control.send(reply)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # skip the interpreter's teardown (over a second with torch loaded)


if __name__ == "__main__":
    sys.exit(main())
