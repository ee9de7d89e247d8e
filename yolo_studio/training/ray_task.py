"""What runs on a Ray node for one job (``run_job``).

The task trains the job exactly as the studio does on its own machine: a ``ProcessExecutor``
starts the same worker process (``python -m yolo_studio.training.worker``) on the node, with
the same cancel grace, hang timeout and death causes. Its hooks are a ``ray_channel.RelayHooks``,
which batches every hook call into the studio's ``JobChannel`` actor and takes the studio's
``stop`` / ``abort`` from the actor's replies.

Nodes share no disk with the studio: the dataset comes as a zip from Ray's object store and is
unpacked once per content hash under the node's folder (``$YOLO_STUDIO_NODE_DIR``, else
``<user cache>/yolo-studio/ray-node``); a resumed job brings its last.pt and results.csv along;
the run's files go back to the studio (last.pt and results.csv at each epoch's start, every
file of the run folder at the end). The node keeps its copy of the run under
``<node folder>/runs/<job_id>`` until the job runs there again. Imports Ray only inside
functions (it runs where Ray is).
"""

from __future__ import annotations

import io
import os
import shutil
import zipfile
from pathlib import Path
from typing import Any

from .ray_channel import RelayHooks, run_files

#: Environment variable naming a node's working folder (set it for `ray start`).
NODE_DIR_ENV = "YOLO_STUDIO_NODE_DIR"
def node_dir() -> Path:
    """This node's working folder (datasets by content hash, runs by job id)."""
    configured = os.environ.get(NODE_DIR_ENV)
    if configured:
        return Path(configured)
    import platformdirs

    return Path(platformdirs.user_cache_dir("yolo-studio")) / "ray-node"


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
    keeps for the next ones, so with ``reuse`` the executor (and the standby worker process
    it starts while a job trains, when the studio's spec says ``prestart``) serves this
    process's next task too: that job waits for no import. GPU tasks get a fresh Ray worker each (Ray's
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
    # the next job's worker imports while this one trains only when the studio asks for it
    executor.jobs_waiting = lambda: int(reuse and bool(spec.get("prestart")))
    executor.keep_standby = False
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
