"""Backends that misbehave, for the worker process's fault tests (loaded in the worker with
``ProcessExecutor(backend="worker_doubles:<Name>")``; no torch, no Ultralytics).

Each reports ``on_start`` and one log line first, so the studio sees the job training, then:
``StuckBackend`` loops forever and never looks at ``should_stop``/``should_abort`` (a data
loader or CUDA call that hangs); ``ExitBackend`` prints a line and exits with status 3;
``SegfaultBackend`` reads address 0 (SIGSEGV in native code); ``HogBackend`` allocates memory
until the kernel's OOM killer ends it. ``FakeUltralyticsBackend``
trains over the fake Ultralytics.
"""

from __future__ import annotations

import ctypes
import os
import sys
import time
from pathlib import Path
from typing import Any


class _Starts:
    def train(self, config: Any, data_yaml: Path, run_dir: Path, hooks: Any,
              resume_from: Path | None = None) -> Any:
        hooks.on_start(epochs=config.epochs, batches=4, batch_size=config.batch, images=28,
                       save_dir=run_dir)
        hooks.log(f"{type(self).__name__} started in process {os.getpid()}")
        return self.misbehave()


class StuckBackend(_Starts):
    def misbehave(self) -> Any:
        while True:
            time.sleep(0.05)


class ExitBackend(_Starts):
    def misbehave(self) -> Any:
        print("fatal: the double gives up", file=sys.stderr, flush=True)
        os._exit(3)


class SegfaultBackend(_Starts):
    def misbehave(self) -> Any:
        sys.stdout.flush()
        ctypes.string_at(0)


def FakeUltralyticsBackend() -> Any:
    """The real ``UltralyticsBackend`` over the fake Ultralytics (``fake_ultralytics``), which
    fires Ultralytics' callbacks in their real order: the whole worker path without torch."""
    from fake_ultralytics import factory

    from yolo_studio.training.ultralytics_backend import UltralyticsBackend

    class Backend(UltralyticsBackend):
        @staticmethod
        def warm_up() -> None:  # nothing to import
            return None

    return Backend(model_factory=factory())


def SlowFakeUltralyticsBackend() -> Any:
    """``FakeUltralyticsBackend`` whose batches take 50 ms each (time to cancel or stop)."""
    from fake_ultralytics import factory

    backend = FakeUltralyticsBackend()
    backend._factory = factory(gate=lambda epoch, batch: time.sleep(0.05))
    return backend


class HogBackend(_Starts):
    """Allocates 20 MB every 20 ms until the kernel stops it (the OOM killer)."""

    def misbehave(self) -> Any:
        hoard = []
        while True:
            hoard.append(bytearray(os.urandom(1024)) * (20 * 1024))
            time.sleep(0.02)
