"""Failures during training, through TrainingManager over the fake Ultralytics: each ends in a
clear final state with a cause a user understands, and registry.json byte for byte unchanged.

Also: Ultralytics' out-of-memory batch halving (the batch really used is recorded), stale
label caches deleted before training, the jobs behind a failed one still run, and deleting the
active model needs an explicit choice.
"""

from __future__ import annotations

import errno
import gc
import re
import weakref
import shutil
from pathlib import Path

import pytest
from training_helpers import WAIT_S, Factory, fake_config
from fake_ultralytics import FakeYOLO

from yolo_studio.config import StudioSettings
from yolo_studio.errors import RegistryError
from yolo_studio.training import progress
from yolo_studio.training.snapshot import JobState



def _models_state(settings: StudioSettings) -> tuple[bytes, list[str]]:
    """registry.json bytes and the entries of the model folder (nothing half-finished)."""
    folder = settings.models_dir / "tiny"
    return ((folder / "registry.json").read_bytes(),
            sorted(p.name for p in (folder / "models").iterdir()))


class ReadsDataset:
    """A gate that reads a dataset image at every batch (like a data loader) and moves the
    dataset folder away at batch (epoch, batch) (a user removing or renaming it)."""

    def __init__(self, folder: Path, at: tuple[int, int]) -> None:
        self.folder, self.at = folder, at
        self.image = next((folder / "images" / "train").glob("*.jpg")).relative_to(folder)

    def __call__(self, epoch: int, batch: int) -> None:
        if (epoch, batch) == self.at:
            self.folder.rename(self.folder.with_name(self.folder.name + "-renamed"))
        (self.folder / self.image).read_bytes()  # FileNotFoundError once it is gone


def _studio_callback_breaks(monkeypatch) -> dict:
    original = progress.ProgressTracker.on_epoch_end

    def broken(self, metrics):
        if metrics.epoch == 2:
            raise KeyError("history")
        original(self, metrics)

    monkeypatch.setattr(progress.ProgressTracker, "on_epoch_end", broken)
    return {}


def _plugin_callback_breaks(monkeypatch) -> dict:
    def factory_with_broken_plugin(model: str) -> FakeYOLO:
        fake = FakeYOLO(model)

        def plugin(trainer) -> None:
            if trainer.epoch == 1:
                raise ValueError("logger plugin lost its connection")
        fake.add_callback("on_train_epoch_end", plugin)
        return fake
    return {"factory": factory_with_broken_plugin}


def _disk_full(monkeypatch) -> dict:
    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shutil, "copyfile", full)  # ModelStore copies best.pt with it
    return {}


