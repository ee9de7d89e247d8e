"""JobQueue: persisted FIFO, move/remove, recovery after a restart, retry."""

from __future__ import annotations

import json

import pytest

from yolo_studio.errors import NotFoundError, ValidationError
from yolo_studio.training.queue import JobQueue
from yolo_studio.training.snapshot import JobState


def _add(queue: JobQueue, name: str):
    return queue.add({"dataset": "d", "model_name": name}, name)


def test_fifo_and_persistence(tmp_path):
    path = tmp_path / "jobs" / "queue.json"
    queue = JobQueue(path)
    a, b, c = (_add(queue, n) for n in "abc")
    again = JobQueue(path)  # a new process reading the file
    assert [j.job_id for j in again.queued()] == [a.job_id, b.job_id, c.job_id]
    assert json.loads(path.read_text())["schema_version"] == 1
    claimed = again.claim_next()
    assert claimed.job_id == a.job_id and claimed.state == JobState.TRAINING
    assert claimed.started
    assert [j.model_name for j in JobQueue(path).queued()] == ["b", "c"]


def test_move_and_remove(tmp_path):
    queue = JobQueue(tmp_path / "q.json")
    a, b, c = (_add(queue, n) for n in "abc")
    queue.move(c.job_id, -1)
    assert [j.model_name for j in queue.queued()] == ["a", "c", "b"]
    queue.move(a.job_id, +5)  # clamped to the end
    assert [j.model_name for j in queue.queued()] == ["c", "b", "a"]
    queue.remove(b.job_id)
    assert [j.model_name for j in queue.queued()] == ["c", "a"]
    with pytest.raises(NotFoundError):
        queue.remove("nope")
    running = queue.claim_next()
    with pytest.raises(ValidationError, match="cancel"):
        queue.remove(running.job_id)
    with pytest.raises(ValidationError, match="not queued"):
        queue.move(running.job_id, 1)


def test_training_job_becomes_interrupted_and_can_be_retried(tmp_path):
    path = tmp_path / "q.json"
    queue = JobQueue(path)
    a, b = _add(queue, "a"), _add(queue, "b")
    queue.claim_next()  # the process then dies while training a
    after = JobQueue(path)
    hit = after.recover()
    assert [j.job_id for j in hit] == [a.job_id]
    assert after.get(a.job_id).state == JobState.INTERRUPTED
    assert "retry" in after.get(a.job_id).error
    assert [j.job_id for j in after.queued()] == [b.job_id]  # still queued
    retried = after.retry(a.job_id, resume=True)
    assert retried.state == JobState.QUEUED and retried.resume and retried.error is None
    assert [j.job_id for j in after.queued()] == [b.job_id, a.job_id]
    with pytest.raises(ValidationError):
        after.retry(b.job_id)


def test_corrupt_queue_is_set_aside_and_reported(tmp_path):
    path = tmp_path / "q.json"
    path.write_text("{not json")
    queue = JobQueue(path)
    assert queue.warnings and "corrupt" in queue.warnings[0]
    assert queue.list() == []
    assert list(tmp_path.glob("q.json.corrupt-*"))
