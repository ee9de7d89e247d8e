"""job_config: a finished job's configuration, to train again with changes."""

from __future__ import annotations

import pytest

from yolo_studio.config import TrainingConfig
from yolo_studio.errors import NotFoundError, ValidationError
from yolo_studio.training.job_config import finished_job_config, finished_jobs
from yolo_studio.training.queue import JobQueue
from yolo_studio.training.snapshot import JobState


def test_finished_jobs_newest_first_and_their_configuration(tmp_path) -> None:
    queue = JobQueue(tmp_path / "queue.json")
    config = TrainingConfig(dataset="tiny", epochs=3, extra_args={"mosaic": 0.0})
    ids = [queue.add(config.to_dict() | {"model_name": f"m{i}"}, f"m{i}").job_id
           for i in range(4)]
    for job_id, state in zip(ids, (JobState.COMPLETED, JobState.QUEUED, JobState.ERROR,
                                   JobState.CANCELLED)):
        queue.update(job_id, state=state)
    jobs = queue.list()
    assert [j.job_id for j in finished_jobs(jobs)] == [ids[3], ids[2], ids[0]]
    again = finished_job_config(jobs, ids[2])
    assert again.extra_args == {"mosaic": 0.0} and again.model_name is None
    with pytest.raises(ValidationError, match="is QUEUED"):
        finished_job_config(jobs, ids[1])
    with pytest.raises(NotFoundError, match="not in the job queue"):
        finished_job_config(jobs, "job-x")
    queue.update(ids[0], config={"dataset": "tiny", "epochs": 0})
    with pytest.raises(ValidationError, match="cannot be used again: epochs must be"):
        finished_job_config(queue.list(), ids[0])
