"""UltralyticsBackend driven by the fake Ultralytics (callbacks in the real order)."""

from __future__ import annotations

from pathlib import Path

import pytest
from training_helpers import RecordingHooks
from fake_ultralytics import FakeYOLO, factory

from yolo_studio.config import TrainingConfig
from yolo_studio.errors import TrainingError
from yolo_studio.training.hooks import STOP_REQUESTED
from yolo_studio.training.ultralytics_backend import UltralyticsBackend


def _train(tmp_path: Path, hooks: RecordingHooks, epochs: int = 3, **behaviour):
    config = TrainingConfig(dataset="d", base_model="yolo11n.yaml", epochs=epochs, batch=4,
                            imgsz=64, workers=0, patience=2)
    backend = UltralyticsBackend(model_factory=factory(**behaviour))
    return backend.train(config, tmp_path / "data.yaml", tmp_path / "runs" / "job1", hooks)


def test_one_point_per_epoch_and_final_apart(tmp_path, hooks):
    outcome = _train(tmp_path, hooks, epochs=3)
    assert [m.epoch for m in hooks.epochs] == [1, 2, 3]
    assert len(hooks.finals) == 1 and hooks.finals[0].train_box_loss is None
    assert hooks.finals[0].map50 == pytest.approx(0.3)  # best epoch 3 of the fake
    assert outcome.epochs_completed == 3 and outcome.stop_reason is None
    assert outcome.final == hooks.finals[0] and outcome.history == tuple(hooks.epochs)
    assert outcome.best_weights == tmp_path / "runs" / "job1" / "weights" / "best.pt"
    assert outcome.best_weights.is_file() and outcome.batch_used == 4
    first = hooks.epochs[0]
    assert first.train_box_loss is not None and first.val_box_loss is not None
    assert first.map50 == pytest.approx(0.1) and first.lr == pytest.approx(0.001)
    kinds = [c[0] for c in hooks.calls]
    assert kinds.index("final") > max(i for i, k in enumerate(kinds) if k == "epoch_end")
    assert kinds.count("batch") == 9


def test_train_kwargs_include_data_project_name_and_optimizer(tmp_path, hooks):
    _train(tmp_path, hooks, epochs=1)
    kwargs = FakeYOLO.instances[-1].train_kwargs
    assert kwargs["data"] == str(tmp_path / "data.yaml")
    assert kwargs["project"] == str(tmp_path / "runs") and kwargs["name"] == "job1"
    assert kwargs["optimizer"] == "AdamW" and kwargs["lr0"] == 0.001 and kwargs["batch"] == 4


def test_stop_before_first_batch_is_reapplied_after_setup_reset(tmp_path, hooks):
    hooks.stop = True  # requested before training even started
    outcome = _train(tmp_path, hooks, epochs=3)
    assert [c for c in hooks.calls if c[0] == "batch"] == [("batch", 1, 1, 3, 4)]
    assert outcome.stopped and outcome.stop_reason == STOP_REQUESTED
    assert outcome.epochs_completed == 1


class _AbortAt(RecordingHooks):
    """Asks to abort (a user cancel) after batch ``at`` = (epoch, batch), both 1-based."""

    def __init__(self, at: tuple[int, int]) -> None:
        super().__init__()
        self.at = at

    def on_batch_end(self, epoch, batch_i, batches, batch_size):
        super().on_batch_end(epoch, batch_i, batches, batch_size)
        self.abort = self.abort or (epoch, batch_i) == self.at


def test_abort_ends_at_once_without_validating(tmp_path):
    hooks = _AbortAt((2, 2))
    outcome = _train(tmp_path, hooks, epochs=3)
    assert [c for c in hooks.calls if c[0] == "batch"][-1] == ("batch", 2, 2, 3, 4)
    assert [m.epoch for m in hooks.epochs] == [1]  # epoch 2 is neither validated nor saved
    assert hooks.finals == [] and outcome.final is None  # nor is best.pt
    assert outcome.stopped and outcome.stop_reason == STOP_REQUESTED
    assert outcome.epochs_completed == 1 and outcome.best_weights is not None
    assert FakeYOLO.instances[-1].trainer.train_loader.closed  # loader workers shut down


def test_early_stopping_reports_reason(tmp_path, hooks):
    outcome = _train(tmp_path, hooks, epochs=10, plateau_after=2)
    assert outcome.epochs_completed == 4  # best at 2, patience 2
    assert not outcome.stopped
    assert "early stopping" in outcome.stop_reason and "best epoch 2" in outcome.stop_reason


def test_nan_losses_fail_with_advice(tmp_path, hooks):
    with pytest.raises(TrainingError, match="NaN.*lr0"):
        _train(tmp_path, hooks, epochs=3, nan_at=(1, 0))
    assert len(hooks.epochs) == 1


