"""The duration estimate: its arithmetic on a given measurement, the cache and the refusals,
and one real measurement on the CPU at imgsz 64 in its own process."""

from __future__ import annotations

import math
import shutil

import pytest
from training_helpers import TINY, fake_config

from yolo_studio.config import StudioSettings
from yolo_studio.errors import EstimateUnavailable, TrainingError
from yolo_studio.training.batch_timing import BatchTiming, measure_in_subprocess
from yolo_studio.training.estimate import (DurationEstimator, estimate_duration, estimate_job,
                                           format_duration)
from yolo_studio.training.manager import TrainingManager
from yolo_studio.training.snapshot import JobState

TIMING = BatchTiming(s_per_batch=2.1, s_per_val_image=0.05, device="cpu", passes=3)


def test_estimate_is_batches_times_epochs_times_seconds_plus_validation() -> None:
    estimate = estimate_duration(train_images=255, val_images=73, epochs=100, batch=16,
                                 imgsz=640, timing=TIMING)
    assert estimate.batches_per_epoch == 16  # 255 images in batches of 16: the last one short
    assert estimate.train_s == pytest.approx(16 * 100 * 2.1)
    assert estimate.val_s == pytest.approx(101 * 73 * 0.05)  # every epoch, then best.pt
    assert estimate.total_s == pytest.approx(3360 + 368.65)
    assert estimate.text() == ("about 1 h 2 min on cpu (measured 2.1 s per batch of 16 at "
                               "imgsz 640)")
    assert "100 epochs x 16 batches" in estimate.details()
    assert "101 validations" in estimate.details()


@pytest.mark.parametrize("seconds, text", [
    (0.2, "1 s"), (44.6, "45 s"), (59.4, "59 s"), (60, "1 min"), (3599, "1 h"),
    (11400, "3 h 10 min"), (47 * 3600 + 1790, "47 h 30 min"), (50 * 3600, "2 d 2 h"),
    (72 * 3600, "3 d")])
def test_durations_read_as_a_person_says_them(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_each_setting_is_measured_once_and_never_while_a_job_trains() -> None:
    calls = []

    def measure(*args):
        calls.append(args)
        return TIMING

    estimator = DurationEstimator(measure)
    busy = [False]
    config = fake_config(batch=8, imgsz=64, device="cpu")
    assert estimator.timing(config, 3, lambda: busy[0]) is TIMING
    busy[0] = True
    assert estimator.timing(config, 3, lambda: busy[0]) is TIMING  # kept: answered at once
    assert calls == [("yolo11n.yaml", 64, 8, "cpu", 3)]
    with pytest.raises(EstimateUnavailable, match="A job is training"):
        estimator.timing(fake_config(batch=8, imgsz=96, device="cpu"), 3, lambda: busy[0])
    with pytest.raises(EstimateUnavailable, match="AutoBatch"):
        estimator.timing(fake_config(batch=-1), 3, lambda: False)
    assert len(calls) == 1


class _Checked:
    """A backend whose base-model check refuses .pt files (as offline without weights)."""

    def check_base_model(self, base_model: str) -> None:
        if base_model.endswith(".pt"):
            raise TrainingError(f"{base_model} is not on this machine")


def test_a_job_is_estimated_from_its_dataset_and_checked_as_at_start(tmp_path) -> None:
    settings = StudioSettings(root=tmp_path / "root")
    shutil.copytree(TINY, settings.datasets_dir / "tiny")
    manager = TrainingManager(settings, backend=_Checked())
    info = manager.datasets.get("tiny")
    calls = []
    estimator = DurationEstimator(lambda *args: calls.append(args) or TIMING)
    estimate = estimate_job(manager, fake_config(epochs=2, batch=4), estimator)
    counts = info.image_counts
    assert calls == [("yolo11n.yaml", 64, 4, "", len(info.class_names))]
    assert estimate == estimate_duration(counts["train"], counts["val"], 2, 4, 64, TIMING)
    half = estimate_job(manager, fake_config(epochs=2, batch=4,
                                             extra_args={"fraction": 0.5, "val": False}),
                        estimator)  # half the train split; only the last epoch and best.pt
    assert (half.batches_per_epoch, half.val_runs) == (math.ceil(counts["train"] / 2 / 4), 2)
    with pytest.raises(TrainingError, match="not on this machine"):
        estimate_job(manager, fake_config(base_model="yolo11n.pt"), estimator)
    job = manager.queue.add(fake_config(model_name="running").to_dict(), "running")
    manager.queue.update(job.job_id, state=JobState.TRAINING)
    with pytest.raises(EstimateUnavailable, match="A job is training"):
        estimate_job(manager, fake_config(imgsz=128), estimator)
    assert len(calls) == 1


def test_a_real_batch_is_measured_on_the_cpu_in_its_own_process() -> None:
    timing = measure_in_subprocess("yolo11n.yaml", 64, 4, "cpu", 3)
    assert timing.device == "cpu" and 1 <= timing.passes <= 3
    assert 0 < timing.s_per_batch < 60 and 0 < timing.s_per_val_image < timing.s_per_batch
    estimate = estimate_duration(20, 8, 2, 4, 64, timing)
    assert estimate.total_s == pytest.approx(5 * 2 * timing.s_per_batch
                                             + 3 * 8 * timing.s_per_val_image)
    with pytest.raises(EstimateUnavailable, match="took more than 1 s"):
        measure_in_subprocess("yolo11n.yaml", 64, 4, "cpu", 3, timeout_s=1.0)
