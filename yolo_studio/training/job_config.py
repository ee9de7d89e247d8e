"""The configuration of a finished job, to train again with changes ("Retry with changes").

A job's configuration is its queue record's ``config`` (``TrainingConfig.to_dict()``); the Train
tab fills its form from it and ``train --from-job`` starts from it. Only a job that has ended
(completed, failed, cancelled or interrupted) is offered: a queued or training one is still the
user's current job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ..config import TrainingConfig
from ..errors import NotFoundError, ValidationError
from .snapshot import JobState

#: Job states whose configuration can be trained again with changes.
FINISHED = (JobState.COMPLETED, JobState.ERROR, JobState.CANCELLED, JobState.INTERRUPTED)


def finished_jobs(jobs: Sequence[Any]) -> list[Any]:
    """The ``JobRecord``s of ``jobs`` (queue order) that have ended, newest first."""
    return [job for job in reversed(jobs) if job.state in FINISHED]


def finished_job_config(jobs: Sequence[Any], job_id: str | None) -> TrainingConfig:
    """The configuration job ``job_id`` of ``jobs`` trained with, its model name cleared (a
    new run registers under a new one).

    Raises:
        ValidationError: no job id, the job has not ended, or its stored configuration is no
            longer valid (the message says why). NotFoundError: no such job in ``jobs``.
    """
    if not job_id:
        raise ValidationError("Choose a finished or failed job first.")
    job = next((j for j in jobs if j.job_id == job_id), None)
    if job is None:
        raise NotFoundError(f"Job {job_id} is not in the job queue (finished jobs are kept "
                            "for a while, then dropped).")
    if job.state not in FINISHED:
        raise ValidationError(f"Job {job_id} is {job.state.value}: only a completed, failed, "
                              "cancelled or interrupted job's configuration is offered.")
    try:
        return replace(TrainingConfig.from_dict(job.config), model_name=None)
    except (ValidationError, TypeError) as err:
        raise ValidationError(f"Job {job_id}'s configuration cannot be used again: {err}") \
            from err
