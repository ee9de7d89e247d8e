"""Four small jobs through the studio's queue: on a local two-node Ray cluster (1 CPU per node,
no shared disk) against the embedded default (a worker process per job, one at a time).

Each side's wall time runs from the first Start to the last job's end (registered or not);
the cluster's start, the first connection and the studio's one import of Ultralytics are not
in it. Ray binds the machine's own
address, so the script runs itself inside a network namespace with only loopback
(``unshare --net``; needs root). What it measures and its figures: bench/README.md.

    python bench/cluster.py [--jobs 4] [--epochs 2] [--imgsz 64]

Last line: ``speedup=<sequential wall / cluster wall> jobs=4 nodes=2 lost=<jobs not
registered>``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("YOLO_OFFLINE", "1")

from yolo_studio.config import StudioSettings, TrainingConfig  # noqa: E402
from yolo_studio.training.manager import TrainingManager  # noqa: E402
from yolo_studio.training.ray_task import NODE_DIR_ENV  # noqa: E402
from yolo_studio.training.snapshot import JobState  # noqa: E402
from yolo_studio.training.ultralytics_backend import UltralyticsBackend  # noqa: E402

TINY = REPO / "tests" / "data" / "bccd-tiny"
IN_NETNS_ENV = "YOLO_STUDIO_IN_NETNS"
NODES = 2


def studio_root(parent: Path, name: str) -> StudioSettings:
    """A storage root with bccd-tiny as dataset ``tiny``."""
    settings = StudioSettings(parent / name)
    shutil.copytree(TINY, settings.datasets_dir / "tiny")
    return settings


def run_jobs(manager: TrainingManager, args: argparse.Namespace, tag: str) -> tuple[float, int]:
    """Queue ``args.jobs`` jobs and wait for all; returns (wall seconds, jobs not
    registered)."""
    configs = [TrainingConfig(dataset="tiny", base_model="yolo11n.yaml", epochs=args.epochs,
                              imgsz=args.imgsz, batch=8, workers=0, device="cpu",
                              model_name=f"{tag}{i}") for i in range(args.jobs)]
    cpu0, t0 = psutil.cpu_times(), time.perf_counter()
    ids = [manager.start_training(config) for config in configs]
    snaps = [manager.wait_for_job(job_id, 3600) for job_id in ids]
    wall = time.perf_counter() - t0
    busy = _busy_cores(cpu0, psutil.cpu_times(), wall)
    registered = {r.name for r in manager.models.list("tiny")}
    lost = sum(1 for s in snaps
               if s.state is not JobState.COMPLETED or s.model_name not in registered)
    nodes = sorted({s.node for s in snaps})
    print(f"{tag}: {wall:.1f} s for {len(ids)} jobs; nodes {nodes}; "
          f"states {[s.state.value for s in snaps]}; {busy:.2f} of {psutil.cpu_count()} "
          "cores busy on average", flush=True)
    return wall, lost


def _busy_cores(before: Any, after: Any, wall_s: float) -> float:
    """Cores of this machine busy on average between two ``psutil.cpu_times()`` (all
    processes: the studio, its workers, Ray's own)."""
    idle = (after.idle + getattr(after, "iowait", 0.0)) - (before.idle
                                                          + getattr(before, "iowait", 0.0))
    return psutil.cpu_count() - idle / wall_s


def sequential(parent: Path, args: argparse.Namespace) -> float:
    manager = TrainingManager(studio_root(parent, "embedded"))
    manager.start()
    try:
        return run_jobs(manager, args, "embedded")[0]
    finally:
        manager.close()


def on_cluster(parent: Path, args: argparse.Namespace) -> tuple[float, int]:
    from ray.cluster_utils import Cluster

    from yolo_studio.training.ray_executor import RayExecutor

    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 0, "env_vars": {NODE_DIR_ENV: str(parent / "head")}})
    try:
        for i in range(NODES):
            cluster.add_node(num_cpus=1, env_vars={NODE_DIR_ENV: str(parent / f"node{i}")})
        cluster.wait_for_nodes()
        manager = TrainingManager(studio_root(parent, "clustered"),
                                  executor=RayExecutor(cluster.address))
        manager.start()
        try:
            return run_jobs(manager, args, "cluster")
        finally:
            manager.close()
    finally:
        cluster.shutdown()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--imgsz", type=int, default=64)
    args = parser.parse_args()
    if os.environ.get(IN_NETNS_ENV) != "1":  # again, inside a loopback-only namespace
        env = dict(os.environ, **{IN_NETNS_ENV: "1"})
        return subprocess.call(["unshare", "--net", "bash", "-c",
                                'ip link set lo up && exec "$@"', "netns", sys.executable,
                                *sys.argv], env=env)
    # the studio checks a base model at Start with Ultralytics, imported once per process:
    # imported here, so that neither side's first Start pays for it
    UltralyticsBackend().check_base_model("yolo11n.yaml")
    with tempfile.TemporaryDirectory(prefix="yolo-bench-cluster-") as tmp:
        parent = Path(tmp)
        seq_wall = sequential(parent, args)
        cluster_wall, lost = on_cluster(parent, args)
    print(f"sequential {seq_wall:.1f} s, cluster {cluster_wall:.1f} s", flush=True)
    print(f"speedup={seq_wall / cluster_wall:.2f} jobs={args.jobs} nodes={NODES} lost={lost}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
