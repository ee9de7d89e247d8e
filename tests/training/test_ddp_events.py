"""The event sink pickles and delivers events from Ultralytics' generated DDP worker script.

A real Ultralytics ``DetectionTrainer`` (``yolo11n.yaml``, a copy of bccd-tiny, imgsz 64, one
epoch, CPU) gets a ``CallbackBridge`` over an ``EventSink`` among its callbacks; Ultralytics' own
``generate_ddp_file`` cloudpickles the trainer class, args, model and callbacks into the script
every DDP rank runs, and the test runs that script as a rank would: under
``python -m torch.distributed.run --nproc_per_node 1`` (Ultralytics' own launch command, loopback
only), which sets ``RANK=0``, ``LOCAL_RANK=0``, ``WORLD_SIZE=1``. One process per rank is all a
CPU allows: Ultralytics treats a CPU device as world size 0 and never sets up a process group,
so several ranks would need GPUs. A rank other than 0 is run directly with ``python`` and
``RANK=1`` (torchrun with one process always makes it rank 0); it trains and sends nothing.
"""

from __future__ import annotations

import math
import os
import secrets
import shutil
import subprocess
import sys
import threading
from multiprocessing.connection import Listener
from pathlib import Path

import pytest
from training_helpers import TINY

from yolo_studio.training.bridge import CallbackBridge
from yolo_studio.training.events import ABORT, EventSink

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SAFETY_S = 300.0  # only a guard against a hung script; no test asserts on time


class Studio:
    """The studio's end: a Listener recording, per accepted connection, the messages it gets;
    ``reply(method, message)`` answers a hook call ``method`` with a control message."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir()
        self.key = secrets.token_bytes(16)
        self.address = str(folder / "socket")
        self.listener = Listener(self.address, family="AF_UNIX", authkey=self.key)
        self.connections: list[list[tuple]] = []
        self.replies: dict[str, str] = {}
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn = self.listener.accept()
            except OSError:
                return
            received: list[tuple] = []
            self.connections.append(received)
            threading.Thread(target=self._read, args=(conn, received), daemon=True).start()

    def _read(self, conn, received: list[tuple]) -> None:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                return
            received.append(message)
            if message[1] in self.replies:
                conn.send(self.replies[message[1]])

    def methods(self) -> list[str]:
        return [m[1] for conn in self.connections for m in conn if m[1] != "log"]

    def calls(self, method: str) -> list[dict]:
        return [m[2] for conn in self.connections for m in conn if m[1] == method]

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def ddp_script(tmp_path, monkeypatch):
    """``make(name, studio) -> script``: Ultralytics' generated DDP script for a one-epoch run
    ``name`` (its own dataset copy and run folder) whose callbacks report to ``studio``."""
    monkeypatch.setenv("YOLO_OFFLINE", "1")  # never download, even on a connected machine
    from ultralytics.models.yolo.detect import DetectionTrainer
    from ultralytics.utils.dist import ddp_cleanup, generate_ddp_file

    made = []

    def make(name: str, studio: Studio) -> str:
        data = shutil.copytree(TINY, tmp_path / f"data-{name}")
        trainer = DetectionTrainer(overrides=dict(
            model="yolo11n.yaml", data=str(data / "data.yaml"), imgsz=64, epochs=1, batch=8,
            workers=0, device="cpu", plots=False, exist_ok=True,
            project=str(tmp_path / "runs"), name=name))
        bridge = CallbackBridge(EventSink(studio.address, studio.key), epochs=1)
        for event, handler in bridge.handlers().items():
            trainer.add_callback(event, handler)
        made.append((trainer, generate_ddp_file(trainer)))  # cloudpickles the callbacks
        return made[-1][1]
    yield make
    for trainer, script in made:
        ddp_cleanup(trainer, script)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "LOCAL_RANK", "WORLD_SIZE")}
    return dict(env, YOLO_OFFLINE="1", YOLO_AUTOINSTALL="False", PYTHONPATH=str(REPO), **extra)


def _torchrun(script: str) -> subprocess.Popen:
    """The script as Ultralytics launches it (``utils/dist.generate_ddp_command``), one rank;
    torchrun's rendezvous store listens on a free port and is reached at 127.0.0.1."""
    from ultralytics.utils.dist import find_free_network_port

    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "1",
               "--master_addr", "127.0.0.1", "--master_port", str(find_free_network_port()),
               script]
    return subprocess.Popen(command, env=_env(), cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _finish(proc: subprocess.Popen) -> tuple[int, str]:
    output, _ = proc.communicate(timeout=SAFETY_S)
    return proc.returncode, output


def test_rank_zero_delivers_real_events_and_another_rank_sends_nothing(tmp_path, ddp_script):
    zero, other = Studio(tmp_path / "zero"), Studio(tmp_path / "other")
    zero_script, other_script = ddp_script("zero", zero), ddp_script("other", other)
    rank_zero = _torchrun(zero_script)
    rank_one = subprocess.Popen([sys.executable, other_script], cwd=REPO, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True,
                                env=_env(RANK="1", LOCAL_RANK="1", WORLD_SIZE="1"))
    (code, output), (other_code, other_output) = _finish(rank_zero), _finish(rank_one)
    zero.close()
    other.close()
    assert code == 0, output[-3000:]
    assert other_code == 0, other_output[-3000:]
    assert len(zero.connections) == 1  # one process sent: rank 0
    assert zero.methods() == ["on_start", "on_epoch_start", "on_batch_end", "on_batch_end",
                              "on_batch_end", "on_epoch_end", "on_final", "on_outcome"]
    start = zero.calls("on_start")[0]
    assert (start["epochs"], start["batches"], start["images"]) == (1, 3, 20)
    epoch = zero.calls("on_epoch_end")[0]["metrics"]
    assert epoch["epoch"] == 1 and math.isfinite(epoch["train_box_loss"])
    assert epoch["map50"] is not None and epoch["val_box_loss"] is not None
    final = zero.calls("on_final")[0]["metrics"]
    assert final["map50"] is not None and final["train_box_loss"] is None
    outcome = zero.calls("on_outcome")[0]["outcome"]
    assert outcome["epochs_completed"] == 1 and not outcome["stopped"]
    assert Path(outcome["best_weights"]).is_file()
    assert outcome["history"][0]["epoch"] == 1 and outcome["final"] == final
    lines = [call["line"] for call in zero.calls("log")]
    assert any("epochs completed" in line for line in lines)  # Ultralytics' own log, rank 0
    assert other.connections == []  # rank 1 trained, but never connected
    assert (tmp_path / "runs" / "other" / "weights" / "best.pt").is_file()


def test_an_abort_sent_to_rank_zero_ends_the_script(tmp_path, ddp_script):
    studio = Studio(tmp_path / "studio")
    studio.replies["on_start"] = ABORT  # the user cancels as soon as training starts
    code, output = _finish(_torchrun(ddp_script("aborted", studio)))
    studio.close()
    assert code != 0 and "RunAborted" in output
    methods = studio.methods()
    assert methods[0] == "on_start" and methods.count("on_batch_end") < 3  # of 3
    assert not {"on_epoch_end", "on_final", "on_outcome"} & set(methods)
    assert not (tmp_path / "runs" / "aborted" / "weights" / "best.pt").exists()
