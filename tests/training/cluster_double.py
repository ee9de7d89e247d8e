"""A cluster for tests: an executor that runs several jobs at once (``concurrent``), as the
Ray executor does, each trained in the job's own thread with a fake backend.

``ClusterExecutor`` follows ``executors.InProcessExecutor`` (the same ``train_job`` call) and
places each job on a free node of its own, telling the studio where through
``hooks.on_node(address)`` as a remote executor does once a job is placed (it has no ``node``
attribute: where a job trains is not known before it starts). ``cluster_manager`` wires one
to a ``TrainingManager``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from yolo_studio.config import StudioSettings, TrainingConfig
from yolo_studio.training.manager import TrainingManager
from yolo_studio.training.registration import train_job
from yolo_studio.training.ultralytics_backend import UltralyticsBackend

#: Node addresses of the fake cluster, one per slot.
NODES = ("10.0.0.11", "10.0.0.12", "10.0.0.13")


class ClusterExecutor:
    """Runs up to ``slots`` jobs at once, each on a node of ``NODES`` no other job holds.

    Args:
        backend_for: The backend that trains a job, from its config (e.g. a fake whose
            batches wait on a gate of that job).
        slots: Jobs at once (``has_room`` is True while fewer run).

    Attributes:
        running_jobs: Returns the ids of the jobs running now (``cluster_manager`` sets it to
            the manager's): a job the manager claimed counts before its thread calls ``train``.
    """

    concurrent = True

    def __init__(self, backend_for: Callable[[TrainingConfig], Any], slots: int = 2) -> None:
        self.backend_for, self.slots = backend_for, slots
        self.running_jobs: Callable[[], list[str]] = lambda: []
        self._lock = threading.Lock()
        self._held: dict[str, str] = {}  # run folder name (the job id) -> node

    def has_room(self, job: Any) -> bool:
        """True while fewer than ``slots`` jobs run."""
        return len(self.running_jobs()) < self.slots

    def prepare(self) -> None:
        """Nothing to get ready."""

    def train(self, config: TrainingConfig, data_yaml: Path, run_dir: Path, hooks: Any,
              resume: bool) -> Any:
        """Place the job on a free node (``hooks.on_node``) and train it in this thread."""
        with self._lock:
            node = next(n for n in NODES if n not in self._held.values())
            self._held[run_dir.name] = node
        try:
            hooks.on_node(node)
            return train_job(self.backend_for(config), config, data_yaml, run_dir, hooks,
                             resume)
        finally:
            with self._lock:
                del self._held[run_dir.name]

    def release(self, failed: bool) -> None:
        """Nothing: a node's memory is the node's."""

    def close(self) -> None:
        """Nothing to stop."""


def fake_backend(**behaviour: Any) -> UltralyticsBackend:
    """The real ``UltralyticsBackend`` over the fake Ultralytics (``fake_ultralytics``)."""
    from fake_ultralytics import factory

    return UltralyticsBackend(model_factory=factory(**behaviour))


def cluster_manager(settings: StudioSettings, backend_for: Callable[[TrainingConfig], Any],
                    slots: int = 2, **options: Any) -> TrainingManager:
    """A (not started) ``TrainingManager`` over a ``ClusterExecutor``; ``options`` go to the
    manager (e.g. ``monitor``)."""
    executor = ClusterExecutor(backend_for, slots)
    manager = TrainingManager(settings, backend=fake_backend(), executor=executor, **options)
    executor.running_jobs = manager.running_jobs
    return manager
