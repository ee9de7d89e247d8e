"""CallbackBridge in a DDP rank (env RANK/WORLD_SIZE set), over the fake Ultralytics: a graceful
stop waits for the epoch's end (where Ultralytics broadcasts rank 0's flag), a user abort raises
at once, rank 0 forwards Ultralytics' log, each rank caps its own GPU's memory."""

from __future__ import annotations

import logging
import pickle
from types import SimpleNamespace

import cloudpickle
import pytest
import torch
from fake_ultralytics import factory
from training_helpers import RecordingHooks

from yolo_studio.config import TrainingConfig
from yolo_studio.training import bridge as bridge_module
from yolo_studio.training.bridge import CallbackBridge
from yolo_studio.training.hooks import STOP_REQUESTED
from yolo_studio.training.ultralytics_backend import UltralyticsBackend


@pytest.fixture
def rank(monkeypatch):
    """``rank(r, world)``: make this process look like DDP rank ``r`` of ``world``."""
    def set_rank(r: int, world: int = 2) -> None:
        monkeypatch.setenv("RANK", str(r))
        monkeypatch.setenv("LOCAL_RANK", str(r))
        monkeypatch.setenv("WORLD_SIZE", str(world))
    for name in ("RANK", "LOCAL_RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    return set_rank


class _RequestAt(RecordingHooks):
    """Asks to stop (or abort) after batch ``at`` = (epoch, batch), both 1-based."""

    def __init__(self, at: tuple[int, int], abort: bool = False) -> None:
        super().__init__()
        self.at, self.abort_wanted = at, abort

    def on_batch_end(self, epoch, batch_i, batches, batch_size):
        super().on_batch_end(epoch, batch_i, batches, batch_size)
        if (epoch, batch_i) == self.at:
            self.stop, self.abort = True, self.abort_wanted


def _train(tmp_path, hooks, epochs=3):
    config = TrainingConfig(dataset="d", base_model="yolo11n.yaml", epochs=epochs, batch=4,
                            imgsz=64, workers=0, patience=50)
    backend = UltralyticsBackend(model_factory=factory())
    return backend.train(config, tmp_path / "data.yaml", tmp_path / "runs" / "job1", hooks)


def _batches(hooks):
    return [c[1:3] for c in hooks.calls if c[0] == "batch"]


def test_graceful_stop_in_a_ddp_rank_waits_for_the_epoch_end(tmp_path, rank):
    rank(0)
    assert bridge_module.in_ddp()
    hooks = _RequestAt((1, 1))
    outcome = _train(tmp_path, hooks)
    assert _batches(hooks) == [(1, 1), (1, 2), (1, 3)]  # the whole epoch, on every rank
    assert [m.epoch for m in hooks.epochs] == [1] and len(hooks.finals) == 1
    assert outcome.stopped and outcome.stop_reason == STOP_REQUESTED


def test_graceful_stop_outside_ddp_stops_after_the_batch(tmp_path, rank):
    rank(0, world=1)  # torchrun with one process: no other rank to wait for
    assert not bridge_module.in_ddp()
    hooks = _RequestAt((1, 1))
    _train(tmp_path, hooks)
    assert _batches(hooks) == [(1, 1)]


def test_user_abort_in_a_ddp_rank_raises_at_once(tmp_path, rank):
    rank(0)
    hooks = _RequestAt((2, 2), abort=True)
    outcome = _train(tmp_path, hooks)
    assert _batches(hooks)[-1] == (2, 2)
    assert [m.epoch for m in hooks.epochs] == [1] and hooks.finals == []
    assert outcome.stopped and outcome.final is None


def _logged(hooks, *lines):
    logger = logging.getLogger("ultralytics")
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        for line in lines:
            logger.info(line)
    finally:
        logger.setLevel(level)
    return hooks.lines


def test_rank_zero_forwards_ultralytics_log_until_teardown(rank):
    rank(0)
    hooks = RecordingHooks()
    handlers = CallbackBridge(hooks, 1).handlers()
    trainer = SimpleNamespace()
    handlers["on_pretrain_routine_start"](trainer)
    assert _logged(hooks, "scanning labels\n\n  done") == ["scanning labels", "  done"]
    handlers["teardown"](trainer)
    assert _logged(hooks, "after the run") == ["scanning labels", "  done"]


@pytest.mark.parametrize("r", [None, 1])
def test_no_forwarding_outside_a_launched_rank_zero(rank, r):
    if r is not None:
        rank(r)
    hooks = RecordingHooks()
    CallbackBridge(hooks, 1).handlers()["on_pretrain_routine_start"](SimpleNamespace())
    assert _logged(hooks, "line") == []


def test_the_bridge_pickles_with_its_callbacks_after_one_ran(rank):
    """Ultralytics cloudpickles trainer.callbacks into each rank; a trainer or log handler the
    bridge holds must not travel (neither pickles)."""
    rank(0)
    bridge = CallbackBridge(RecordingHooks(), 2, 0.5)
    handlers = bridge.handlers()
    handlers["on_pretrain_routine_start"](SimpleNamespace(lock=__import__("threading").Lock()))
    copy = cloudpickle.loads(cloudpickle.dumps(handlers))
    assert copy["teardown"].__wrapped__.__self__.gpu_memory_fraction == 0.5
    assert pickle.loads(pickle.dumps(bridge))._forwarder is None
    handlers["teardown"](SimpleNamespace())


def test_each_ddp_rank_caps_its_own_gpu(rank, monkeypatch):
    calls = []
    monkeypatch.setattr(torch.cuda, "set_per_process_memory_fraction",
                        lambda fraction, device: calls.append((fraction, device)))
    cuda1 = SimpleNamespace(device=torch.device("cuda", 1))
    CallbackBridge(RecordingHooks(), 1, 0.3).handlers()["on_pretrain_routine_end"](cuda1)
    assert calls == []  # not DDP: the backend capped its own process
    rank(1)
    for fraction, trainer in ((0.3, cuda1), (1.0, cuda1),
                              (0.3, SimpleNamespace(device=torch.device("cpu")))):
        CallbackBridge(RecordingHooks(), 1, fraction).handlers()["on_pretrain_routine_end"](
            trainer)
    assert calls == [(0.3, torch.device("cuda", 1))]


def test_the_launcher_of_several_gpus_starts_no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available",
                        lambda: pytest.fail("the DDP launcher must not touch CUDA"))
    UltralyticsBackend._cap_gpu_memory(TrainingConfig(device="0,1", max_gpu_memory_percent=0.5))
