"""What runs on a Ray node for one job (``run_job``), and the channel its events go through.

The task trains the job exactly as the studio does on its own machine: a ``ProcessExecutor``
starts the same worker process (``python -m yolo_studio.training.worker``) on the node, with
the same cancel grace, hang timeout and death causes. Its hooks are a ``RelayHooks``, which
batches every hook call into a ``JobChannel`` actor that the studio reads, and takes the
studio's ``stop`` / ``abort`` from the actor's replies.

Nodes share no disk with the studio: the dataset comes as a zip from Ray's object store and is
unpacked once per content hash under the node's folder (``$YOLO_STUDIO_NODE_DIR``, else
``<user cache>/yolo-studio/ray-node``); a resumed job brings its last.pt and results.csv along;
the run's files go back to the studio (last.pt and results.csv at each epoch's start, every
file of the run folder at the end). The node keeps its copy of the run under
``<node folder>/runs/<job_id>`` until the job runs there again. Imports Ray only inside functions (it runs where Ray is).
"""

from __future__ import annotations

import io
import os
import shutil
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

from .events import ABORT, STOP, EventSink

#: Environment variable naming a node's working folder (set it for `ray start`).
NODE_DIR_ENV = "YOLO_STUDIO_NODE_DIR"
#: Seconds between two pushes of a running job's events to its channel.
FLUSH_S = 0.1
#: Seconds between two resource readings of the node sent to the studio.
READING_EVERY_S = 2.0
#: Files of a run sent to the studio while it trains (at an epoch's start).
PROGRESS_FILES = ("weights/last.pt", "results.csv")


def node_dir() -> Path:
    """This node's working folder (datasets by content hash, runs by job id)."""
    configured = os.environ.get(NODE_DIR_ENV)
    if configured:
        return Path(configured)
    import platformdirs

    return Path(platformdirs.user_cache_dir("yolo-studio")) / "ray-node"


class JobChannel:
    """A Ray actor between the jobs' tasks and the studio (one per studio): per job, events
    one way and control the other.

    Events are ``("hook", method, kwargs)`` (``events.EventSink``'s wire), ``("placed",
    node name, node id, training process id)``, ``("files", {relative path: bytes})`` and
    ``("resources", status_to_dict(ResourceStatus))`` (the node's readings).
    """

    def __init__(self) -> None:
        self._items: dict[str, list[tuple]] = {}
        self._control: dict[str, str] = {}

    def push(self, job_id: str, items: list[tuple]) -> str | None:
        """Queue ``items`` of job ``job_id`` for the studio; returns the job's control
        message (None, stop, abort)."""
        self._items.setdefault(job_id, []).extend(items)
        return self._control.get(job_id)

    def pull(self, job_id: str) -> list[tuple]:
        """The items of job ``job_id`` pushed since the last pull, in order."""
        return self._items.pop(job_id, [])

    def set_control(self, job_id: str, message: str) -> None:
        """``stop`` or ``abort`` for job ``job_id`` (an abort is never taken back)."""
        if self._control.get(job_id) != ABORT:
            self._control[job_id] = message

    def forget(self, job_id: str) -> None:
        """Drop what is kept for a job that ended."""
        self._items.pop(job_id, None)
        self._control.pop(job_id, None)


