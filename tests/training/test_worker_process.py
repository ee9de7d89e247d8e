"""Each job in a worker process of its own, with real processes: real CPU training through
``TrainingManager``, a worker SIGKILLed mid-run, a worker that ignores cancel, one that hangs,
exits or segfaults, and the studio's memory over ten consecutive real jobs.

Misbehaving workers run the backends of ``worker_doubles`` (no torch); the others train
yolo11n.yaml on bccd-tiny at a tiny imgsz. Times are only safety limits, never asserted.
"""

from __future__ import annotations


import os
import shutil
import signal
import time
from pathlib import Path
from types import SimpleNamespace

import psutil
import pytest
from training_helpers import TINY, fake_config

from yolo_studio.config import StudioSettings, TrainingConfig
from yolo_studio.errors import ValidationError
from yolo_studio.training.executors import HANG_TIMEOUT_ENV, ProcessExecutor, hang_timeout_from
from yolo_studio.training.manager import TrainingManager
from yolo_studio.training.snapshot import JobState

SAFETY_S = 300.0
DOUBLES = str(Path(__file__).resolve().parent)


@pytest.fixture
def settings(tmp_path, monkeypatch) -> StudioSettings:
    monkeypatch.setenv("YOLO_OFFLINE", "1")
    settings = StudioSettings(root=tmp_path / "root")
    shutil.copytree(TINY, settings.datasets_dir / "tiny")
    return settings


@pytest.fixture
def managers():
    made: list[TrainingManager] = []

    def make(settings: StudioSettings, **executor_options) -> TrainingManager:
        executor = None
        if executor_options:
            executor = ProcessExecutor(env={"PYTHONPATH": DOUBLES}, **executor_options)
        manager = TrainingManager(settings, executor=executor)
        made.append(manager)
        manager.start()
        return manager
    yield make
    for manager in made:
        manager.close()


def real_config(name: str, epochs: int = 1, imgsz: int = 32) -> TrainingConfig:
    """A real job on tiny, without Ultralytics' plots (about 6 CPU-s of matplotlib per job,
    in the worker only; no test here looks at them)."""
    return TrainingConfig(dataset="tiny", base_model="yolo11n.yaml", epochs=epochs,
                          imgsz=imgsz, batch=8, workers=0, device="cpu", model_name=name,
                          extra_args={"plots": False})


def wait_until(manager: TrainingManager, done) -> object:
    """The first snapshot for which ``done(snapshot)`` holds (fails after SAFETY_S)."""
    deadline = time.monotonic() + SAFETY_S
    snap = manager.snapshot()
    while not done(snap):
        assert time.monotonic() < deadline, f"gave up waiting: {snap.state} {snap.log[-3:]}"
        snap = manager.wait_for_change(snap.version, 1.0)
    return snap


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_the_hang_timeout_comes_from_the_flag_else_the_environment_else_30_min(monkeypatch):
    monkeypatch.delenv(HANG_TIMEOUT_ENV, raising=False)
    assert hang_timeout_from() == 1800.0 and ProcessExecutor().hang_timeout_s == 1800.0
    monkeypatch.setenv(HANG_TIMEOUT_ENV, "90")
    assert hang_timeout_from() == 5400.0 and hang_timeout_from("0.5") == 30.0
    for bad in ("0", "-3", "soon", "inf"):
        with pytest.raises(ValidationError, match="number of minutes above 0"):
            hang_timeout_from(bad)


@pytest.mark.slow
def test_a_real_job_trains_in_a_worker_process_that_ends_with_it(settings, managers):
    manager = managers(settings)
    job_id = manager.start_training(real_config("in-worker", epochs=2, imgsz=64))
    snap = wait_until(manager, lambda s: s.job_id == job_id and s.epoch >= 1)
    pid = manager.executor.running_pid
    assert pid is not None and pid != os.getpid()
    assert psutil.Process(pid).cmdline()[1:3] == ["-m", "yolo_studio.training.worker"]
    snap = manager.wait_for_job(job_id, SAFETY_S)
    assert snap.state == JobState.COMPLETED, snap.error
    assert [m.epoch for m in snap.history] == [1, 2] and snap.final is not None
    assert any("Registered model in-worker" in line for line in snap.log)
    [record] = manager.models.list("tiny")
    assert record.weights_path.is_file() and record.epochs_completed == 2
    assert gone(pid)  # the job's process ended with the job
    assert manager.executor.standby_pid not in (None, pid)  # the next job's is ready


@pytest.mark.slow
def test_a_worker_killed_mid_run_ends_its_job_in_error_and_the_next_job_completes(
        settings, managers):
    manager = managers(settings)
    killed = manager.start_training(real_config("killed", epochs=30, imgsz=64))
    after = manager.start_training(real_config("after"))
    wait_until(manager, lambda s: s.job_id == killed and s.epoch >= 1)
    os.kill(manager.executor.running_pid, signal.SIGKILL)
    snap = wait_until(manager, lambda s: s.job_id == killed and s.state != JobState.TRAINING)
    assert snap.state == JobState.ERROR
    assert "killed (SIGKILL)" in snap.error and "Retry or resume" in snap.error
    assert manager.queue.get(killed).state == JobState.ERROR
    snap = manager.wait_for_job(after, SAFETY_S)
    assert snap.state == JobState.COMPLETED, snap.error
    assert [r.name for r in manager.models.list("tiny")] == ["after"]
    assert (settings.run_dir(killed) / "weights" / "last.pt").is_file()  # resumable


