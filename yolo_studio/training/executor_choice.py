"""Which executor trains the studio's jobs: a worker process per job on this machine (the
default), or a Ray cluster (``--ray ADDRESS`` / ``$YOLO_STUDIO_RAY_ADDRESS``). Ray is imported
only in the second case."""

from __future__ import annotations

from typing import Any

from .executors import ProcessExecutor, hang_timeout_from
from .ray_cluster import ray_address_from

#: Default CPUs each job asks a Ray cluster for (``--ray-cpus-per-job``).
RAY_CPUS_PER_JOB = 1


def make_executor(ray: str | None = None, cpus_per_job: int = RAY_CPUS_PER_JOB,
                  hang_timeout_min: str | float | None = None) -> Any:
    """The executor for these options.

    Args:
        ray: ``--ray``'s value (None: ``$YOLO_STUDIO_RAY_ADDRESS``, else no cluster).
        cpus_per_job: CPUs each job asks the cluster for.
        hang_timeout_min: ``--hang-timeout`` in minutes (None: the environment, else 30).

    Raises:
        ValidationError: a bad address, CPU count or hang timeout.
        TrainingError: Ray is not installed (with the pip command) or the cluster cannot be
            reached.
    """
    hang_timeout_s = hang_timeout_from(hang_timeout_min)
    address = ray_address_from(ray)
    if address is None:
        return ProcessExecutor(hang_timeout_s=hang_timeout_s)
    from .ray_executor import RayExecutor

    return RayExecutor(address, cpus_per_job=cpus_per_job, hang_timeout_s=hang_timeout_s)
