"""TrainingManager with the real stores and UltralyticsBackend over the fake Ultralytics."""

from __future__ import annotations

import shutil
import threading
from types import SimpleNamespace

import pytest
import torch
from training_helpers import WAIT_S, Factory, fake_config
from fake_ultralytics import Gate

from yolo_studio.errors import DatasetError, NotFoundError, TrainingError, ValidationError
from yolo_studio.training.manager import TrainingManager
from yolo_studio.training.queue import JobQueue
from yolo_studio.training.snapshot import JobState
from yolo_studio.training.ultralytics_backend import UltralyticsBackend

DONE = (JobState.COMPLETED, JobState.CANCELLED, JobState.ERROR)


def test_completed_job_registers_one_active_model(settings, make_manager):
    manager = make_manager()
    assert manager.snapshot().state == JobState.IDLE
    job_id = manager.start_training(fake_config(model_name="m1"))
    snap = manager.wait_for_job(job_id, WAIT_S)
    assert snap.state == JobState.COMPLETED and snap.error is None
    assert [m.epoch for m in snap.history] == [1, 2, 3] and snap.final is not None
    [record] = manager.models.list("tiny")
    assert record.name == "m1" and record.active and record.weights_path.is_file()
    assert record.epochs_completed == 3 and record.best_map50 == pytest.approx(0.3)
    assert record.dataset_snapshot == "28 images, 3 classes"
    metrics = manager.models.load_metrics("tiny", "m1")
    assert [h["epoch"] for h in metrics["history"]] == [1, 2, 3]
    assert metrics["final"]["map50"] == pytest.approx(0.3) and metrics["batch_used"] == 4
    assert manager.models.load_config("tiny", "m1")["model_name"] == "m1"
    run_dir = settings.run_dir(job_id)
    assert (run_dir / "results.csv").is_file()
    assert manager.queue.get(job_id).state == JobState.COMPLETED
    assert manager.reset().state == JobState.IDLE


def test_second_model_does_not_take_over_active(settings, make_manager):
    manager = make_manager()
    manager.wait_for_job(manager.start_training(fake_config(model_name="first", epochs=1)))
    job = manager.start_training(fake_config(epochs=1))  # default name
    manager.wait_for_job(job, WAIT_S)
    names = {r.name: r.active for r in manager.models.list("tiny")}
    assert names["first"] is True and len(names) == 2
    other = next(n for n in names if n != "first")
    assert other.startswith("yolo11n-")


def test_cancel_mid_run_registers_nothing(settings, make_manager):
    gate = Gate(1, 1)
    manager = make_manager({"gate": gate})
    job_id = manager.start_training(fake_config(epochs=5))
    assert gate.reached.wait(10)
    assert manager.snapshot().state == JobState.TRAINING
    assert manager.cancel() == JobState.CANCELLED
    gate.release()
    snap = manager.wait_for_job(job_id, WAIT_S)
    assert snap.state == JobState.CANCELLED and "user" in snap.stop_reason
    assert manager.models.list("tiny") == []
    # the run ends after epoch 2's second batch, without validating that epoch or best.pt
    assert [m.epoch for m in snap.history] == [1] and snap.final is None
    trainer = manager.backend._factory.made[0].trainer
    assert trainer.best.is_file()  # epoch 1 wrote best.pt; it was not registered
    assert not any("best.pt on val" in line for line in snap.log)


def test_cuda_memory_is_released_before_a_cancelled_job_is_reported(settings, make_manager,
                                                                     monkeypatch):
    """The GPU memory of a finished job goes back to the driver before its end is published
    (so a user who sees CANCELLED also sees the memory free)."""
    import torch

    states = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: states.append(
        manager.snapshot().state))
    gate = Gate(0, 1)
    manager = make_manager({"gate": gate})
    job_id = manager.start_training(fake_config(epochs=5, device="cpu"))  # no CUDA memory cap
    assert gate.reached.wait(10)
    manager.cancel(job_id)
    gate.release()
    assert manager.wait_for_job(job_id, WAIT_S).state == JobState.CANCELLED
    assert states == [JobState.TRAINING]


def test_cancel_before_first_batch(settings, make_manager):
    gate = Gate(0, 0)
    manager = make_manager({"gate": gate})
    job_id = manager.start_training(fake_config(epochs=5))
    assert gate.reached.wait(10)
    manager.cancel(job_id)
    gate.release()
    snap = manager.wait_for_job(job_id, WAIT_S)
    assert snap.state == JobState.CANCELLED and manager.models.list("tiny") == []
    assert snap.batch_i == 1 and snap.history == () and snap.final is None  # not validated


