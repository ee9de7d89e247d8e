"""``RayExecutor``: the studio's jobs as Ray tasks on a cluster, several at once.

Each job becomes a task (``ray_task.run_job``) that asks Ray for the CPUs (``cpus_per_job``)
and GPUs its config needs: ``device`` ``cpu`` none; ``0`` (any one GPU) one; ``0,1`` two
(DDP on the node Ray picks); automatic (``""``, ``-1``) one when the cluster has GPUs, else
none. The manager starts the next queued job when ``has_room`` says the cluster can place it
now, so jobs start in queue order and never wait inside Ray. Tasks are never retried by Ray
(``max_retries=0``): a job runs once, and a node that dies ends it INTERRUPTED
(``NodeLostError``), resumable from the last.pt the studio received. Cancel sends ``abort`` as
locally; the task's own worker process is killed after the cancel grace on the node, and the
task itself is force-cancelled (``ray.cancel(force=True)``) ``ray_run.CANCEL_MARGIN_S`` later.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..config import TrainingConfig, device_gpus
from ..errors import TrainingError, ValidationError
from .executors import CANCEL_GRACE_S, hang_timeout_from
from .hooks import TrainHooks, TrainOutcome
from .ray_cluster import connect
from .ray_run import RayRun
from .ray_channel import JobChannel
from .ray_task import run_job, zip_dataset

#: The resource Ray gives the head node only.
HEAD_RESOURCE = "node:__internal_head__"
#: Seconds the executor waits, when it connects, for its event channel actor to start.
CHANNEL_START_S = 60.0


class RayExecutor:
    """Trains jobs as Ray tasks (see the module docstring). Thread-safe: the manager calls
    ``train`` from one thread per job.

    Args:
        address: ``ray_cluster.ray_address_from``'s value (``local``, ``auto``, ...).
        cpus_per_job: CPUs each job asks for (Ray also sets the task's OMP_NUM_THREADS).
        cancel_grace_s / hang_timeout_s: As for ``ProcessExecutor`` (used on the node).
        poll_s: Seconds between two reads of a job's events.
        num_cpus: CPUs of a ``local`` instance (None: all of this machine's).

    Raises:
        TrainingError: Ray is missing, the cluster cannot be reached, or the studio's event
            channel actor does not start there.
    """

    concurrent = True
    node = None  # known when a job starts

    def __init__(self, address: str, cpus_per_job: int = 1,
                 cancel_grace_s: float = CANCEL_GRACE_S, hang_timeout_s: float | None = None,
                 poll_s: float = 0.5, num_cpus: int | None = None) -> None:
        if cpus_per_job < 1:
            raise ValidationError(f"CPUs per job must be 1 or more (got {cpus_per_job}).")
        self.address = address
        self.ray, self._connected = connect(address, num_cpus)
        self.cpus_per_job = cpus_per_job
        self.cancel_grace_s = cancel_grace_s
        self.hang_timeout_s = hang_timeout_from() if hang_timeout_s is None else hang_timeout_s
        self.poll_s = poll_s
        self._lock = threading.Lock()
        self._admitted: dict[str, dict[str, float]] = {}  # job id -> resources, until it ends
        self._prestarted: set[str] = set()  # running jobs whose node starts a worker for later
        self._datasets: dict[str, Any] = {}  # content hash -> ObjectRef of its zip
        #: Returns how many jobs wait in the queue (the manager sets it): while more wait than
        #: nodes already start a worker for a later job, a job's node starts one too.
        self.jobs_waiting = lambda: 0
        self._channel: Any = None  # the JobChannel actor, made again if it died
        self._channel_lock = threading.Lock()
        self._task = self.ray.remote(max_retries=0)(run_job)
        self._job_channel(wait_s=CHANNEL_START_S)  # ready before the first job is sent

    # --- what a job asks for -------------------------------------------------------------
    def _nodes(self) -> list[dict[str, float]]:
        return [node["Resources"] for node in self.ray.nodes() if node.get("Alive")]

    def resources(self, device: str) -> dict[str, float]:
        """The Ray resources a job on ``device`` (``TrainingConfig.device``) asks for:
        {"CPU": n, "GPU": m} (no GPU key for none)."""
        device = device.strip().lower()
        if device in ("cpu", "mps"):
            gpus = 0
        elif device in ("", "-1", "cuda"):
            gpus = 1 if any(node.get("GPU", 0) >= 1 for node in self._nodes()) else 0
        else:
            gpus = len(device_gpus(device)) or 1
        need = {"CPU": float(self.cpus_per_job)}
        if gpus:
            need["GPU"] = float(gpus)
        return need

    def check_device(self, device: str) -> None:
        """Raise when no node of the cluster could run a job with ``device``.

        Raises:
            TrainingError: naming what the job asks for and the largest node.
        """
        need = self.resources(device)
        nodes = self._nodes()
        if not any(_fits(need, node) for node in nodes):
            largest = max(nodes, key=lambda n: (n.get("GPU", 0), n.get("CPU", 0)), default={})
            raise TrainingError(
                f"No node of the Ray cluster can run this job: it asks for "
                f"{_describe(need)}, and the largest node has {_describe(largest)}. Pick "
                "fewer GPUs (device), or lower --ray-cpus-per-job.")

    def has_room(self, job: Any) -> bool:
        """True when the cluster can place ``job`` (a ``JobRecord``) now: its resources are
        free both in Ray's view and after the jobs this executor let through (Ray's view
        lags a submission until the task is placed, and a finished task until its resources
        come back). A job no node could ever run is let through: ``train`` says why it cannot
        run. A job let through holds its resources until ``job_ended``.
        """
        need = self.resources(str(job.config.get("device", "")))
        if not any(_fits(need, node) for node in self._nodes()):
            return True
        total, available = self.ray.cluster_resources(), self.ray.available_resources()
        with self._lock:
            room = room_for(need, total, available, self._admitted.values())
            if room:
                self._admitted[job.job_id] = need
        return room

    def job_ended(self, job_id: str) -> None:
        """The manager is done with job ``job_id`` (trained or not: a job cancelled before it
        was sent never reaches ``train``); its resources are free for the next."""
        with self._lock:
            self._admitted.pop(job_id, None)
            self._prestarted.discard(job_id)

    # --- a job ---------------------------------------------------------------------------
    def prepare(self) -> None:
        """Nothing: the nodes start their own worker processes."""

    def release(self, failed: bool) -> None:
        """Nothing: the job's memory went with its task."""

    def close(self) -> None:
        """Disconnect from the cluster if this executor connected this process (a ``local``
        instance stops with it)."""
        if self._connected:
            self.ray.shutdown()

    def train(self, config: TrainingConfig, data_yaml: Path, run_dir: Path, hooks: TrainHooks,
              resume: bool) -> TrainOutcome:
        """Run the job on the cluster; its run folder's files land in ``run_dir``.

        Raises:
            TrainingError: the training's own error, no node can run it, or its task failed.
            NodeLostError: the node running it died (the job is resumable).
        """
        self.check_device(config.device)
        job_id = run_dir.name
        box, digest = self._dataset(data_yaml)
        carried = _carried(run_dir) if resume else {}
        channel = self._job_channel()
        options = {"cancel_grace_s": self.cancel_grace_s, "hang_timeout_s": self.hang_timeout_s}
        need = self.resources(config.device)
        spec = {"job_id": job_id, "config": config.to_dict(), "resume": resume,
                "prestart": self._prestart(job_id, need)}
        try:
            ref = self._task.options(num_cpus=need["CPU"], num_gpus=need.get("GPU", 0),
                                     name=f"yolo-studio {job_id}").remote(
                spec, box, digest, channel, carried, options)
            return RayRun(self, job_id, ref, channel, hooks, run_dir).run()
        finally:
            self.job_ended(job_id)
            channel.forget.remote(job_id)

    def _prestart(self, job_id: str, need: dict[str, float]) -> bool:
        """Whether job ``job_id``'s node starts a worker process for a later job while this
        one trains: only while more jobs wait than the cluster can start at once (``need``:
        the resources of one, as this job's) and than running jobs' nodes already prepare for
        (a worker nobody takes would cost its node an import's CPU during the last jobs)."""
        waiting = int(self.jobs_waiting())
        total, available = self.ray.cluster_resources(), self.ray.available_resources()
        with self._lock:
            startable = 0
            held = list(self._admitted.values())
            while startable < waiting and room_for(need, total, available, held):
                held.append(need)
                startable += 1
            if waiting - startable > len(self._prestarted):
                self._prestarted.add(job_id)
                return True
        return False

    def _job_channel(self, wait_s: float | None = None) -> Any:
        """The studio's ``JobChannel`` actor (one for all jobs), made when the executor
        connects, and again if it died with its node.

        Args:
            wait_s: When given, wait up to this many seconds for a new actor to answer.

        Raises:
            TrainingError: a new actor did not answer within ``wait_s``.
        """
        with self._channel_lock:
            if self._channel is not None:
                try:
                    self.ray.get(self._channel.pull.remote(""), timeout=10)
                    return self._channel
                except self.ray.exceptions.RayError:
                    pass
            self._channel = self.ray.remote(num_cpus=0)(JobChannel).options(
                **self._near_studio()).remote()
            if wait_s is not None:
                try:
                    self.ray.get(self._channel.pull.remote(""), timeout=wait_s)
                except self.ray.exceptions.RayError as err:
                    raise TrainingError(
                        f"The studio's event channel (a Ray actor) did not start on the "
                        f"cluster at {self.address} within {wait_s:g} s "
                        f"({type(err).__name__}); check the cluster with `ray status`."
                    ) from err
            return self._channel

    def _near_studio(self) -> dict[str, Any]:
        """Actor options that keep the channel on the head node (the cluster ends with it
        anyway), so that it outlives the nodes jobs train on; without a head node (Ray
        Client), on this process's node."""
        if self.ray.cluster_resources().get(HEAD_RESOURCE):
            return {"resources": {HEAD_RESOURCE: 0.001}}
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        node_id = self.ray.get_runtime_context().get_node_id()
        return {"scheduling_strategy": NodeAffinitySchedulingStrategy(node_id, soft=True)}

    def _dataset(self, data_yaml: Path) -> tuple[list, str]:
        """``([ObjectRef of the zip], content hash)`` of the dataset ``data_yaml`` belongs
        to, zipped and put in the object store once per content hash."""
        import yaml

        from ..persistence.dataset_store import DatasetStore

        folder = data_yaml.parent
        digest = DatasetStore(folder.parent).get(folder.name).content_hash
        with self._lock:
            ref = self._datasets.get(digest)
        if ref is None:
            data = yaml.safe_load(data_yaml.read_text(encoding="utf-8"))
            ref = self.ray.put(zip_dataset(folder, data))
            with self._lock:
                self._datasets[digest] = ref
        return [ref], digest


def room_for(need: dict[str, float], total: dict[str, float], available: dict[str, float],
             held: Iterable[dict[str, float]]) -> bool:
    """True when ``need`` (Ray resources, e.g. {"CPU": 1.0}) is free both in Ray's view
    (``available``) and in the cluster's ``total`` less the resources ``held`` by jobs already
    let through (Ray counts those only once their tasks are placed)."""
    taken: dict[str, float] = {}
    for resources in held:
        for key, value in resources.items():
            taken[key] = taken.get(key, 0.0) + value
    return all(min(available.get(key, 0.0), total.get(key, 0.0) - taken.get(key, 0.0)) >= value
               for key, value in need.items())


def _fits(need: dict[str, float], free: dict[str, float]) -> bool:
    return all(free.get(key, 0.0) >= value for key, value in need.items())


def _describe(resources: dict[str, float]) -> str:
    return f"{resources.get('GPU', 0):g} GPU(s) and {resources.get('CPU', 0):g} CPU(s)"


def _carried(run_dir: Path) -> dict[str, bytes]:
    """The files a resumed job takes to its node: last.pt and results.csv of its run."""
    names = ("weights/last.pt", "results.csv")
    return {rel: (run_dir / rel).read_bytes() for rel in names if (run_dir / rel).is_file()}
