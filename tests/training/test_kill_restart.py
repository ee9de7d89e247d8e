"""Fault injection with real processes and real Ultralytics (CPU, yolo11n.yaml, imgsz 64).

A ``python -m yolo_studio train`` process is SIGKILLed in the middle of its second epoch, after
its first ``last.pt`` was written; the worker process that trained for it (and anything that
started) ends too, checked by PID. A studio started afterwards on the same storage root gets
the worker lock the dead process held, shows the killed job INTERRUPTED with nothing of it
registered, runs the job queued behind it (a dataset whose data.yaml says ``path: .``), and
resumes the killed job from its ``last.pt`` to a registered model.
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
import yaml
from training_helpers import TINY

from yolo_studio.config import StudioSettings, TrainingConfig
from yolo_studio.errors import TrainingError
from yolo_studio.persistence.model_store import ModelStore
from yolo_studio.training.manager import TrainingManager
from yolo_studio.training.queue import JobQueue
from yolo_studio.training.snapshot import JobState

REPO = Path(__file__).resolve().parents[2]
DONE = (JobState.COMPLETED, JobState.CANCELLED, JobState.ERROR)
SAFETY_S = 300.0  # only a guard against a hung child; no test asserts on time


class Child:
    """A CLI training process whose stdout lines are collected by a reader thread."""

    def __init__(self, root: Path) -> None:
        env = dict(os.environ, YOLO_OFFLINE="1", PYTHONPATH=str(REPO))
        args = ["--root", str(root), "train", "--dataset", "tiny", "--base-model",
                "yolo11n.yaml", "--epochs", "2", "--imgsz", "64", "--batch", "8",
                "--workers", "0", "--device", "cpu", "--model-name", "killed",
                "plots=False"]  # Ultralytics' plots: CPU-seconds no check here needs
        self.proc = subprocess.Popen([sys.executable, "-m", "yolo_studio", *args], cwd=REPO,
                                     env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put("")  # EOF

    def wait_for(self, text: str) -> str:
        """Block until a line containing ``text`` is printed (fails if the child exits)."""
        while True:
            try:
                line = self.lines.get(timeout=SAFETY_S)
            except queue.Empty:
                raise AssertionError(f"no {text!r} from the child:\n" + "\n".join(self.seen))
            if line == "" and self.proc.poll() is not None:
                raise AssertionError(f"child exited before {text!r}:\n" + "\n".join(self.seen))
            self.seen.append(line)
            if text in line:
                return line

    def descendants(self) -> list[psutil.Process]:
        """The processes this CLI started (its training worker, the next one, theirs)."""
        return psutil.Process(self.proc.pid).children(recursive=True)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(60)
        self.proc.stdout.close()


def _running(process: psutil.Process) -> bool:
    """True while ``process`` runs (a zombie left for init to reap runs nothing)."""
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _wait_ended(processes: list[psutil.Process]) -> list[psutil.Process]:
    """Wait up to SAFETY_S for ``processes`` to end; returns those still running."""
    deadline = time.monotonic() + SAFETY_S
    while any(_running(p) for p in processes) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [p for p in processes if _running(p)]


def _wait_done(manager: TrainingManager, job_id: str):
    snap = manager.snapshot()
    while not (snap.job_id == job_id and snap.state == manager.queue.get(job_id).state in DONE):
        before = snap.version
        snap = manager.wait_for_change(snap.version, SAFETY_S)
        assert snap.version > before, f"job {job_id} made no progress: {snap.state}"
    return snap


@pytest.fixture
def settings(tmp_path, monkeypatch) -> StudioSettings:
    monkeypatch.setenv("YOLO_OFFLINE", "1")
    settings = StudioSettings(root=tmp_path / "root")
    shutil.copytree(TINY, settings.datasets_dir / "tiny")
    relative = shutil.copytree(TINY, settings.datasets_dir / "rel")
    text = (relative / "data.yaml").read_text()
    (relative / "data.yaml").write_text("path: .\n" + text)  # what users mean: this folder
    return settings


@pytest.mark.slow
def test_killed_training_process_is_interrupted_then_resumed(settings):
    child = Child(settings.root)
    try:
        job_line = child.wait_for(": training yolo11n.yaml on tiny")  # its worker holds the lock
        killed_id = job_line.split()[1].rstrip(":")
        other = TrainingManager(settings)  # e.g. a browser tab of a second studio
        behind = other.start_training(TrainingConfig(
            dataset="rel", base_model="yolo11n.yaml", epochs=1, imgsz=64, batch=8, workers=0,
            device="cpu", model_name="behind", extra_args={"plots": False}))
        with pytest.raises(TrainingError, match="already running jobs"):
            other.start()  # never two trainings at once on one root
        child.wait_for("epoch 1/2:")  # printed after epoch 1's last.pt was saved
        workers = child.descendants()
        assert any("yolo_studio.training.worker" in p.cmdline() for p in workers)
        child.kill()
        alive = _wait_ended(workers)
        assert alive == [], f"training processes outlived the studio: {alive}"
    finally:
        if child.proc.poll() is None:
            child.kill()
    run_dir = settings.jobs_dir / "runs" / killed_id
    assert (run_dir / "weights" / "last.pt").is_file()
    jobs = {j.job_id: j.state for j in JobQueue(settings.jobs_dir / "queue.json").list()}
    assert jobs == {killed_id: JobState.TRAINING, behind: JobState.QUEUED}
    store = ModelStore(settings.models_dir)
    assert store.list("tiny") == [] and not (settings.models_dir / "tiny" / "models").exists()

    manager = TrainingManager(settings)
    manager.start()  # the dead process's worker.lock does not block
    try:
        killed = manager.queue.get(killed_id)
        assert killed.state == JobState.INTERRUPTED and "retry or resume" in killed.error
        assert store.list("tiny") == []  # nothing half-finished registered
        snap = _wait_done(manager, behind)  # the queued job behind it runs
        assert snap.state == JobState.COMPLETED, snap.error
        [rel] = manager.models.list("rel")
        assert rel.name == "behind" and rel.active and rel.weights_path.is_file()
        used = yaml.safe_load((settings.jobs_dir / "runs" / behind / "args.yaml").read_text())
        assert Path(used["data"]).name == ".studio_data.yaml"  # path: . made absolute
        assert Path(yaml.safe_load(Path(used["data"]).read_text())["path"]) == (
            settings.datasets_dir / "rel").resolve()

        manager.retry_job(killed_id, resume=True)
        snap = _wait_done(manager, killed_id)
        assert snap.state == JobState.COMPLETED, snap.error
        # epoch 1 charted from the run's results.csv, epoch 2 trained now
        assert [m.epoch for m in snap.history] == [1, 2]
        assert any("Resuming after epoch 1" in line for line in snap.log)
    finally:
        manager.close()
    [record] = store.list("tiny")
    assert record.name == "killed" and record.active and record.epochs_completed == 2
    history = store.load_metrics("tiny", "killed")["history"]
    assert [h["epoch"] for h in history] == [1, 2]  # the run's results.csv kept epoch 1
    import torch

    checkpoint = torch.load(record.weights_path, map_location="cpu", weights_only=False)
    assert checkpoint["optimizer"] is None  # registered weights are stripped of the optimizer
    assert not record.weights_path.is_symlink()