def test_failure_registers_nothing_and_next_job_runs(settings, make_manager):
    manager = make_manager({"fail_at": (1, 0)}, {})
    bad = manager.start_training(fake_config(model_name="bad"))
    good = manager.start_training(fake_config(model_name="good", epochs=1))
    snap = manager.wait_for_job(good, WAIT_S)
    assert snap.state == JobState.COMPLETED
    assert manager.queue.get(bad).state == JobState.ERROR
    assert "boom" in manager.queue.get(bad).error
    assert [r.name for r in manager.models.list("tiny")] == ["good"]


def test_error_state_names_the_cause(settings, make_manager):
    manager = make_manager({"nan_at": (0, 1)})
    snap = manager.wait_for_job(manager.start_training(fake_config()))
    assert snap.state == JobState.ERROR and "NaN" in snap.error
    assert manager.models.list("tiny") == []
    assert any("ERROR" in line for line in snap.log)


def test_two_concurrent_starts_queue_instead_of_running_in_parallel(settings, make_manager):
    gate = Gate(0, 1)
    manager = make_manager({"gate": gate}, {})
    barrier, ids = threading.Barrier(2), []

    def press() -> None:
        barrier.wait()
        ids.append(manager.start_training(fake_config(epochs=1)))

    threads = [threading.Thread(target=press) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(set(ids)) == 2
    assert gate.reached.wait(10)
    states = sorted(j.state.value for j in manager.jobs())
    assert states == ["QUEUED", "TRAINING"]
    assert len(manager.snapshot().queue) == 1
    gate.release()
    for job_id in ids:
        manager.wait_for_job(job_id, WAIT_S)
    assert len(manager.models.list("tiny")) == 2
    assert len({r.name for r in manager.models.list("tiny")}) == 2


def test_cancel_or_remove_queued_job_and_move(settings, make_manager):
    gate = Gate(0, 0)
    manager = make_manager({"gate": gate}, {})
    first = manager.start_training(fake_config(epochs=1))
    a = manager.start_training(fake_config(epochs=1, model_name="a"))
    b = manager.start_training(fake_config(epochs=1, model_name="b"))
    assert gate.reached.wait(10)
    manager.move_job(b, -1)
    assert list(manager.snapshot().queue) == [b, a]
    assert manager.cancel(a) == JobState.QUEUED
    assert [j.job_id for j in manager.jobs()] == [first, b]
    gate.release()
    manager.wait_for_job(b, WAIT_S)
    assert sorted(r.name for r in manager.models.list("tiny"))[0] == "b"
    with pytest.raises(ValidationError):
        manager.cancel(first)  # finished: nothing to cancel


def test_a_job_an_idle_trainer_starts_is_never_published_as_queued(settings, make_manager):
    """Its start publishes the queue; a QUEUED moment before it would have every open page
    redraw its job table and refill its job selector twice per job. A job queued behind a
    running one is published at once."""
    gate = Gate(0, 1)
    manager = make_manager({"gate": gate})
    published: list = []
    board = manager._board  # every publish (queue, snapshot, log) goes through .publish
    original = board.publish
    board.publish = lambda **changes: published.append(original(**changes)) or published[-1]
    first = manager.start_training(fake_config(model_name="first", epochs=1))
    assert gate.reached.wait(10)  # training
    second = manager.start_training(fake_config(model_name="second", epochs=1))
    assert second in manager.snapshot().queue  # behind a running job: published at once
    gate.release()
    manager.wait_for_job(second, WAIT_S)
    assert not any(first in snap.queue for snap in published)
    assert any(snap.job_id == first and snap.state is JobState.TRAINING for snap in published)


def test_start_validation_before_queueing(settings, make_manager, monkeypatch):
    manager = make_manager()
    manager.wait_for_job(manager.start_training(fake_config(model_name="taken", epochs=1)))
    with pytest.raises(ValidationError, match="taken"):
        manager.start_training(fake_config(model_name="taken"))
    with pytest.raises(NotFoundError):
        manager.start_training(fake_config(dataset="nope"))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # a machine with no GPU
    with pytest.raises(TrainingError, match="device '0'.*torch sees none"):
        manager.start_training(fake_config(model_name="gpu", device="0"))
    shutil.rmtree(settings.datasets_dir / "tiny" / "images" / "val")
    with pytest.raises(DatasetError):
        manager.start_training(fake_config(model_name="other"))
    assert len(manager.jobs()) == 1
    with pytest.raises(ValidationError):
        manager.cancel()  # nothing is training


def test_restart_marks_training_job_interrupted_then_retry(settings, make_manager):
    first = TrainingManager(settings, backend=UltralyticsBackend(model_factory=Factory()))
    job_id = first.start_training(fake_config(model_name="m", epochs=1))
    JobQueue(settings.jobs_dir / "queue.json").claim_next()  # "crash" while training it
    manager = make_manager()
    job = manager.queue.get(job_id)
    assert job.state == JobState.INTERRUPTED and "restart" in manager.snapshot().log[-1]
    assert manager.models.list("tiny") == []
    manager.retry_job(job_id)
    snap = manager.wait_for_job(job_id, WAIT_S)
    assert snap.state == JobState.COMPLETED and [r.name for r in manager.models.list("tiny")] == ["m"]


def test_watchers_see_every_epoch_once(settings, make_manager):
    manager = make_manager()
    seen: list[int] = []
    version = manager.snapshot().version
    job_id = manager.start_training(fake_config(epochs=4))
    while True:  # a watcher may wake after several changes: it reads the whole history
        snap = manager.wait_for_change(version, 10)
        version = snap.version
        if snap.job_id == job_id:
            epochs = [m.epoch for m in snap.history]
            assert epochs == list(range(1, len(epochs) + 1))  # each epoch once, in order
            seen.extend(e for e in epochs if e not in seen)
            if snap.state in DONE:
                break
    assert seen == [1, 2, 3, 4] and len(snap.history) == 4


class FakeMonitor:
    def __init__(self) -> None:
        self.callbacks = []

    def add_callback(self, fn) -> None:
        self.callbacks.append(fn)

    def fire(self, constrained: bool) -> None:
        status = SimpleNamespace(constrained=constrained, alerts=("RAM 90% >= 85%",))
        for fn in self.callbacks:
            fn(status)


@pytest.mark.parametrize("stop", [False, True])
def test_resource_alert_is_logged_and_can_stop_gracefully(settings, make_manager, stop):
    gate, monitor = Gate(1, 0), FakeMonitor()
    manager = make_manager({"gate": gate}, monitor=monitor)
    job_id = manager.start_training(fake_config(epochs=4, stop_on_resource_alert=stop))
    assert gate.reached.wait(10)
    monitor.fire(True)
    gate.release()
    snap = manager.wait_for_job(job_id, WAIT_S)
    assert any("Resource alert: RAM 90%" in line for line in snap.log)
    assert snap.state == JobState.COMPLETED and len(manager.models.list("tiny")) == 1
    if stop:
        assert len(snap.history) == 2 and "resource alert" in snap.stop_reason
    else:
        assert len(snap.history) == 4 and snap.stop_reason is None


def test_job_started_while_already_constrained_is_stopped_when_configured(settings, make_manager):
    """The alert began before the job (no transition during it): the monitor's reminder while
    still constrained must still log the alert for this job and stop it."""
    gate, monitor = Gate(1, 0), FakeMonitor()
    manager = make_manager({"gate": gate}, monitor=monitor)
    monitor.fire(True)  # constrained while idle
    job_id = manager.start_training(fake_config(epochs=4, stop_on_resource_alert=True))
    assert gate.reached.wait(10)
    monitor.fire(True)  # the monitor's periodic reminder: still constrained
    gate.release()
    snap = manager.wait_for_job(job_id, WAIT_S)
    assert any("Resource alert: RAM 90%" in line for line in snap.log)
    assert len(snap.history) == 2 and "resource alert" in snap.stop_reason


def test_resume_without_last_pt_fails_clearly_and_registers_nothing(settings, make_manager):
    first = TrainingManager(settings, backend=UltralyticsBackend(model_factory=Factory()))
    job_id = first.start_training(fake_config(model_name="m", epochs=1))
    JobQueue(settings.jobs_dir / "queue.json").claim_next()  # died before any epoch was saved
    manager = make_manager()
    with pytest.raises(ValidationError, match="no last.pt.*Retry"):  # refused at once
        manager.retry_job(job_id, resume=True)
    assert manager.queue.get(job_id).state == JobState.INTERRUPTED
    manager.queue.retry(job_id, resume=True)  # e.g. by another process; the worker polls
    snap = manager.wait_for_job(job_id, WAIT_S)
    assert snap.state == JobState.ERROR and "last.pt" in snap.error and "Retry" in snap.error
    assert manager.models.list("tiny") == []


def test_wait_for_job_follows_a_queued_job_to_its_end(settings, make_manager):
    gate = Gate(0, 0)
    manager = make_manager({"gate": gate}, {})
    first = manager.start_training(fake_config(epochs=1))
    second = manager.start_training(fake_config(epochs=2, model_name="second"))
    assert gate.reached.wait(10)
    with pytest.raises(TrainingError, match="did not finish within 0.2 s"):
        manager.wait_for_job(first, timeout_s=0.2)
    gate.release()
    snap = manager.wait_for_job(second, timeout_s=30)
    assert (snap.job_id, snap.state, len(snap.history)) == (second, JobState.COMPLETED, 2)
    # each job keeps its own snapshots: the first one's end is still there to read
    snap = manager.wait_for_job(first, timeout_s=5)
    assert (snap.job_id, snap.state, len(snap.history)) == (first, JobState.COMPLETED, 1)
    assert manager.snapshot().job_id == second  # the studio's snapshot follows the newest
    assert manager.recent_jobs() == [second, first] and manager.running_jobs() == []


def test_wait_for_job_refuses_a_job_removed_before_it_ran(settings, make_manager):
    gate = Gate(0, 0)
    manager = make_manager({"gate": gate}, {})
    manager.start_training(fake_config(epochs=1))
    queued = manager.start_training(fake_config(epochs=1, model_name="queued"))
    assert gate.reached.wait(10)
    manager.remove_job(queued)
    with pytest.raises(TrainingError, match="removed"):
        manager.wait_for_job(queued, timeout_s=5)
    gate.release()


def test_every_queue_write_is_published_even_when_the_queued_ids_stay(settings, make_manager):
    """Removing a failed job leaves the queued ids as they were; open tabs must still redraw
    their job tables (they follow ``queue_rev``)."""
    manager = make_manager({"fail_at": (0, 0)})
    failed = manager.start_training(fake_config(model_name="bad"))
    assert manager.wait_for_job(failed, WAIT_S).state == JobState.ERROR
    before = manager.snapshot()
    manager.remove_job(failed)
    after = manager.wait_for_change(before.version, 5.0, major_only=True)
    assert after.queue == before.queue == ()
    assert after.queue_rev == before.queue_rev + 1


def test_the_next_jobs_snapshots_still_name_the_job_that_completed(settings, make_manager):
    gate = Gate(0, 1)  # the second job stops in its first batch
    manager = make_manager({}, {"gate": gate})
    first = manager.start_training(fake_config(model_name="first", epochs=1))
    second = manager.start_training(fake_config(model_name="second", epochs=2))
    assert gate.reached.wait(10)  # the second job trains: the first's COMPLETED is gone
    snap = manager.snapshot()
    assert (snap.job_id, snap.state) == (second, JobState.TRAINING) and snap.history == ()
    assert snap.last_completed == (first, "tiny")
    gate.release()
    assert manager.wait_for_job(second, WAIT_S).last_completed == (second, "tiny")


class _Concurrent:
    """The executor attributes the manager wires for a concurrent executor (as RayExecutor's)."""

    concurrent = True
    node = None

    def __init__(self) -> None:
        self.jobs_waiting = lambda: 0

    def has_room(self, job) -> bool:
        return True

    def prepare(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_a_job_just_claimed_no_longer_counts_as_waiting(settings):
    """A job the trainer claimed still stands in the published queue until its own start
    publishes it again; meanwhile a node asked whether jobs wait must hear none (else it
    starts a worker process for a job that never comes: CI's two-node run kept one)."""
    from yolo_studio.config import TrainingConfig
    from yolo_studio.training.manager import TrainingManager

    executor = _Concurrent()
    manager = TrainingManager(settings, executor=executor)  # not started: steps driven here
    manager.start_training(TrainingConfig(dataset="tiny", base_model="yolo11n.yaml",
                                          epochs=1, model_name="only"))
    assert executor.jobs_waiting() == 1
    with manager._lock:  # what the trainer's loop does when it claims the job
        manager._runs.begin(manager._claim(concurrent=True))
    assert executor.jobs_waiting() == 0
