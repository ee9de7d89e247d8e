"""``RayExecutor``: the studio's jobs as Ray tasks on a cluster, several at once.

Each job becomes a task (``ray_task.run_job``) that asks Ray for the CPUs (``cpus_per_job``)
and GPUs its config needs: ``device`` ``cpu`` none; ``0`` (any one GPU) one; ``0,1`` two
(DDP on the node Ray picks); automatic (``""``, ``-1``) one when the cluster has GPUs, else
none. The manager starts the next queued job when ``has_room`` says the cluster can place it
now, so jobs start in queue order and never wait inside Ray. Tasks are never retried by Ray
(``max_retries=0``): a job runs once, and a node that dies ends it INTERRUPTED
(``NodeLostError``), resumable from the last.pt the studio received. Cancel sends ``abort`` as
locally; the task's own worker process is killed after the cancel grace on the node, and the
task itself is force-cancelled (``ray.cancel(force=True)``) ``CANCEL_MARGIN_S`` later.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from pathlib import Path
from typing import Any

from ..config import TrainingConfig, device_gpus
from ..errors import NodeLostError, TrainingError, ValidationError
from .events import ABORT, STOP, deliver, error_from_message, outcome_from_dict
from .executors import CANCEL_GRACE_S, hang_timeout_from
from .hooks import STOP_REQUESTED, TrainHooks, TrainOutcome
from ..resources.status import status_from_dict
from .ray_cluster import connect
from .ray_task import JobChannel, run_job, zip_dataset

#: Seconds after the cancel grace before a cancelled task is force-cancelled by Ray.
CANCEL_MARGIN_S = 5.0
#: The resource Ray gives the head node only.
HEAD_RESOURCE = "node:__internal_head__"
#: Seconds after a job is placed before the cluster's free resources count it (Ray's
#: resource view lags the placement slightly).
SETTLE_S = 1.0


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
        TrainingError: Ray is missing or the cluster cannot be reached.
    """

    concurrent = True
    node = None  # known when a job starts

    def __init__(self, address: str, cpus_per_job: int = 1,
                 cancel_grace_s: float = CANCEL_GRACE_S, hang_timeout_s: float | None = None,
                 poll_s: float = 0.2, num_cpus: int | None = None) -> None:
        if cpus_per_job < 1:
            raise ValidationError(f"CPUs per job must be 1 or more (got {cpus_per_job}).")
        self.address = address
        self.ray, self._connected = connect(address, num_cpus)
        self.cpus_per_job = cpus_per_job
        self.cancel_grace_s = cancel_grace_s
        self.hang_timeout_s = hang_timeout_from() if hang_timeout_s is None else hang_timeout_s
        self.poll_s = poll_s
        self._lock = threading.Lock()
        self._unplaced: set[str] = set()  # submitted, not yet running on a node
        self._placed_at = float("-inf")
        self._datasets: dict[str, Any] = {}  # content hash -> ObjectRef of its zip
        #: Returns True while other jobs wait in the queue (the manager sets it): a node then
        #: starts its next worker process while this job trains.
        self.jobs_waiting = lambda: False
        self._channel: Any = None  # the JobChannel actor, made with the first job
        self._channel_lock = threading.Lock()
        self._task = self.ray.remote(max_retries=0)(run_job)

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
        """True when the cluster can place ``job`` (a ``JobRecord``) now: no job let through
        before it still waits for a node, and its resources are free (a job no node could
        ever run is let through: ``train`` says why it cannot run). A job let through counts
        as waiting for a node until it is placed or ``job_ended``.
        """
        with self._lock:
            if self._unplaced or time.monotonic() - self._placed_at < SETTLE_S:
                return False
        need = self.resources(str(job.config.get("device", "")))
        room = (not any(_fits(need, node) for node in self._nodes())
                or _fits(need, self.ray.available_resources()))
        if room:
            with self._lock:
                self._unplaced.add(job.job_id)
        return room

    def job_ended(self, job_id: str) -> None:
        """The manager is done with job ``job_id`` (trained or not: a job cancelled before it
        was sent never reaches ``train``)."""
        with self._lock:
            self._unplaced.discard(job_id)

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
                "prestart": bool(self.jobs_waiting())}
        with self._lock:
            self._unplaced.add(job_id)
        try:
            ref = self._task.options(num_cpus=need["CPU"], num_gpus=need.get("GPU", 0),
                                     name=f"yolo-studio {job_id}").remote(
                spec, box, digest, channel, carried, options)
            return _RayRun(self, job_id, ref, channel, hooks, run_dir).run()
        finally:
            with self._lock:
                self._unplaced.discard(job_id)
            channel.forget.remote(job_id)

    def placed(self, job_id: str) -> None:
        """The job's task runs on a node now (``_RayRun`` calls it)."""
        with self._lock:
            self._unplaced.discard(job_id)
            self._placed_at = time.monotonic()

    def _job_channel(self) -> Any:
        """The studio's ``JobChannel`` actor (one for all jobs), made on first use, and
        again if it died with its node."""
        with self._channel_lock:
            if self._channel is not None:
                try:
                    self.ray.get(self._channel.pull.remote(""), timeout=10)
                    return self._channel
                except self.ray.exceptions.RayError:
                    pass
            self._channel = self.ray.remote(num_cpus=0)(JobChannel).options(
                **self._near_studio()).remote()
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