def test_a_worker_that_ignores_cancel_is_killed_after_the_grace_period(settings, managers):
    manager = managers(settings, backend="worker_doubles:StuckBackend", cancel_grace_s=1.0)
    job_id = manager.start_training(real_config("stuck"))
    wait_until(manager, lambda s: any("StuckBackend started" in line for line in s.log))
    pid = manager.executor.running_pid
    manager.cancel()
    snap = manager.wait_for_job(job_id, SAFETY_S)
    assert snap.state == JobState.CANCELLED and snap.stop_reason == "cancelled by the user"
    assert any("did not stop within 1 s of the cancel" in line for line in snap.log)
    assert gone(pid) and manager.models.list("tiny") == []


def test_a_worker_without_events_for_the_hang_timeout_is_killed(settings, managers):
    manager = managers(settings, backend="worker_doubles:StuckBackend", hang_timeout_s=1.5)
    job_id = manager.start_training(real_config("hung"))
    snap = manager.wait_for_job(job_id, SAFETY_S)
    assert snap.state == JobState.ERROR
    assert "no progress for 0.025 min" in snap.error and "killed" in snap.error


@pytest.mark.parametrize("backend, cause", [
    ("ExitBackend", "exited with code 3"),
    ("SegfaultBackend", "segmentation fault (SIGSEGV)"),
])
def test_a_worker_that_dies_names_the_cause_and_its_last_output(settings, managers, backend,
                                                                 cause):
    manager = managers(settings, backend=f"worker_doubles:{backend}")
    snap = manager.wait_for_job(manager.start_training(real_config("dies")), SAFETY_S)
    assert snap.state == JobState.ERROR and cause in snap.error
    if backend == "ExitBackend":
        assert "fatal: the double gives up" in snap.error  # its last output is quoted
    second = manager.start_training(real_config("second"))  # the studio keeps serving
    assert manager.wait_for_job(second, SAFETY_S).state == JobState.ERROR


@pytest.fixture
def memory_cgroup():
    """A cgroup v1 memory cgroup limited to 256 MiB (root only), removed afterwards."""
    folder = Path("/sys/fs/cgroup/memory") / f"yolo-studio-test-{os.getpid()}"
    try:
        folder.mkdir()
        (folder / "memory.limit_in_bytes").write_text(str(256 * 2**20))
    except OSError as err:
        pytest.skip(f"cannot make a memory cgroup here ({err}); needs root and cgroup v1")
    yield folder
    time.sleep(0.5)  # the killed process leaves the cgroup
    folder.rmdir()


def test_a_worker_the_oom_killer_ends_says_the_system_ran_out_of_memory(settings, managers,
                                                                         memory_cgroup):
    manager = managers(settings, backend="worker_doubles:HogBackend")
    job_id = manager.start_training(real_config("hog"))
    wait_until(manager, lambda s: any("HogBackend started" in line for line in s.log))
    (memory_cgroup / "cgroup.procs").write_text(str(manager.executor.running_pid))
    snap = manager.wait_for_job(job_id, SAFETY_S)
    assert snap.state == JobState.ERROR
    assert "killed (SIGKILL) because the system ran out of memory" in snap.error


class FakeMonitor:
    """A ResourceMonitor stand-in whose alert the test fires."""

    def __init__(self) -> None:
        self.callbacks = []

    def add_callback(self, fn) -> None:
        self.callbacks.append(fn)

    def fire(self) -> None:
        status = SimpleNamespace(constrained=True, alerts=("RAM 90% >= 85%",))
        for fn in self.callbacks:
            fn(status)


@pytest.mark.parametrize("how", ["cancel", "resource alert"])
def test_a_worker_stops_at_the_next_batch_on_cancel_or_gracefully_on_an_alert(settings, how):
    monitor = FakeMonitor()
    executor = ProcessExecutor(backend="worker_doubles:SlowFakeUltralyticsBackend",
                               env={"PYTHONPATH": DOUBLES})
    manager = TrainingManager(settings, executor=executor, monitor=monitor)
    manager.start()
    try:
        job_id = manager.start_training(fake_config(epochs=50, stop_on_resource_alert=True))
        wait_until(manager, lambda s: s.job_id == job_id and s.epoch >= 1)
        manager.cancel() if how == "cancel" else monitor.fire()
        snap = manager.wait_for_job(job_id, SAFETY_S)
    finally:
        manager.close()
    assert not any("did not stop within" in line for line in snap.log)  # no kill needed
    assert 1 <= len(snap.history) < 50
    if how == "cancel":
        assert snap.state == JobState.CANCELLED and manager.models.list("tiny") == []
    else:  # validated and registered
        assert snap.state == JobState.COMPLETED and "resource alert" in snap.stop_reason
        assert snap.final is not None and len(manager.models.list("tiny")) == 1


@pytest.mark.slow
def test_the_studio_memory_stays_flat_over_ten_real_jobs(settings, managers):
    manager = managers(settings)
    studio = psutil.Process()
    configs = [real_config(f"m{i}") for i in range(10)]
    jobs = [manager.start_training(config) for config in configs]  # one queue
    rss = []
    for job_id in jobs:
        deadline = time.monotonic() + SAFETY_S
        while manager.queue.get(job_id).state in (JobState.QUEUED, JobState.TRAINING):
            assert time.monotonic() < deadline, f"job {job_id} did not end"
            time.sleep(0.2)
        job = manager.queue.get(job_id)
        assert job.state == JobState.COMPLETED, job.error
        rss.append(studio.memory_info().rss)
    growth_mb = (rss[-1] - rss[0]) / 2**20
    print(f"studio RSS after job 1: {rss[0] / 2**20:.1f} MB, after job 10: "
          f"{rss[-1] / 2**20:.1f} MB (+{growth_mb:.1f} MB)")
    assert growth_mb < 8, [round(r / 2**20, 1) for r in rss]
    assert len(manager.models.list("tiny")) == 10
