"""TrainingConfig validation, defaults and the kwargs handed to Ultralytics."""

from __future__ import annotations

import pytest

from yolo_studio.config import StudioSettings, TrainingConfig, device_gpus
from yolo_studio.errors import ValidationError


def test_seed_defaults() -> None:
    c = TrainingConfig()
    assert (c.epochs, c.batch, c.imgsz, c.patience, c.freeze_layers) == (100, 16, 640, 20, 10)
    assert (c.lr0, c.lrf, c.max_gpu_memory_percent, c.model_name) == (0.001, 0.01, 0.8, None)


def test_explicit_optimizer_so_lr0_reaches_it() -> None:
    kwargs = TrainingConfig(lr0=0.0123).to_train_kwargs()
    assert kwargs["optimizer"] != "auto" and kwargs["lr0"] == 0.0123
    with pytest.raises(ValidationError, match="auto"):
        TrainingConfig(optimizer="auto")


def test_imgsz_limit_is_inclusive() -> None:
    assert TrainingConfig(imgsz=4096).imgsz == 4096  # MAX_IMGSZ itself is accepted


def test_imgsz_rounded_up_with_a_note() -> None:
    c = TrainingConfig(imgsz=100)
    assert c.imgsz == 128
    assert any("imgsz 100" in n for n in c.notes)


def test_freeze_ignored_for_from_scratch_yaml() -> None:
    c = TrainingConfig(base_model="yolo11n.yaml", freeze_layers=10)
    assert c.from_scratch and c.freeze_layers == 0
    assert "freeze" not in c.to_train_kwargs()
    assert any("random weights" in n for n in c.notes)
    assert TrainingConfig(base_model="yolo11n.pt").to_train_kwargs()["freeze"] == 10


def test_freeze_note_only_when_the_user_set_it() -> None:
    """The note was printed on every from-scratch run, for the default the user never set."""
    scratch = TrainingConfig(base_model="yolo11n.yaml")
    assert scratch.freeze_layers == 0 and scratch.notes == ()
    assert TrainingConfig(base_model="yolo11n.yaml", freeze_layers=0).notes == ()
    assert TrainingConfig(base_model="yolo11n.pt").freeze_layers == 10  # the studio's default
    assert TrainingConfig(base_model="yolo11n.pt", freeze_layers=3).freeze_layers == 3
    stored = TrainingConfig.from_dict(scratch.to_dict())
    assert stored == scratch and stored.notes == ()


@pytest.mark.parametrize("batch", [16, -1, 0.5, 8.0])
def test_valid_batches(batch) -> None:
    TrainingConfig(batch=batch)


def test_autobatch_uses_the_gpu_memory_fraction() -> None:
    assert TrainingConfig(batch=-1, max_gpu_memory_percent=0.6).to_train_kwargs()["batch"] == 0.6
    assert TrainingConfig(batch=8.0).batch == 8 and isinstance(TrainingConfig(batch=8.0).batch, int)


@pytest.mark.parametrize("field,value", [
    ("epochs", 0), ("batch", 0), ("batch", -2), ("batch", 1.5), ("batch", True), ("imgsz", 16),
    ("imgsz", 4097),
    ("lrf", 1.5), ("lrf", -0.1), ("lr0", 0), ("max_gpu_memory_percent", 80), ("patience", -1),
    ("freeze_layers", -1), ("workers", -1), ("dataset", "../etc"), ("model_name", "a/b"),
    ("base_model", " "), ("device", "banana"), ("device", "0,"), ("device", "cuda:x"),
    ("device", "gpu"),
])
def test_invalid_values_are_refused(field, value) -> None:
    with pytest.raises(ValidationError):
        TrainingConfig(**{field: value})


@pytest.mark.parametrize("given,stored", [
    ("", ""), (" CPU ", "cpu"), ("0", "0"), ("cuda:1", "cuda:1"), ("cuda", "cuda"), ("-1", "-1"),
    ("mps", "mps")])
def test_one_device_is_accepted_stripped_and_lower_case(given, stored) -> None:
    assert TrainingConfig(device=given).device == stored


@pytest.mark.parametrize("given,stored", [
    ("0,1", "0,1"), (" 0 , 1 ", "0,1"), ("cuda:0,cuda:2", "0,2"), ("CUDA:1, 3,0", "1,3,0")])
def test_several_gpus_are_accepted_as_bare_indices(given, stored) -> None:
    config = TrainingConfig(device=given)
    assert config.device == stored and config.to_train_kwargs()["device"] == stored
    assert device_gpus(config.device) == tuple(int(i) for i in stored.split(","))


@pytest.mark.parametrize("device,words", [
    ("0,0", "GPU 0 more than once"), ("0, cuda:0,1", "GPU 0 more than once"),
    ("cpu,0", "mixes cpu or mps with GPUs"), ("0,mps", "mixes cpu or mps"),
    ("0,,1", "not a list of GPUs"), ("0,-1", "not a list of GPUs"),
    ("cuda,1", "not a list of GPUs"), ("0,gpu1", "not a list of GPUs")])
def test_bad_gpu_lists_are_refused_with_the_reason(device, words) -> None:
    with pytest.raises(ValidationError, match=words):
        TrainingConfig(device=device)


@pytest.mark.parametrize("batch", [-1, 0.5])
def test_autobatch_is_refused_on_several_gpus(batch) -> None:
    with pytest.raises(ValidationError, match="AutoBatch.*one GPU only.*whole batch size"):
        TrainingConfig(device="0,1", batch=batch)
    TrainingConfig(device="0", batch=batch)


@pytest.mark.parametrize("device,gpus", [
    ("", None), ("cpu", None), ("mps", None), ("-1", None), ("cuda", (0,)), ("cuda:1", (1,)),
    ("2", (2,)), ("0,1", (0, 1))])
def test_device_gpus(device, gpus) -> None:
    assert device_gpus(device) == gpus


def test_more_workers_than_cores_get_a_note(monkeypatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 4)
    assert any("more than this machine's 4 CPU cores" in n
               for n in TrainingConfig(workers=1000).notes)
    assert not TrainingConfig(workers=4).notes


def test_round_trip_through_dict() -> None:
    c = TrainingConfig(base_model="yolo11n.yaml", imgsz=100, model_name="m1")
    again = TrainingConfig.from_dict({**c.to_dict(), "unknown_key": 1})
    assert again == c and again.imgsz == 128


def test_settings_root_from_env(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("YOLO_STUDIO_ROOT", str(tmp_path))
    s = StudioSettings.resolve()
    assert s.root == tmp_path.resolve()
    assert s.models_dir == tmp_path.resolve() / "models"
    assert StudioSettings.resolve(tmp_path / "x").root == (tmp_path / "x").resolve()
