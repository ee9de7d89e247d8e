"""Jobs on a real two-node Ray cluster (plus a head node without CPUs, where the studio's
driver and the job channels live), each node with a working folder of its own: no shared disk.

Run only inside a network namespace that has nothing but loopback, by ``test_cluster.py``
(Ray binds the machine's own address otherwise); collected there from this file by name.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import psutil
import pytest

from yolo_studio.config import StudioSettings, TrainingConfig
from yolo_studio.training.manager import TrainingManager
from yolo_studio.training.queue import JobQueue
from yolo_studio.training.ray_executor import RayExecutor
from yolo_studio.training.ray_task import NODE_DIR_ENV
from yolo_studio.training.snapshot import JobState

IN_NETNS_ENV = "YOLO_STUDIO_IN_NETNS"
TINY = Path(__file__).resolve().parents[1] / "data" / "bccd-tiny"
WAIT_S = 240  # under the cases' pytest timeout (300 s)

pytestmark = pytest.mark.skipif(os.environ.get(IN_NETNS_ENV) != "1",
                                reason="runs inside a loopback-only network namespace, "
                                "started by tests/cluster/test_cluster.py")


def _add_node(cluster: SimpleNamespace, name: str) -> object:
    node = cluster.ray.add_node(num_cpus=1, env_vars={NODE_DIR_ENV: str(cluster.base / name)})
    cluster.ray.wait_for_nodes()
    cluster.folders[node.node_id] = cluster.base / name
    return node


def _folder_of(cluster: SimpleNamespace, node_name: str) -> Path:
    """The working folder of the node a snapshot names (``<ip> (node <id prefix>)``)."""
    return next(folder for node_id, folder in cluster.folders.items()
                if f"(node {node_id[:8]})" in node_name)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    from ray.cluster_utils import Cluster

    base = tmp_path_factory.mktemp("nodes")
    ray_cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 0, "env_vars": {NODE_DIR_ENV: str(base / "head")}})
    found = SimpleNamespace(ray=ray_cluster, base=base, folders={})
    for name in ("node1", "node2"):
        _add_node(found, name)
    yield found
    ray_cluster.shutdown()


def _settings(root: Path) -> StudioSettings:
    settings = StudioSettings(root)
    settings.datasets_dir.mkdir(parents=True, exist_ok=True)
    if not (settings.datasets_dir / "tiny").exists():
        shutil.copytree(TINY, settings.datasets_dir / "tiny")
    return settings


@pytest.fixture(scope="module")
def studio(cluster, tmp_path_factory):
    settings = _settings(tmp_path_factory.mktemp("studio"))
    manager = TrainingManager(settings, executor=RayExecutor(cluster.ray.address))
    manager.start()
    yield manager
    manager.close()


def _config(name: str, epochs: int) -> TrainingConfig:
    """A real job on tiny, without Ultralytics' plots (no case looks at them)."""
    return TrainingConfig(dataset="tiny", base_model="yolo11n.yaml", epochs=epochs, imgsz=64,
                          batch=4, workers=0, device="cpu", model_name=name,
                          extra_args={"plots": False})


def _until(check, what: str, timeout_s: float = WAIT_S):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _node_copies(cluster: SimpleNamespace, job_id: str, rel: str) -> list[Path]:
    return sorted(cluster.base.glob(f"node*/runs/{job_id}/{rel}"))


def _training_workers(cluster: SimpleNamespace) -> list[psutil.Process]:
    """The training worker processes started on this cluster's nodes (their environment
    names a node folder of the cluster; other tests' workers on the machine do not count)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        if "yolo_studio.training.worker" not in " ".join(proc.info["cmdline"] or ()):
            continue
        try:
            if proc.environ().get(NODE_DIR_ENV, "").startswith(str(cluster.base)):
                found.append(proc)
        except psutil.Error:  # ended meanwhile
            continue
    return found


def _training_pid(snap) -> int:
    """The node's training process of a job, as its log names it."""
    line = next(line for line in snap.log if line.startswith("Training on "))
    return int(re.search(r"in process (\d+)", line).group(1))


def test_two_jobs_train_at_once_on_two_nodes(cluster, studio):
    ids = [studio.start_training(_config(f"pair{i}", epochs=2)) for i in range(2)]
    _until(lambda: len(studio.running_jobs()) == 2, "both jobs training at once")
    # live events: each job's first epoch reaches the studio while that job still trains
    seen = {job_id: 0 for job_id in ids}

    def both_live() -> bool:
        for job_id in ids:
            snap = studio.snapshot(job_id)
            if snap.state is JobState.TRAINING:
                seen[job_id] = max(seen[job_id], len(snap.history))
        return all(seen.values()) or not studio.running_jobs()
    _until(both_live, "live epoch events from both jobs")
    assert all(seen.values()), seen
    snaps = [studio.wait_for_job(job_id, WAIT_S) for job_id in ids]
    assert [s.state for s in snaps] == [JobState.COMPLETED] * 2, [s.error for s in snaps]
    assert len({s.node for s in snaps}) == 2, [s.node for s in snaps]  # one job per node
    # each node's resource readings came with its job's events
    assert all(s.node_resources and s.node_resources[-1].ram_total_bytes > 0 for s in snaps)
    assert {j.node for j in studio.jobs() if j.job_id in ids} == {s.node for s in snaps}
    for job_id, snap in zip(ids, snaps):
        record = studio.models.get("tiny", snap.model_name)
        node_best = _node_copies(cluster, job_id, "weights/best.pt")
        assert len(node_best) == 1  # written on one node, under that node's own folder
        assert _sha(Path(record.weights_path)) == _sha(node_best[0])
        assert not str(node_best[0]).startswith(str(studio.settings.root))
    # the dataset went to each node once, unpacked under its content hash
    digest = studio.datasets.get("tiny").content_hash
    assert sorted(p.parent.parent.name for p in cluster.base.glob(f"node*/datasets/{digest}")) \
        == ["node1", "node2"]
    # no job waits: the nodes start no worker process for a next job, and keep none idle
    _until(lambda: not _training_workers(cluster), "no training worker left on the nodes", 30)