CASES = {
    "nan-losses": ({"nan_at": (1, 0)}, {}, None, r"NaN/Inf in epoch 2.*Lower lr0"),
    "out-of-memory": ({"oom_above": 1}, {"batch": 16}, None,
                      r"Out of GPU memory\. Lower the batch size.*CUDA out of memory"),
    "studio-callback": ({}, {}, _studio_callback_breaks,
                        r"error in the studio's on_fit_epoch_end callback: KeyError"),
    "plugin-callback": ({}, {}, _plugin_callback_breaks,
                        r"Training failed: ValueError: logger plugin lost its connection"),
    "offline-weights": ({"missing": True}, {"base_model": "yolo11s.pt"}, None,
                        r"'yolo11s.pt' are not on this machine.*yolo11s.yaml"),
    "disk-full": ({}, {}, _disk_full, r"disk is full.*Nothing was registered.*weights are "
                                      r"still in .*best\.pt"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_failure_ends_in_error_with_its_cause_and_the_registry_unchanged(settings, make_manager,
                                                                          monkeypatch, case):
    behaviour, config_kw, arrange, cause = CASES[case]
    manager = make_manager({})
    manager.wait_for_job(manager.start_training(fake_config(model_name="keep", epochs=1)), WAIT_S)
    before = _models_state(settings)
    extra = arrange(monkeypatch) if arrange else {}
    manager.backend._factory = extra.get("factory") or Factory(behaviour)
    job_id = manager.start_training(fake_config(model_name="broken", **config_kw))
    snap = manager.wait_for_job(job_id, WAIT_S)
    assert snap.state == JobState.ERROR, snap.stop_reason
    assert re.search(cause, snap.error, re.S), snap.error
    assert manager.queue.get(job_id).state == JobState.ERROR
    assert manager.queue.get(job_id).error == snap.error
    assert f"ERROR: {snap.error}" in snap.log
    assert _models_state(settings) == before  # registry.json bytes and folders
    assert manager.models.get_active("tiny").name == "keep"


def test_dataset_folder_removed_mid_run_is_said_plainly(settings, make_manager):
    manager = make_manager({})
    manager.wait_for_job(manager.start_training(fake_config(model_name="keep", epochs=1)), WAIT_S)
    before = _models_state(settings)
    folder = settings.datasets_dir / "tiny"
    manager.backend._factory = Factory({"gate": ReadsDataset(folder, at=(1, 1))})
    job_id = manager.start_training(fake_config(model_name="orphan"))
    snap = manager.wait_for_job(job_id, WAIT_S)
    assert snap.state == JobState.ERROR
    assert f"The dataset folder {folder} was removed or renamed during training" in snap.error
    assert "retry the job" in snap.error and "No such file" in snap.error
    assert len(snap.history) == 1  # epoch 1 trained; epoch 2 could not read its images
    assert _models_state(settings) == before
    # Put it back: the same job retried now completes and registers its model.
    folder.with_name("tiny-renamed").rename(folder)
    manager.backend._factory = Factory({})
    manager.retry_job(job_id)
    assert manager.wait_for_job(job_id, WAIT_S).state == JobState.COMPLETED
    assert [r.name for r in manager.models.list("tiny")] == ["keep", "orphan"]


def test_failed_jobs_do_not_stop_the_jobs_behind_them(settings, make_manager):
    manager = make_manager({"nan_at": (0, 1)}, {"missing": True}, {"oom_above": 1}, {})
    ids = [manager.start_training(fake_config(model_name="nan")),
           manager.start_training(fake_config(model_name="offline", base_model="yolo11s.pt")),
           manager.start_training(fake_config(model_name="oom", batch=16)),
           manager.start_training(fake_config(model_name="good", epochs=1))]
    assert manager.wait_for_job(ids[-1], WAIT_S).state == JobState.COMPLETED
    assert [manager.queue.get(i).state for i in ids] == [JobState.ERROR] * 3 + [
        JobState.COMPLETED]
    assert [r.name for r in manager.models.list("tiny")] == ["good"]


def test_out_of_memory_in_first_epoch_halves_the_batch_and_records_it(settings, make_manager):
    manager = make_manager({"oom_above": 4, "images": 20})
    job_id = manager.start_training(fake_config(model_name="halved", batch=16, epochs=2))
    snap = manager.wait_for_job(job_id, WAIT_S)
    assert snap.state == JobState.COMPLETED, snap.error
    assert [m.epoch for m in snap.history] == [1, 2]  # the restarted epoch is charted once
    assert snap.batches == 5  # 20 images in batches of 4
    log = "\n".join(snap.log)
    assert "Reducing to batch=8" in log and "Reducing to batch=4" in log  # Ultralytics' words
    assert "Batch size lowered from 16 to 8" in log and "from 8 to 4" in log
    assert "Batch size really used: 4 (configured 16)" in log
    assert manager.models.load_metrics("tiny", "halved")["batch_used"] == 4
    assert manager.queue.get(job_id).batch_used == 4
    assert manager.backend._factory.made[0].trainer.args.batch == 4


def test_stale_label_cache_is_deleted_before_training_starts(settings, make_manager):
    folder = settings.datasets_dir / "tiny"
    cache = folder / "labels" / "train.cache"
    seen: list[bool] = []

    def look(epoch: int, batch: int) -> None:
        if (epoch, batch) == (0, 0):
            seen.append(cache.exists())

    manager = make_manager({"gate": look})
    manager.wait_for_job(manager.start_training(fake_config(epochs=1)), WAIT_S)  # records the content hash
    cache.write_bytes(b"ultralytics label cache")
    manager.wait_for_job(manager.start_training(fake_config(epochs=1)), WAIT_S)
    manager.close()
    # The labels change while a job waits in the queue (queued by a studio not running jobs).
    later = make_manager({"gate": look}, start=False)
    job_id = later.start_training(fake_config(epochs=1))
    label = folder / "labels" / "train" / "BloodImage_00001.txt"
    label.write_text(label.read_text().replace("0.2", "0.3", 1))  # same size, new content
    assert cache.exists()
    later.start()
    assert later.wait_for_job(job_id, WAIT_S).state == JobState.COMPLETED
    assert seen == [False, True, False]  # kept while valid, gone before training changed data
    assert not cache.exists()


def test_deleting_the_active_model_needs_a_choice_and_rollback_works(settings, make_manager):
    manager = make_manager({})
    for name in ("a", "b"):
        manager.wait_for_job(manager.start_training(fake_config(model_name=name, epochs=1)), WAIT_S)
    assert manager.models.get_active("tiny").name == "a"  # the first model became active
    manager.registry.set_active("tiny", "b")
    with pytest.raises(RegistryError, match="active model.*--allow-active"):
        manager.registry.delete_model("tiny", "b")
    assert {r.name for r in manager.models.list("tiny")} == {"a", "b"}
    assert manager.registry.rollback_active("tiny").name == "a"
    assert manager.registry.rollback_active("tiny").name == "b"
    manager.registry.delete_model("tiny", "b", allow_active=True)
    assert manager.models.get_active("tiny") is None
    assert manager.registry.rollback_active("tiny").name == "a"  # previous one remembered


def test_dataset_moved_away_after_its_last_read_still_registers_the_model(settings,
                                                                         make_manager):
    folder = settings.datasets_dir / "tiny"

    def move_away(epoch: int, batch: int) -> None:  # nothing reads the dataset afterwards
        if (epoch, batch) == (1, 2):
            folder.rename(folder.with_name("tiny-moved"))

    manager = make_manager({"gate": move_away})
    snap = manager.wait_for_job(manager.start_training(fake_config(model_name="done", epochs=2)), WAIT_S)
    assert snap.state == JobState.COMPLETED, snap.error
    [record] = manager.models.list("tiny")  # info of the content it was trained on
    assert record.name == "done" and record.dataset_snapshot == "28 images, 3 classes"
    assert record.dataset_hash and record.weights_path.is_file()


class _Buffer:
    """Stands for Ultralytics' image buffer: big, and garbage only once collected (a cycle,
    as a failed run's trainer, data loader and model sit in)."""


def test_a_failed_job_frees_what_its_run_held_at_once(settings, make_manager):
    manager = make_manager({})
    held: list[weakref.ref] = []

    def factory(model: str) -> FakeYOLO:
        fake = FakeYOLO(model)

        def plugin(trainer) -> None:  # the traceback keeps this frame, and the buffer
            buffer = _Buffer()
            buffer.itself = buffer
            held.append(weakref.ref(buffer))
            raise MemoryError("Failed to allocate 30000000000 bytes")
        fake.add_callback("on_train_epoch_end", plugin)
        return fake

    manager.backend._factory = factory
    gc.disable()  # only the studio's own collection may free the cycle
    try:
        snap = manager.wait_for_job(manager.start_training(fake_config(model_name="huge")),
                                    WAIT_S)
        assert snap.state == JobState.ERROR
        assert held and held[0]() is None, "the failed run's buffer is still in memory"
    finally:
        gc.enable()
