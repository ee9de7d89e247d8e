"""The backend bench/monitoring.py's training worker processes train with: the real Ultralytics
backend, which also notes when each epoch's metrics leave Ultralytics (``on_fit_epoch_end``).

A worker imports it as ``monitoring_timed:TimedBackend`` (``ProcessExecutor(backend=...)``,
with this folder on its ``PYTHONPATH``); it appends one ``time.perf_counter()`` line per epoch
end (``CLOCK_MONOTONIC``, comparable with the studio's and the pages' processes) to the file
that the environment variable ``STAMPS_ENV`` names.
"""

from __future__ import annotations

import os
import time

from yolo_studio.training.ultralytics_backend import UltralyticsBackend

#: Environment variable naming the file the epoch-end times are appended to.
STAMPS_ENV = "YOLO_STUDIO_BENCH_EPOCH_STAMPS"


class _TimedHooks:
    """Forwards every hook call; appends the time each epoch's metrics are handed over."""

    def __init__(self, hooks, path: str) -> None:
        self._hooks, self._path = hooks, path

    def on_epoch_end(self, metrics) -> None:
        stamp = time.perf_counter()
        with open(self._path, "a", encoding="utf-8") as out:
            out.write(f"{stamp}\n")
        self._hooks.on_epoch_end(metrics)

    def __getattr__(self, name):
        return getattr(self._hooks, name)


class TimedBackend(UltralyticsBackend):
    """The real backend; epoch-end times go to the file named by ``STAMPS_ENV``."""

    def train(self, config, data_yaml, run_dir, hooks, resume_from=None):
        return super().train(config, data_yaml, run_dir,
                             _TimedHooks(hooks, os.environ[STAMPS_ENV]), resume_from)