def test_a_cancelled_job_ends_on_its_node_and_registers_nothing(cluster, studio):
    before = {r.name for r in studio.models.list("tiny")}
    job_id = studio.start_training(_config("cancelled", epochs=50))
    _until(lambda: studio.snapshot(job_id).batch_i >= 1
           if job_id in studio.recent_jobs() else False, "the first batch")
    pid = _training_pid(studio.snapshot(job_id))
    assert pid in {proc.pid for proc in _training_workers(cluster)}
    assert studio.cancel(job_id) is JobState.CANCELLED
    snap = studio.wait_for_job(job_id, WAIT_S)
    assert snap.state is JobState.CANCELLED
    assert {r.name for r in studio.models.list("tiny")} == before
    _until(lambda: not psutil.pid_exists(pid), "the job's training process to end", 30)


def test_a_studio_killed_mid_job_shows_it_interrupted_then_resumes_it(cluster, tmp_path):
    settings = _settings(tmp_path / "root")
    # standby workers kept by the other studio's Ray workers are not this studio's
    others = {proc.pid for proc in _training_workers(cluster)}
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    cli = subprocess.Popen(
        [sys.executable, "-m", "yolo_studio", "--root", str(settings.root), "train",
         "--ray", cluster.ray.address, "--dataset", "tiny", "--base-model", "yolo11n.yaml",
         "--epochs", "3", "--imgsz", "64", "--batch", "4", "--workers", "0", "--device",
         "cpu", "--model-name", "orphan", "plots=False"], env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    queue = JobQueue(settings.jobs_dir / "queue.json")
    job = _until(lambda: next((j for j in queue.list() if j.node), None), "the job placed")
    last = settings.run_dir(job.job_id) / "weights" / "last.pt"
    _until(last.is_file, "the first epoch's last.pt at the studio")
    os.kill(cli.pid, signal.SIGKILL)
    cli.wait()
    # Ray ends the tasks of a driver that died: nothing trains on for a dead studio
    _until(lambda: not {p.pid for p in _training_workers(cluster)} - others,
           "the orphaned training to end", 60)
    manager = TrainingManager(settings, executor=RayExecutor(cluster.ray.address))
    manager.start()
    try:
        record = manager.queue.get(job.job_id)
        assert record.state is JobState.INTERRUPTED and "retry or resume" in record.error
        manager.retry_job(job.job_id, resume=True)
        snap = manager.wait_for_job(job.job_id, WAIT_S)
        assert snap.state is JobState.COMPLETED, snap.error
        assert [m.epoch for m in snap.history] == [1, 2, 3]
        assert manager.models.get("tiny", "orphan").epochs_completed == 3
    finally:
        manager.close()


def test_a_node_killed_mid_job_interrupts_it_and_it_resumes_on_the_other(cluster, studio):
    # epochs of about 1 s here: the node dies well before the job's last epoch
    job_id = studio.start_training(_config("survivor", epochs=8))
    last = studio.settings.run_dir(job_id) / "weights" / "last.pt"
    _until(lambda: studio.snapshot(job_id).epoch >= 2 and last.is_file()
           if job_id in studio.recent_jobs() else False, "two epochs and a last.pt")
    node_name = studio.snapshot(job_id).node
    victim = next(n for n in cluster.ray.list_all_nodes()
                  if f"node {n.node_id[:8]})" in node_name)
    cluster.ray.remove_node(victim, allow_graceful=False)
    snap = studio.wait_for_job(job_id, WAIT_S)
    assert snap.state is JobState.INTERRUPTED, snap.error
    assert "died or left the cluster" in snap.error and "Resume" in snap.error
    assert "survivor" not in {r.name for r in studio.models.list("tiny")}
    studio.retry_job(job_id, resume=True)
    snap = studio.wait_for_job(job_id, WAIT_S)
    assert snap.state is JobState.COMPLETED, snap.error
    assert snap.node != node_name
    assert [m.epoch for m in snap.history] == list(range(1, 9))
    record = studio.models.get("tiny", "survivor")
    survivor = _folder_of(cluster, snap.node)
    assert survivor != cluster.folders[victim.node_id]
    assert _sha(Path(record.weights_path)) == _sha(
        survivor / "runs" / job_id / "weights" / "best.pt")