class _RayRun:
    """One job's task, followed from the studio: events to ``hooks``, stop requests to the
    task, files to ``run_dir``, and its end (a reply, a node lost, a kill) to an outcome or
    an error."""

    def __init__(self, executor: RayExecutor, job_id: str, ref: Any, channel: Any,
                 hooks: TrainHooks, run_dir: Path) -> None:
        self.executor, self.job_id, self.ref, self.channel = executor, job_id, ref, channel
        self.hooks, self.run_dir = hooks, run_dir
        self.ray = executor.ray
        self.node: str | None = None
        self.node_id: str | None = None
        self.sent: str | None = None
        self.epochs_done = 0
        self.last_event = time.monotonic()

    def run(self) -> TrainOutcome:
        abort_deadline = None
        while True:
            self._control()
            if self.sent == ABORT and abort_deadline is None:
                abort_deadline = (time.monotonic() + self.executor.cancel_grace_s
                                  + CANCEL_MARGIN_S)
            done, _ = self.ray.wait([self.ref], timeout=self.executor.poll_s)
            self._take(self._pull())
            if done:
                return self._result()
            now = time.monotonic()
            if abort_deadline is not None and now > abort_deadline:
                self.hooks.log("The job did not stop in time after the cancel; its Ray task "
                               "was cancelled.")
                self.ray.cancel(self.ref, force=True)
                return self._cancelled()
            if now - self.last_event > self.executor.hang_timeout_s + CANCEL_MARGIN_S:
                self.ray.cancel(self.ref, force=True)
                raise TrainingError(f"Training on {self.node or 'the cluster'} made no "
                                    f"progress for {self.executor.hang_timeout_s / 60:g} min, "
                                    "so the studio cancelled its Ray task; retry or resume it.")

    def _pull(self) -> list[tuple]:
        """The channel's new items; a channel that died (its node did) ends the job."""
        try:
            return self.ray.get(self.channel.pull.remote(self.job_id))
        except self.ray.exceptions.RayActorError as err:
            self.ray.cancel(self.ref, force=True)
            raise NodeLostError(f"The Ray node holding this job's event channel died, so the "
                                f"job ({self.node or 'on the cluster'}) was stopped; resume "
                                "or retry it.") from err

    def _control(self) -> None:
        message = (ABORT if self.hooks.should_abort() else
                   STOP if self.hooks.should_stop() else None)
        if message is not None and message != self.sent and self.sent != ABORT:
            self.channel.set_control.remote(self.job_id, message)
            self.sent = message

    def _take(self, items: list[tuple]) -> None:
        for item in items:
            self.last_event = time.monotonic()
            if item[0] == "placed":
                self.node, self.node_id = item[1], item[2]
                self.executor.placed(self.job_id)
                self.hooks.on_node(item[1])  # type: ignore[attr-defined]
                self.hooks.log(f"Training on {item[1]}, in process {item[3]} there.")
            elif item[0] == "files":
                _write_files(self.run_dir, item[1])
            elif item[0] == "resources" and hasattr(self.hooks, "on_node_reading"):
                self.hooks.on_node_reading(status_from_dict(item[1]))
            elif item[0] == "hook":
                if item[1] == "on_epoch_end":
                    self.epochs_done = max(self.epochs_done, int(item[2]["metrics"]["epoch"]))
                deliver(self.hooks, item[1], item[2])

    def _cancelled(self) -> TrainOutcome:
        return TrainOutcome(save_dir=self.run_dir, best_weights=None,
                            epochs_completed=self.epochs_done, stopped=True,
                            stop_reason=STOP_REQUESTED)

    def _result(self) -> TrainOutcome:
        try:
            result = self.ray.get(self.ref)
        except self.ray.exceptions.TaskCancelledError:
            return self._cancelled()
        except self.ray.exceptions.RayError as err:
            if self.sent == ABORT:
                return self._cancelled()
            raise self._lost(err) from err
        _write_files(self.run_dir, result["files"])
        reply = result["reply"]
        if self.sent == ABORT:  # cancelled: whatever the end, nothing is kept
            return self._cancelled()
        if reply[0] == "error":
            raise error_from_message(reply[1], reply[2])
        best = self.run_dir / "weights" / "best.pt"  # the node's paths become the studio's
        return dataclasses.replace(outcome_from_dict(reply[1]), save_dir=self.run_dir,
                                   best_weights=best if best.is_file() else None)

    def _lost(self, err: Exception) -> TrainingError:
        """The error for a task that ended without a reply: its node died or left
        (``NodeLostError``, resumable), or only its process did."""
        where = self.node or "a node of the cluster"
        alive = {n.get("NodeID") for n in self.ray.nodes() if n.get("Alive")}
        if (isinstance(err, self.ray.exceptions.NodeDiedError)
                or (self.node_id is not None and self.node_id not in alive)):
            last = self.run_dir / "weights" / "last.pt"
            how = ("Resume it to go on from its last saved epoch, on any node."
                   if last.is_file() else "Retry it: none of its epochs was saved yet.")
            return NodeLostError(f"The Ray node that trained this job ({where}) died or left "
                                 f"the cluster. {how}")
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        return TrainingError(f"The job's Ray task on {where} failed: {type(err).__name__}: "
                             f"{first}")


def _fits(need: dict[str, float], free: dict[str, float]) -> bool:
    return all(free.get(key, 0.0) >= value for key, value in need.items())


def _describe(resources: dict[str, float]) -> str:
    return f"{resources.get('GPU', 0):g} GPU(s) and {resources.get('CPU', 0):g} CPU(s)"


def _carried(run_dir: Path) -> dict[str, bytes]:
    """The files a resumed job takes to its node: last.pt and results.csv of its run."""
    names = ("weights/last.pt", "results.csv")
    return {rel: (run_dir / rel).read_bytes() for rel in names if (run_dir / rel).is_file()}


def _write_files(run_dir: Path, files: dict[str, bytes]) -> None:
    """Write a task's run files under ``run_dir``, each replaced atomically."""
    for rel, data in files.items():
        path = run_dir / rel
        if ".." in Path(rel).parts or Path(rel).is_absolute():
            continue  # only files inside the run folder
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