class RelayHooks(EventSink):
    """``TrainHooks`` of a task: each call is queued and pushed to the ``JobChannel`` by a
    thread every ``FLUSH_S`` seconds; the reply sets ``should_stop`` / ``should_abort``.
    At an epoch's start (after the first) the run's last.pt and results.csv follow, when they
    changed, so the studio can resume the job elsewhere if this node dies, and the first
    epoch's train-batch mosaics (the Monitor's augmentation preview).

    Args:
        channel: The studio's ``JobChannel`` actor handle.
        job_id: The job's id.
        run_dir: The run folder on this node.
    """

    def __init__(self, channel: Any, job_id: str, run_dir: Path) -> None:
        super().__init__("", b"")
        self._channel, self._job_id, self._run_dir = channel, job_id, run_dir
        self._items: list[tuple] = []
        self._control: str | None = None
        self._sent: dict[str, tuple[int, int]] = {}
        self._monitor: Any = None
        self._last_reading = float("-inf")
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._pump, name="relay-hooks", daemon=True)
        self._thread.start()

    def _send(self, method: str, **kwargs: Any) -> None:
        self.push(("hook", method, kwargs))
        if method == "on_epoch_start" and kwargs["epoch"] > 1:  # and the first epoch's mosaics
            mosaics = tuple(p.name for p in sorted(self._run_dir.glob("train_batch*.jpg")))
            self.send_files(PROGRESS_FILES + mosaics)

    def push(self, item: tuple) -> None:
        """Queue one item for the studio."""
        with self._lock:
            self._items.append(item)

    def send_files(self, names: tuple[str, ...] | None = None) -> None:
        """Queue the run's files named ``names`` (all of them when None) that changed since
        they were last sent (size or mtime)."""
        files = {}
        for rel in names if names is not None else run_files(self._run_dir):
            path = self._run_dir / rel
            try:
                stat = path.stat()
                if self._sent.get(rel) != (stat.st_size, stat.st_mtime_ns):
                    files[rel] = path.read_bytes()
                    self._sent[rel] = (stat.st_size, stat.st_mtime_ns)
            except FileNotFoundError:
                continue
        if files:
            self.push(("files", files))

    def _read_control(self) -> None:
        self._stop = self._stop or self._control in (STOP, ABORT)
        self._abort = self._abort or self._control == ABORT

    def _reading(self) -> None:
        """Queue a resource reading of this node (GPU memory, RAM, CPU) every
        ``READING_EVERY_S`` seconds."""
        from ..resources.monitor import ResourceMonitor
        from ..resources.status import status_to_dict

        now = time.monotonic()
        if now - self._last_reading < READING_EVERY_S:
            return
        self._last_reading = now
        if self._monitor is None:
            self._monitor = ResourceMonitor()
        self.push(("resources", status_to_dict(self._monitor.check())))

    def _pump(self) -> None:
        import ray

        while True:
            closing = self._closing.wait(FLUSH_S)
            self._reading()
            with self._lock:
                items, self._items = self._items, []
            self._control = (ray.get(self._channel.push.remote(self._job_id, items))
                             or self._control)
            if closing:
                return

    def close(self) -> None:
        """Push what is left and stop the thread."""
        self._closing.set()
        self._thread.join()


def run_files(run_dir: Path) -> list[str]:
    """The files of a run folder that go back to the studio: weights/*.pt and every file at
    the top (results.csv, args.yaml, plots), as paths relative to ``run_dir``."""
    names = [p.name for p in sorted(run_dir.glob("*")) if p.is_file()]
    return names + [f"weights/{p.name}" for p in sorted(run_dir.glob("weights/*.pt"))]


def zip_dataset(folder: Path, data: dict[str, Any]) -> bytes:
    """The dataset ``folder`` as a zip, with ``data`` (its resolved data.yaml) as
    ``data.yaml``: ``path`` dropped (the node sets its own) and absolute split paths inside
    the folder made relative. Ultralytics' label caches are left out."""
    import yaml

    data = {k: v for k, v in data.items() if k != "path"}
    for split in ("train", "val", "test"):
        if isinstance(data.get(split), str) and Path(data[split]).is_absolute():
            try:
                data[split] = str(Path(data[split]).relative_to(folder))
            except ValueError:
                pass
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder).as_posix()
            if path.is_file() and not rel.endswith(".cache") and rel not in (
                    "data.yaml", ".studio_data.yaml"):
                archive.write(path, rel)
        archive.writestr("data.yaml", yaml.safe_dump(data, sort_keys=False,
                                                     allow_unicode=True))
    return buffer.getvalue()


