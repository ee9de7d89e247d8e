"""The persisted job queue: a FIFO of ``JobRecord``s in ``<root>/jobs/queue.json``.

Every change is a locked, atomic rewrite of the file (``persistence.json_store.JsonFile``), so
a restart loses no queued job. After a restart a job that was TRAINING is INTERRUPTED (see
``recover()``); it can be queued again with ``retry()``.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..errors import NotFoundError, RegistryError, ValidationError
from ..persistence.json_store import JsonFile
from .snapshot import JobState

SCHEMA_VERSION = 1
#: Finished jobs kept in the file (oldest dropped first); queued/running ones are never dropped.
MAX_FINISHED = 200
FINISHED = (JobState.COMPLETED, JobState.CANCELLED, JobState.ERROR, JobState.INTERRUPTED)


def utc_now() -> str:
    """Current UTC time, ISO-8601 with seconds."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class JobRecord:
    """One job as stored in queue.json.

    Attributes:
        job_id: Unique id (also the run folder name under ``jobs/runs``).
        config: ``TrainingConfig.to_dict()`` with ``model_name`` filled in.
        state: QUEUED, TRAINING or a finished state.
        created / started / finished: ISO-8601 UTC timestamps (None until it happens).
        error: User-facing cause when state is ERROR (or why it was INTERRUPTED).
        model_name: Name the model registers under.
        stop_reason: Why training ended early, if it did.
        resume: True when the job resumes its run's last.pt instead of starting fresh.
        batch_used: Batch size the run really used (after AutoBatch or Ultralytics' halving
            on out-of-memory in the first epoch); None until a run reported it.
        node: Where the job runs or ran: "this machine", or a Ray node's address (with
            ``--ray``); None until it starts.
    """

    job_id: str
    config: dict[str, Any]
    state: JobState = JobState.QUEUED
    created: str = ""
    started: str | None = None
    finished: str | None = None
    error: str | None = None
    model_name: str = ""
    stop_reason: str | None = None
    resume: bool = False
    batch_used: int | None = None
    node: str | None = None

    @property
    def dataset(self) -> str:
        return str(self.config.get("dataset", ""))

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["state"] = self.state.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "JobRecord":
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["state"] = JobState(values.get("state", JobState.QUEUED.value))
        return cls(**values)


def _validate(data: Any) -> str | None:
    if not isinstance(data, dict) or not isinstance(data.get("jobs"), list):
        return "it has no 'jobs' list"
    return None


