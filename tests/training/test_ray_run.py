"""How the studio follows a job's Ray task (``ray_run.RayRun``) when the task's node dies and
Ray never ends the task or hands over its result: the studio must end the job itself, never
wait forever. Ray's API is a double here (``FakeRay``: the calls ``RayRun`` makes, with Ray's
real exception classes); the two-node cluster in ``tests/cluster`` kills real nodes."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.importorskip("ray")

import ray.exceptions  # noqa: E402

from yolo_studio.errors import NodeLostError, TrainingError  # noqa: E402
from yolo_studio.training import ray_run  # noqa: E402
from yolo_studio.training.events import ABORT  # noqa: E402
from yolo_studio.training.ray_run import RayRun  # noqa: E402

NODE = "a1b2c3d4e5f6"
TASK = object()  # the task's ObjectRef
#: Calls of wait/get (each waits its timeout, 1 ms) after which the double says the studio
#: waited forever: 40 times the time it has to give up (``NODE_GONE_S``, set to 0.05 s).
FOREVER = 2000


class FakeRay:
    """The Ray calls ``RayRun`` makes, over one task on node ``NODE``.

    Args:
        task_done: Whether ``wait`` reports the task ended.
        result: What ``get`` of the task returns once ``result_after`` calls timed out;
            None: it never comes (every ``get`` with a timeout raises ``GetTimeoutError``).
    """

    exceptions = ray.exceptions

    def __init__(self, task_done: bool, result: dict | None = None,
                 result_after: int = 0) -> None:
        self.task_done, self.result, self.result_after = task_done, result, result_after
        self.node_alive = False
        self.cancelled: list[object] = []
        self.calls = 0
        self.items = [("placed", f"127.0.0.1 (node {NODE[:8]})", NODE, 4321)]

    def _count(self) -> None:
        self.calls += 1
        if self.calls > FOREVER:
            raise AssertionError("the studio kept waiting for a task whose node is dead")

    def wait(self, refs: list, timeout: float, fetch_local: bool = True) -> tuple:
        self._count()
        time.sleep(timeout)
        return (list(refs), []) if self.task_done else ([], list(refs))

    def get(self, what: object, timeout: float | None = None) -> object:
        self._count()
        if what is not TASK:  # the channel's pull
            items, self.items = self.items, []
            return items
        if timeout is None:
            raise AssertionError("ray.get of the task without a timeout waits forever")
        if self.result is None or self.calls <= self.result_after:
            time.sleep(timeout)
            raise ray.exceptions.GetTimeoutError("not yet")
        return self.result

    def nodes(self) -> list[dict]:
        return [{"NodeID": NODE, "Alive": self.node_alive}, {"NodeID": "other", "Alive": True}]

    def cancel(self, ref: object, force: bool = False) -> None:
        self.cancelled.append(ref)


class Channel:
    """The ``JobChannel`` handle: ``pull.remote`` returns a marker ``FakeRay.get`` resolves."""

    def __init__(self) -> None:
        self.pull = SimpleNamespace(remote=lambda job_id: "pull")
        self.set_control = SimpleNamespace(remote=lambda job_id, message: None)


def _hooks(abort: bool = False) -> SimpleNamespace:
    logs: list[str] = []
    return SimpleNamespace(should_abort=lambda: abort, should_stop=lambda: abort,
                           log=logs.append, on_node=lambda name: None, logs=logs)


def _run(fake: FakeRay, run_dir: Path, abort: bool = False) -> RayRun:
    executor = SimpleNamespace(ray=fake, poll_s=0.001, cancel_grace_s=3600.0,
                               hang_timeout_s=3600.0)
    return RayRun(executor, "job-1", TASK, Channel(), _hooks(abort), run_dir)


@pytest.fixture(autouse=True)
def _quick_checks(monkeypatch) -> None:
    monkeypatch.setattr(ray_run, "NODE_CHECK_S", 0.01)
    monkeypatch.setattr(ray_run, "NODE_GONE_S", 0.05)
    monkeypatch.setattr(ray_run, "FETCH_WAIT_S", 0.001)


def test_a_dead_node_whose_task_never_ends_interrupts_the_job(tmp_path):
    fake = FakeRay(task_done=False)
    with pytest.raises(NodeLostError, match="died or left the cluster"):
        _run(fake, tmp_path).run()
    assert fake.cancelled == [TASK]


def test_a_dead_node_whose_finished_task_s_result_never_comes_interrupts_the_job(tmp_path):
    fake = FakeRay(task_done=True)
    with pytest.raises(NodeLostError, match="Retry it: none of its epochs"):
        _run(fake, tmp_path).run()
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "last.pt").write_bytes(b"weights of epoch 2")
    with pytest.raises(NodeLostError, match="Resume it to go on from its last saved epoch"):
        _run(FakeRay(task_done=True), tmp_path).run()


def test_a_live_node_s_slow_result_is_waited_for(tmp_path):
    reply = {"reply": ("error", "TrainingError", "CUDA out of memory"), "files": {}}
    fake = FakeRay(task_done=True, result=reply, result_after=200)
    fake.node_alive = True
    with pytest.raises(TrainingError, match="CUDA out of memory") as raised:
        _run(fake, tmp_path).run()
    assert not isinstance(raised.value, NodeLostError) and fake.cancelled == []


def test_a_cancelled_job_whose_node_died_ends_cancelled(tmp_path):
    outcome = _run(FakeRay(task_done=False), tmp_path, abort=True).run()
    assert outcome.stopped and outcome.best_weights is None
