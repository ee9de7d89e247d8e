"""TrainingManager: the studio's orchestration of jobs, state, snapshots and the registry.

A daemon queue thread claims queued jobs in order (FIFO, persisted in
``<root>/jobs/queue.json``), trains each through its executor into ``<root>/jobs/runs/<job_id>``
and registers the finished model in this process (the steps live in
``job_exec.JobExecutionMixin``). With a local executor (a worker process per job, the default)
one job trains at a time, in the queue thread; with an executor whose ``concurrent`` is True (a
Ray cluster, ``ray_executor``) each job runs in a thread of its own, and the next job starts as
soon as the executor ``has_room`` for it. Viewers read immutable snapshots (``snapshot()``,
``wait_for_change()``; per job with ``job_id``) and never touch a training thread.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any

import filelock

from ..config import StudioSettings, TrainingConfig
from ..errors import DatasetError, StudioError, TrainingError, ValidationError
from ..persistence.dataset_store import DatasetStore
from ..persistence.model_store import ModelStore
from .devices import check_device
from .executors import InProcessExecutor, ProcessExecutor
from .alerts import ResourceAlertsMixin
from .base_models import resolve_base_model
from .job_exec import JobExecutionMixin
from .job_views import JobViewsMixin
from .progress import SnapshotBoard
from .queue import JobQueue, JobRecord
from .model_service import ModelService
from .registration import StopRequest, choose_model_name
from .runs import JobRun, RunBook
from .snapshot import JobState
from .ultralytics_args import check_config


class TrainingManager(JobViewsMixin, JobExecutionMixin, ResourceAlertsMixin):
    """Runs training jobs (one at a time, or several at once on a cluster) and keeps the model
    registry in step.

    Args:
        settings: Storage locations.
        backend: A ``TrainingBackend``; defaults to ``UltralyticsBackend()``. It checks base
            models at Start, and predicts and exports in this process.
        executor: Where jobs train (``executors``); defaults to a ``ProcessExecutor`` (a
            worker process per job) when ``backend`` is None, else to an
            ``InProcessExecutor(backend)`` (fake backends in tests). An executor whose
            ``concurrent`` is True runs several jobs at once (``has_room(job)`` says when
            the next one may start).
        datasets / models: Stores; default to ones under ``settings``.
        monitor: Optional ResourceMonitor; its constrained alerts are logged into the running
            job's log and, when the job's ``stop_on_resource_alert`` is set, stop it gracefully.
        auto_promote: Activate a new model that beats the active one's best_map50 on the same
            dataset content (attribute, changeable). ``registry``: the ModelService.
    """

    def __init__(self, settings: StudioSettings, backend: Any = None, datasets: Any = None,
                 models: Any = None, monitor: Any = None, auto_promote: bool = False,
                 executor: Any = None) -> None:
        if executor is None:
            executor = ProcessExecutor() if backend is None else InProcessExecutor(backend)
        if backend is None:
            from .ultralytics_backend import UltralyticsBackend

            backend = UltralyticsBackend()
        self.settings = settings
        self.backend = backend
        self.executor = executor
        if hasattr(executor, "jobs_waiting"):
            executor.jobs_waiting = self._jobs_waiting
        self.datasets = datasets if datasets is not None else DatasetStore(settings.datasets_dir)
        self.models = models if models is not None else ModelStore(settings.models_dir)
        self.monitor = monitor
        self.auto_promote = auto_promote
        self.registry = ModelService(self.models, self.datasets, backend)
        self.queue = JobQueue(settings.jobs_dir / "queue.json")
        self._board = SnapshotBoard()
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self._worker_lock = filelock.FileLock(settings.jobs_dir / "worker.lock", thread_local=False)
        self._runs = RunBook(self._board)
        self._alerting = False
        self._alert_job: str | None = None  # the job whose log has the current alert
        for warning in self.queue.warnings:
            self._board.append_log(warning)
        if monitor is not None:
            monitor.add_callback(self._on_resource_status)

    def start(self) -> None:
        """Start the worker thread (idempotent); jobs left TRAINING by a dead process become
        INTERRUPTED.

        Raises:
            TrainingError: another process already runs jobs from the same storage root.
        """
        if self._thread is not None and self._thread.is_alive():
            return
        try:
            self._worker_lock.acquire(timeout=0)
        except filelock.Timeout as err:
            raise TrainingError(
                f"Another YOLO Studio process is already running jobs from {self.settings.root}; "
                "stop it or use a different --root.") from err
        for job in self.queue.recover():
            self._board.append_log(f"Job {job.job_id} ({job.model_name}) was interrupted by a "
                                   "restart; retry or resume it from the queue.")
        self._closing.clear()
        self._thread = threading.Thread(target=self._worker, name="yolo-studio-trainer",
                                        daemon=True)
        self._thread.start()
        self._publish_queue()

    def close(self, timeout_s: float = 30.0) -> None:
        """Stop the worker: a running job is cancelled; waits up to ``timeout_s`` seconds."""
        self._closing.set()
        deadline = time.monotonic() + timeout_s
        with self._lock:
            runs = list(self._runs.runs.values())
            for run in runs:
                run.stop = StopRequest("cancel", "cancelled: the studio is shutting down")
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
        for run in runs:
            if run.thread is not None:
                run.thread.join(max(0.0, deadline - time.monotonic()))
        self.executor.close()
        if self._worker_lock.is_locked:
            self._worker_lock.release(force=True)

    def _worker(self) -> None:
        concurrent = bool(getattr(self.executor, "concurrent", False))
        while not self._closing.is_set():
            with self._lock:
                job = self._claim(concurrent)
                run = self._runs.begin(job) if job is not None else None
                idle = not self._runs.runs
            if run is None:
                if idle:
                    self._prepare_executor()
                self._wake.wait(0.5)
                self._wake.clear()
            elif concurrent:
                run.thread = threading.Thread(target=self._run_to_end, args=(run,),
                                              name=f"yolo-studio-job-{job.job_id}", daemon=True)
                run.thread.start()
            else:
                self._run_to_end(run)

    def _claim(self, concurrent: bool) -> JobRecord | None:
        """The next job to start now, claimed (TRAINING), or None: nothing is queued, or (one
        job at a time) one runs, or (at once) the executor has no room for the next job."""
        if not concurrent:
            return None if self._runs.runs else self.queue.claim_next()
        return self.queue.claim_next(lambda job: self.executor.has_room(job))

    def _run_to_end(self, run: JobRun) -> None:
        try:
            self._run(run)
        finally:
            with self._lock:
                self._runs.end(run.job.job_id)
            self._publish_queue()
            self._wake.set()

    def _prepare_executor(self) -> None:
        try:
            self.executor.prepare()  # a worker process for the next job, while idle
        except Exception as err:  # noqa: BLE001 - the job will say it again when it runs
            self._board.append_log(f"Could not start a training process: {err}")

    def start_training(self, config: TrainingConfig) -> str:
        """Validate ``config`` and queue a job; returns its job id.

        The model name defaults to ``<base model stem>-<UTC timestamp>``.

        Raises:
            ValidationError: config is not a TrainingConfig, the model name is taken, or
                Ultralytics refuses an extra train argument (``ultralytics_args.check_config``).
            NotFoundError: the dataset does not exist.
            DatasetError: the dataset's health check has a blocking issue.
            TrainingError: the base model weights are not available (offline; a bare ``.pt``
                name in ``<root>/weights`` is queued as that file's path), or the device
                is a GPU this machine does not have (``devices.check_device``; on a cluster,
                no node has the GPUs it asks for).
        """
        if not isinstance(config, TrainingConfig):
            raise ValidationError("start_training needs a TrainingConfig.")
        report = self.datasets.check_health(config.dataset)  # NotFoundError when missing
        if report.blocking:
            raise DatasetError(f"Dataset {config.dataset!r} cannot be trained on: "
                               f"{report.summary()}")
        config = replace(config, base_model=resolve_base_model(config.base_model,
                                                               self.settings.root))
        self.backend.check_base_model(config.base_model)
        getattr(self.executor, "check_device", check_device)(config.device)
        config = check_config(config)  # Ultralytics' own checks of the extra train arguments
        with self._lock:
            name = self._choose_name(config)
            job = self.queue.add(replace(config, model_name=name).to_dict(), name)
        self._publish_queued()
        return job.job_id

    def _choose_name(self, config: TrainingConfig) -> str:
        taken = {r.name for r in self.models.list(config.dataset)}
        taken |= {j.model_name for j in self.queue.list() if j.dataset == config.dataset
                  and j.state in (JobState.QUEUED, JobState.TRAINING)}
        return choose_model_name(config, taken)

    def cancel(self, job_id: str | None = None) -> JobState:
        """Cancel the running job (it ends after the current batch, skipping Ultralytics'
        validation of that epoch and of best.pt, and registers nothing) or remove a queued one.
        ``job_id=None`` means the running job.

        With several jobs running, ``None`` means the newest.

        Returns:
            CANCELLED for a running job (it ends shortly), or the removed job's former state.

        Raises:
            ValidationError: nothing is training (job_id None) or the job already finished.
            NotFoundError: no such job.
        """
        with self._lock:
            run = self._runs.newest() if job_id is None else self._runs.runs.get(job_id)
            if run is not None:
                run.stop = StopRequest("cancel", "cancelled by the user")
                run.board.append_log("Cancel requested; stopping after the current batch.")
                return JobState.CANCELLED
        if job_id is None:
            raise ValidationError("No job is training; nothing to cancel.")
        job = self.queue.get(job_id)
        if job.state != JobState.QUEUED:
            raise ValidationError(f"Job {job_id} is {job.state.value}; it cannot be cancelled.")
        self.queue.remove(job_id)
        self._publish_queue()
        return job.state

    def _queued_ids(self) -> tuple[str, ...]:
        try:
            return tuple(j.job_id for j in self.queue.queued())
        except StudioError:
            return ()

    def _jobs_waiting(self) -> int:
        """How many jobs are queued and not yet claimed: the published queue still lists a
        job the trainer has just claimed until that job's start publishes it again."""
        with self._lock:
            claimed = set(self._runs.runs)
        return sum(1 for job_id in self._board.current.queue if job_id not in claimed)

    def _publish_queue(self) -> None:
        self._board.publish_queue(self._queued_ids())

    def _publish_queued(self) -> None:
        """Wake the trainer for a job just queued, and publish the queue unless the trainer
        is idle: it claims the job at once and its start publishes the queue then. A QUEUED
        moment published first would have every open page redraw its job table and refill
        its job selector twice per job (one Gradio event per page)."""
        with self._lock:
            idle = (not self._runs.runs and self._thread is not None
                    and self._thread.is_alive() and not self._closing.is_set())
        self._wake.set()
        if not idle:
            self._publish_queue()