class JobQueue:
    """FIFO of jobs persisted in ``path``; safe across threads and processes.

    Args:
        path: The queue file (``<root>/jobs/queue.json``).

    Attributes:
        warnings: Messages about problems met on load (a corrupt file that was set aside).
    """

    def __init__(self, path: str | Path) -> None:
        self._file = JsonFile(Path(path), lambda: {"schema_version": SCHEMA_VERSION, "jobs": []},
                              _validate, what="job queue")
        self._lock = threading.RLock()
        self.warnings: list[str] = []
        try:
            self._file.read()
        except RegistryError as err:  # set aside by JsonFile; start from an empty queue
            self.warnings.append(str(err))

    @property
    def path(self) -> Path:
        return self._file.path

    def _load(self) -> list[JobRecord]:
        return [JobRecord.from_dict(j) for j in self._file.read()["jobs"]]

    def _save(self, jobs: list[JobRecord]) -> None:
        finished = [j for j in jobs if j.state in FINISHED]
        drop = {j.job_id for j in finished[:max(len(finished) - MAX_FINISHED, 0)]}
        self._file.write({"schema_version": SCHEMA_VERSION,
                          "jobs": [j.to_dict() for j in jobs if j.job_id not in drop]})

    def list(self) -> list[JobRecord]:
        """All jobs in queue order (finished ones stay where they were)."""
        with self._lock:
            return self._load()

    def get(self, job_id: str) -> JobRecord:
        """The job ``job_id``.

        Raises:
            NotFoundError: no such job.
        """
        for job in self.list():
            if job.job_id == job_id:
                return job
        raise NotFoundError(f"No job {job_id!r} in the queue.")

    def queued(self) -> list[JobRecord]:
        """Jobs waiting to run, in the order they will run."""
        return [j for j in self.list() if j.state == JobState.QUEUED]

    def add(self, config: dict[str, Any], model_name: str) -> JobRecord:
        """Append a QUEUED job and return it."""
        job = JobRecord(job_id=f"job-{_dt.datetime.now(_dt.timezone.utc):%Y%m%d-%H%M%S}-"
                        f"{uuid.uuid4().hex[:6]}", config=dict(config), created=utc_now(),
                        model_name=model_name)
        with self._lock, self._file.locked():
            self._save(self._load() + [job])
        return job

    def update(self, job_id: str, **changes: Any) -> JobRecord:
        """Apply ``changes`` to job ``job_id`` and return the new record.

        Raises:
            NotFoundError: no such job.
        """
        with self._lock, self._file.locked():
            jobs = self._load()
            for i, job in enumerate(jobs):
                if job.job_id == job_id:
                    jobs[i] = dataclasses.replace(job, **changes)
                    self._save(jobs)
                    return jobs[i]
        raise NotFoundError(f"No job {job_id!r} in the queue.")

    def claim_next(self, fits: Callable[[JobRecord], bool] | None = None) -> JobRecord | None:
        """Mark the first QUEUED job TRAINING (with ``started``) and return it; None if none.

        Args:
            fits: When given, the first QUEUED job is claimed only if ``fits(job)``; else
                nothing is (jobs start in queue order: a later job never overtakes it).
        """
        with self._lock, self._file.locked():
            jobs = self._load()
            for i, job in enumerate(jobs):
                if job.state == JobState.QUEUED:
                    if fits is not None and not fits(job):
                        return None
                    jobs[i] = dataclasses.replace(job, state=JobState.TRAINING,
                                                  started=utc_now(), error=None)
                    self._save(jobs)
                    return jobs[i]
        return None

    def remove(self, job_id: str) -> JobRecord:
        """Remove a job that is not running.

        Raises:
            NotFoundError: no such job. ValidationError: the job is running (cancel it).
        """
        with self._lock, self._file.locked():
            jobs = self._load()
            job = next((j for j in jobs if j.job_id == job_id), None)
            if job is None:
                raise NotFoundError(f"No job {job_id!r} in the queue.")
            if job.state == JobState.TRAINING:
                raise ValidationError(f"Job {job_id} is training; cancel it instead of removing.")
            self._save([j for j in jobs if j.job_id != job_id])
            return job

    def move(self, job_id: str, delta: int) -> list[JobRecord]:
        """Move a QUEUED job ``delta`` places among the queued jobs (-1 = earlier, +1 = later).

        Returns the queued jobs in their new order.

        Raises:
            NotFoundError: no such job. ValidationError: the job is not queued.
        """
        with self._lock, self._file.locked():
            jobs = self._load()
            queued = [j for j in jobs if j.state == JobState.QUEUED]
            index = next((i for i, j in enumerate(queued) if j.job_id == job_id), None)
            if index is None:
                self.get(job_id)
                raise ValidationError(f"Job {job_id} is not queued; only queued jobs can move.")
            new = min(max(index + int(delta), 0), len(queued) - 1)
            queued.insert(new, queued.pop(index))
            slots = iter(queued)
            self._save([next(slots) if j.state == JobState.QUEUED else j for j in jobs])
            return queued

    def recover(self) -> list[JobRecord]:
        """Mark jobs left TRAINING by a dead process INTERRUPTED; return them.

        Call only from the process that owns the worker (nothing else can be training).
        """
        with self._lock, self._file.locked():
            jobs = self._load()
            hit = [j for j in jobs if j.state == JobState.TRAINING]
            if hit:
                note = "The studio stopped while this job was training; retry or resume it."
                jobs = [dataclasses.replace(j, state=JobState.INTERRUPTED, finished=utc_now(),
                                            error=note) if j.state == JobState.TRAINING else j
                        for j in jobs]
                self._save(jobs)
        return [j for j in jobs if j.job_id in {h.job_id for h in hit}]

    def retry(self, job_id: str, resume: bool = False) -> JobRecord:
        """Queue a finished (INTERRUPTED / ERROR / CANCELLED) job again, at the end of the queue.

        Raises:
            NotFoundError: no such job. ValidationError: the job is queued, running or completed.
        """
        with self._lock, self._file.locked():
            jobs = self._load()
            job = next((j for j in jobs if j.job_id == job_id), None)
            if job is None:
                raise NotFoundError(f"No job {job_id!r} in the queue.")
            if job.state not in (JobState.INTERRUPTED, JobState.ERROR, JobState.CANCELLED):
                raise ValidationError(f"Job {job_id} is {job.state.value}; only interrupted, "
                                      "failed or cancelled jobs can be retried.")
            again = dataclasses.replace(job, state=JobState.QUEUED, error=None, started=None,
                                        finished=None, stop_reason=None, resume=resume,
                                        node=None)
            self._save([j for j in jobs if j.job_id != job_id] + [again])
            return again