def test_out_of_memory_becomes_advice(tmp_path, hooks):
    error = RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
    with pytest.raises(TrainingError, match="Lower the batch size"):
        _train(tmp_path, hooks, fail_at=(0, 1), error=error)


def test_other_crash_names_the_cause(tmp_path, hooks):
    with pytest.raises(TrainingError, match="RuntimeError: boom"):
        _train(tmp_path, hooks, fail_at=(1, 2))


def test_error_inside_our_callback_fails_with_the_cause(tmp_path):
    class Broken(RecordingHooks):
        def on_epoch_end(self, metrics):
            raise KeyError("chart exploded")

    with pytest.raises(TrainingError, match="on_fit_epoch_end.*chart exploded"):
        _train(tmp_path, Broken())


def test_missing_weights_from_factory_is_a_clear_error(tmp_path, hooks):
    config = TrainingConfig(dataset="d", base_model="yolo11s.pt", epochs=1)
    backend = UltralyticsBackend(model_factory=factory(missing=True))
    with pytest.raises(TrainingError, match="yolo11s.pt.*yolo11s.yaml"):
        backend.train(config, tmp_path / "d.yaml", tmp_path / "r" / "j", hooks)


def test_check_base_model_accepts_yaml_local_and_cached_weights(tmp_path, monkeypatch):
    from ultralytics.utils import SETTINGS

    weights = tmp_path / "mine.pt"
    weights.write_bytes(b"x")
    cache = tmp_path / "weights"
    cache.mkdir()
    (cache / "yolo11s.pt").write_bytes(b"x")
    monkeypatch.setitem(SETTINGS, "weights_dir", str(cache))
    backend = UltralyticsBackend()  # the real check (a custom factory skips it)
    backend.check_base_model("yolo11n.yaml")
    own = tmp_path / "my-net.yaml"  # a model config of one's own
    own.write_text("nc: 2\nbackbone: [[-1, 1, Conv, [16, 3, 2]]]\nhead: [[-1, 1, Conv, [16, 3, 1]]]\n")
    backend.check_base_model(str(own))
    backend.check_base_model(str(weights))
    backend.check_base_model("yolo11s.pt")  # in Ultralytics' weights folder: no download


def test_check_base_model_refuses_missing_files_and_offline_downloads(tmp_path, monkeypatch):
    from ultralytics import utils

    monkeypatch.setitem(utils.SETTINGS, "weights_dir", str(tmp_path))
    monkeypatch.setattr(utils, "is_online", lambda: False)
    backend = UltralyticsBackend()
    with pytest.raises(TrainingError, match="does not exist"):
        backend.check_base_model(str(tmp_path / "no-such.pt"))
    with pytest.raises(TrainingError, match="does not exist"):
        backend.check_base_model("yolo99z.pt")  # not an Ultralytics release asset
    with pytest.raises(TrainingError, match="'nonexistent.yaml' cannot be read \\(no such file\\)"):
        backend.check_base_model("nonexistent.yaml")  # neither a file nor Ultralytics' own
    with pytest.raises(TrainingError, match="yolo11m.pt.*yolo11m.yaml"):
        backend.check_base_model("yolo11m.pt")  # a release asset, but offline
    notes = tmp_path / "notes.txt"
    notes.write_text("not a model")
    with pytest.raises(TrainingError, match="neither .pt weights nor a model .yaml"):
        backend.check_base_model(str(notes))  # an existing file of another kind
    data_yaml = tmp_path / "data.yaml"
    data_yaml.write_text("path: .\ntrain: images/train\nval: images/val\nnames: {0: cell}\n")
    with pytest.raises(TrainingError, match="not a model config.*data.yaml goes in Dataset"):
        backend.check_base_model(str(data_yaml))  # a dataset's yaml picked as base model
    monkeypatch.setattr(utils, "is_online", lambda: True)
    backend.check_base_model("yolo11m.pt")  # online: Ultralytics downloads it when training


def test_gpu_memory_cap_is_set_for_every_cuda_job_and_lifted_by_one(monkeypatch):
    """torch's per-process cap outlives a job: a later job without a cap must reset it."""
    import torch

    calls = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "set_per_process_memory_fraction",
                        lambda fraction, device: calls.append((fraction, device)))
    for percent, device in ((0.5, "0"), (1.0, ""), (0.0, "cuda:1"), (0.7, "cpu")):
        UltralyticsBackend._cap_gpu_memory(TrainingConfig(max_gpu_memory_percent=percent,
                                                          device=device))
    assert calls == [(0.5, 0), (1.0, 0), (1.0, 1)]
