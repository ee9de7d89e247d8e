"""Helpers shared by the training tests (a unique module name: import it, not conftest)."""

from __future__ import annotations

from dataset_files import TINY  # noqa: F401 (the training tests import it from here)
from fake_ultralytics import FakeYOLO

from yolo_studio.config import TrainingConfig
from yolo_studio.training.evaluation import ValidationResult

#: The classes of bccd-tiny, in class-id order.
NAMES = ("RBC", "WBC", "Platelets")

#: Seconds a test waits at most for a fake-backend job.
WAIT_S = 30.0


def fake_config(**kw) -> TrainingConfig:
    """A small config on dataset "tiny" (3 epochs, batch 4, imgsz 64, patience 5); ``kw``
    overrides."""
    values = dict(dataset="tiny", base_model="yolo11n.yaml", epochs=3, batch=4, imgsz=64,
                  workers=0, patience=5)
    return TrainingConfig(**{**values, **kw})


class RecordingHooks:
    """TrainHooks that records every call; ``stop`` / ``abort`` answer should_stop /
    should_abort."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.epochs: list = []
        self.finals: list = []
        self.lines: list[str] = []
        self.stop = False
        self.abort = False

    def on_start(self, **kw):
        self.calls.append(("start", kw))

    def on_epoch_start(self, epoch):
        self.calls.append(("epoch_start", epoch))

    def on_batch_end(self, epoch, batch_i, batches, batch_size):
        self.calls.append(("batch", epoch, batch_i, batches, batch_size))

    def on_epoch_end(self, metrics):
        self.epochs.append(metrics)
        self.calls.append(("epoch_end", metrics.epoch))

    def on_final(self, metrics):
        self.finals.append(metrics)
        self.calls.append(("final", metrics.epoch))

    def log(self, line):
        self.lines.append(line)

    def should_stop(self):
        return self.stop or self.abort

    def should_abort(self):
        return self.abort


class Factory:
    """model_factory: the n-th model built gets behaviours[n] (the last one repeats)."""

    def __init__(self, *behaviours: dict) -> None:
        self.behaviours = list(behaviours) or [{}]
        self.made: list[FakeYOLO] = []
        self.calls = 0

    def __call__(self, model: str) -> FakeYOLO:
        spec = self.behaviours[min(self.calls, len(self.behaviours) - 1)]
        self.calls += 1  # counted even when building fails (offline weights)
        self.made.append(FakeYOLO(model, **spec))
        return self.made[-1]


class FakeValBackend:
    """A backend whose model detects ``names`` and whose validation returns fixed numbers."""

    def __init__(self, names=NAMES) -> None:
        self.names = names
        self.calls: list[tuple] = []

    def class_names(self, weights):
        return self.names

    def evaluate(self, weights, data_yaml, split, imgsz=None, device=None):
        import yaml

        self.calls.append((split, imgsz, device, yaml.safe_load(data_yaml.read_text())))
        return ValidationResult(precision=0.5, recall=0.25, map50=0.4, map50_95=0.2,
                                fitness=0.2, per_class=({"class": "RBC", "instances": 9},),
                                instances=9, speed_ms={"inference": 3.5}, parameters=1234,
                                device="cpu")
