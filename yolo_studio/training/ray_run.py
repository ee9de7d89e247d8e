"""``RayRun``: one job's Ray task, followed from the studio (``RayExecutor.train``).

Events go to the job's hooks, stop requests to the task, run files into the studio's run
folder; the task's end (a reply, a node lost, a kill) becomes an outcome or an error.
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path
from typing import Any

from ..errors import NodeLostError, TrainingError
from ..resources.status import status_from_dict
from .events import ABORT, STOP, deliver, error_from_message, outcome_from_dict
from .executors import cancelled_outcome
from .hooks import TrainHooks, TrainOutcome

#: Seconds after the cancel grace before a cancelled task is force-cancelled by Ray.
CANCEL_MARGIN_S = 5.0
#: Seconds between two checks that the job's node is alive in Ray's view (``ray.nodes()``).
NODE_CHECK_S = 5.0
#: Seconds after Ray first reports the job's node dead within which Ray must end its task (or
#: hand over its result); after that the studio ends the job itself, INTERRUPTED.
NODE_GONE_S = 30.0
#: Seconds one ``ray.get`` of a finished task's result may take (the run folder's files,
#: hundreds of MB for large models over a slow network) before the node's liveness is checked.
FETCH_WAIT_S = 30.0


class RayRun:
    """One job's task, followed from the studio: events to ``hooks``, stop requests to the
    task, files to ``run_dir``, and its end (a reply, a node lost, a kill) to an outcome or
    an error."""

    def __init__(self, executor: Any, job_id: str, ref: Any, channel: Any,
                 hooks: TrainHooks, run_dir: Path) -> None:
        self.executor, self.job_id, self.ref, self.channel = executor, job_id, ref, channel
        self.hooks, self.run_dir = hooks, run_dir
        self.ray = executor.ray
        self.node: str | None = None
        self.node_id: str | None = None
        self.sent: str | None = None
        self.epochs_done = 0
        self.last_event = time.monotonic()
        self.node_checked = float("-inf")
        self.gone_since: float | None = None  # when Ray first reported the node dead

    def run(self) -> TrainOutcome:
        """Follow the task to its end.

        Raises:
            TrainingError: the training's own error, its task failed, or it made no progress
                for the hang timeout.
            NodeLostError: its node (or the channel's) died; a cancelled job ends CANCELLED.
        """
        try:
            return self._follow()
        except NodeLostError:
            if self.sent == ABORT:  # cancelled meanwhile: nothing is kept either way
                return self._cancelled()
            raise

    def _follow(self) -> TrainOutcome:
        abort_deadline = None
        while True:
            self._control()
            if self.sent == ABORT and abort_deadline is None:
                abort_deadline = (time.monotonic() + self.executor.cancel_grace_s
                                  + CANCEL_MARGIN_S)
            # the result is fetched by _result, which gives up when its node is gone
            done, _ = self.ray.wait([self.ref], timeout=self.executor.poll_s,
                                    fetch_local=False)
            self._take(self._pull())
            if done:
                return self._result()
            self._check_node()
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

    def _check_node(self) -> None:
        """Raise ``NodeLostError`` once the job's node has been dead in Ray's view for
        ``NODE_GONE_S`` seconds while its task neither ended nor handed over its result
        (checked every ``NODE_CHECK_S`` seconds)."""
        now = time.monotonic()
        if self.node_id is None or now - self.node_checked < NODE_CHECK_S:
            return
        self.node_checked = now
        if self.node_id in self._alive_nodes():
            self.gone_since = None
            return
        self.gone_since = now if self.gone_since is None else self.gone_since
        if now - self.gone_since >= NODE_GONE_S:
            self.ray.cancel(self.ref, force=True)
            raise self._lost(None)

    def _alive_nodes(self) -> set[str]:
        """The ids of the nodes alive in Ray's view now."""
        return {n.get("NodeID") for n in self.ray.nodes() if n.get("Alive")}

    def _fetch(self) -> Any:
        """The task's result (``ray_task.run_job``'s dict), fetched from its node; between two
        ``ray.get`` calls of ``FETCH_WAIT_S`` each, the node's liveness is checked.

        Raises:
            ray.exceptions.RayError: the task failed, was cancelled, or its result was lost.
            NodeLostError: the node died and Ray kept neither the result nor an error.
        """
        while True:
            try:
                return self.ray.get(self.ref, timeout=FETCH_WAIT_S)
            except self.ray.exceptions.GetTimeoutError:
                self._check_node()

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
        return cancelled_outcome(self.run_dir, self.epochs_done)

    def _result(self) -> TrainOutcome:
        try:
            result = self._fetch()
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

    def _lost(self, err: Exception | None) -> TrainingError:
        """The error for a task that ended without a reply (``err``: Ray's error; None when
        the studio gave up on a dead node): its node died or left (``NodeLostError``,
        resumable), or only its process did."""
        where = self.node or "a node of the cluster"
        if (err is None or isinstance(err, self.ray.exceptions.NodeDiedError)
                or (self.node_id is not None and self.node_id not in self._alive_nodes())):
            last = self.run_dir / "weights" / "last.pt"
            how = ("Resume it to go on from its last saved epoch, on any node."
                   if last.is_file() else "Retry it: none of its epochs was saved yet.")
            return NodeLostError(f"The Ray node that trained this job ({where}) died or left "
                                 f"the cluster. {how}")
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        return TrainingError(f"The job's Ray task on {where} failed: {type(err).__name__}: "
                             f"{first}")


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