def unpacked_dataset(root: Path, digest: str, box: list) -> Path:
    """``root/datasets/<digest>/data.yaml``, unpacked from ``box[0]`` (an ObjectRef of
    ``zip_dataset``'s bytes) unless this node has it already; safe when several tasks of the
    node ask at once."""
    import filelock
    import ray
    import yaml

    target = root / "datasets" / digest
    data_yaml = target / "data.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    with filelock.FileLock(str(target) + ".lock"):
        if not data_yaml.is_file():
            tmp = target.with_name(f".{digest}.tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            with zipfile.ZipFile(io.BytesIO(ray.get(box[0]))) as archive:
                archive.extractall(tmp)
            data = yaml.safe_load((tmp / "data.yaml").read_text(encoding="utf-8"))
            data["path"] = str(target)
            (tmp / "data.yaml").write_text(yaml.safe_dump(data, sort_keys=False,
                                                          allow_unicode=True), encoding="utf-8")
            os.replace(tmp, target)
    return data_yaml


def _placement(pid: int | None) -> tuple[str, str, str, int | None]:
    """``("placed", "<ip> (node <id prefix>)", node id, pid)`` for this task's node; ``pid``:
    the worker process that will train the job."""
    import ray

    node_id = ray.get_runtime_context().get_node_id()
    return ("placed", f"{ray.util.get_node_ip_address()} (node {node_id[:8]})", node_id, pid)


def _device_on_node(config: Any) -> Any:
    """``config`` with ``device`` naming the GPUs Ray gave this task (it sets
    CUDA_VISIBLE_DEVICES, so they count from 0), or cpu when it gave none."""
    import dataclasses

    import ray

    gpus = len(ray.get_gpu_ids())
    device = ",".join(str(i) for i in range(gpus)) if gpus else "cpu"
    return dataclasses.replace(config, device=device)


#: This Ray worker process's ``ProcessExecutor`` and its options (``_node_executor``).
_EXECUTOR: dict[str, Any] = {}


def _node_executor(options: dict[str, Any], reuse: bool) -> Any:
    """The ``ProcessExecutor`` for a task. Ray runs a node's CPU tasks in worker processes it
    keeps for the next ones, so with ``reuse`` the executor (and its standby worker process,
    started while the job trains and kept after it) serves this process's next task too: a
    job there waits for no import. GPU tasks get a fresh Ray worker each (Ray's
    ``max_calls=1``), hence a fresh executor (``reuse`` False)."""
    from .executors import ProcessExecutor

    kept = _EXECUTOR.get("executor")
    if kept is not None and _EXECUTOR.get("options") == options and reuse:
        return kept
    if kept is not None:
        kept.close()
    executor = ProcessExecutor(**options)
    if reuse:
        _EXECUTOR.update(executor=executor, options=options)
    else:
        _EXECUTOR.clear()
    return executor


def run_job(spec: dict[str, Any], box: list, digest: str, channel: Any,
            carried: dict[str, bytes], options: dict[str, Any]) -> dict[str, Any]:
    """The Ray task of one job (see the module docstring).

    Args:
        spec: ``{"job_id", "config": TrainingConfig.to_dict(), "resume": bool,
            "prestart": bool}`` (prestart: other jobs wait in the studio's queue).
        box: ``[ObjectRef]`` of the dataset's zip (a list, so Ray does not fetch it unless
            this node lacks the dataset).
        digest: The dataset's content hash (``DatasetInfo.content_hash``).
        channel: The studio's ``JobChannel``.
        carried: Files of the run to put in place first (``weights/last.pt`` and
            ``results.csv`` of a resumed job), relative path -> bytes.
        options: ``cancel_grace_s`` and ``hang_timeout_s`` for the ``ProcessExecutor``.

    Returns:
        ``{"reply": ("outcome", outcome_to_dict(...)) or ("error", kind, message),
        "files": {relative path: bytes}}``: every file of the run folder.
    """
    import ray

    from ..config import TrainingConfig
    from ..errors import StudioError
    from .events import outcome_to_dict

    reuse = not ray.get_gpu_ids()
    executor = _node_executor(options, reuse)
    # with jobs waiting, the next job's worker imports while this one trains
    executor.jobs_waiting = lambda: reuse and bool(spec.get("prestart"))
    executor.prepare()  # its worker imports while the dataset is unpacked
    root = node_dir()
    run_dir = root / "runs" / spec["job_id"]
    shutil.rmtree(run_dir, ignore_errors=True)
    for rel, data in carried.items():
        (run_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        (run_dir / rel).write_bytes(data)
    relay = RelayHooks(channel, spec["job_id"], run_dir)
    relay.push(_placement(executor.standby_pid))
    try:
        data_yaml = unpacked_dataset(root, digest, box)
        config = _device_on_node(TrainingConfig.from_dict(spec["config"]))
        outcome = executor.train(config, data_yaml, run_dir, relay, bool(spec["resume"]))
        reply: tuple = ("outcome", outcome_to_dict(outcome))
    except StudioError as err:
        reply = ("error", type(err).__name__, str(err))
    finally:
        if not reuse:
            executor.close()
        relay.close()
    files = {rel: (run_dir / rel).read_bytes() for rel in run_files(run_dir)}
    return {"reply": reply, "files": files}
