"""How long a job will train, estimated before Start from a measured batch.

The rule (``estimate_duration``)::

    training   = ceil(train images / batch) * epochs * seconds per batch
    validation = validations * val images * seconds per val image
    estimate   = training + validation

where validations is epochs + 1 (each epoch, then best.pt), or 2 with the extra train argument
``val=False`` (the last epoch and best.pt), and train images is the train split's count times
the extra argument ``fraction`` (default 1), rounded as Ultralytics does.

Seconds per batch and per val image come from a real measurement of the job's base model at
its imgsz and batch on its device (``batch_timing``), made once per (base model, imgsz, batch,
device) and kept by a ``DurationEstimator``. Not counted: data loading and augmentation (on a
CPU they share the cores), Ultralytics' setup, an early stop by ``patience``, and what other
extra arguments (``cache``, ``rect``, ...) change.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, replace
from typing import Any, Callable

from ..config import TrainingConfig
from ..errors import EstimateUnavailable
from .base_models import resolve_base_model
from .batch_timing import BatchTiming, measure_in_subprocess
from .devices import check_device
from .snapshot import JobState

Measure = Callable[[str, int, int, str, int], BatchTiming]


@dataclass(frozen=True)
class DurationEstimate:
    """An estimate and the figures behind it (seconds throughout).

    Attributes:
        total_s: ``train_s + val_s``. train_s: all epochs' training steps. val_s: all
            validations (``val_runs`` of them).
        batches_per_epoch: ``ceil(train images / batch)``. epochs, batch, imgsz: the job's.
        timing: The measurement used. val_runs: Validations of the val split counted.
    """

    total_s: float
    train_s: float
    val_s: float
    batches_per_epoch: int
    epochs: int
    batch: int
    imgsz: int
    timing: BatchTiming
    val_runs: int

    def text(self) -> str:
        """One line: "about 3 h 10 min on cpu (measured 2.1 s per batch of 16 at imgsz 640)"."""
        return (f"about {format_duration(self.total_s)} on {self.timing.device} (measured "
                f"{_seconds(self.timing.s_per_batch)} per batch of {self.batch} at imgsz "
                f"{self.imgsz})")

    def details(self) -> str:
        """The arithmetic behind ``text()`` and what it leaves out."""
        return (f"{self.epochs} epochs x {self.batches_per_epoch} batches of training "
                f"({format_duration(self.train_s)}) + {self.val_runs} validations "
                f"({format_duration(self.val_s)}); data loading, setup and an early stop "
                "(patience) not counted.")


def _seconds(value: float) -> str:
    return f"{value:.2g} s" if value < 10 else f"{value:.0f} s"


def format_duration(seconds: float) -> str:
    """``"45 s"``, ``"12 min"``, ``"3 h 10 min"``, ``"2 d 5 h"`` (rounded to the unit shown)."""
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        hours, rest = divmod(minutes, 60)
        return f"{hours} h" + (f" {rest} min" if rest else "")
    days, hours = divmod(round(seconds / 3600), 24)
    return f"{days} d" + (f" {hours} h" if hours else "")


def estimate_duration(train_images: int, val_images: int, epochs: int, batch: int, imgsz: int,
                      timing: BatchTiming, val_runs: int | None = None) -> DurationEstimate:
    """Apply the module's rule to a measurement (no measuring here).

    Args:
        train_images / val_images: Images trained on per epoch, and in the val split.
        epochs: Epochs to train. batch: Images per batch, >= 1. imgsz: Pixels (for the text).
        timing: Seconds per batch and per val image.
        val_runs: Validations of the val split; None = ``epochs + 1``.
    """
    batches = math.ceil(train_images / batch)
    runs = epochs + 1 if val_runs is None else val_runs
    train_s = batches * epochs * timing.s_per_batch
    val_s = runs * val_images * timing.s_per_val_image
    return DurationEstimate(train_s + val_s, train_s, val_s, batches, epochs, batch, imgsz,
                            timing, runs)


class DurationEstimator:
    """Measures batches (one measurement at a time) and keeps each result for the process's
    life, per (base model, imgsz, batch, device).

    Args:
        measure: ``(base_model, imgsz, batch, device, nc) -> BatchTiming``; default
            ``batch_timing.measure_in_subprocess``.
    """

    def __init__(self, measure: Measure | None = None) -> None:
        self._measure = measure or measure_in_subprocess
        self._lock = threading.Lock()
        self._timings: dict[tuple[str, int, int, str], BatchTiming] = {}

    def timing(self, config: TrainingConfig, nc: int, busy: Callable[[], bool]) -> BatchTiming:
        """The kept timing of ``config``'s (base model, imgsz, batch, device), else a new
        measurement, made only while ``busy()`` is False.

        Raises:
            EstimateUnavailable: AutoBatch, a job is training, or the measurement failed.
        """
        batch = config.batch
        if not isinstance(batch, int) or batch < 1:
            raise EstimateUnavailable(
                f"batch {batch} lets Ultralytics choose the batch when training starts "
                "(AutoBatch); give a whole batch, such as 16, to estimate the duration.")
        key = (config.base_model, config.imgsz, batch, config.device)
        with self._lock:
            if key not in self._timings:
                if busy():
                    raise EstimateUnavailable(
                        "A job is training: measuring a batch now would slow it and read "
                        "wrong. Estimate again when it ends (settings measured before are "
                        "answered at once).")
                self._timings[key] = self._measure(config.base_model, config.imgsz, batch,
                                                   config.device, nc)
            return self._timings[key]


def training_now(manager: Any) -> bool:
    """True while one of ``manager.jobs()`` is TRAINING."""
    return any(job.state is JobState.TRAINING for job in manager.jobs())


def estimate_job(manager: Any, config: TrainingConfig,
                 estimator: DurationEstimator) -> DurationEstimate:
    """Estimate ``config``'s duration on ``manager``'s datasets, checking first what Start
    checks of the model and device (a ``.pt`` that cannot be had offline is refused as at
    Start, before any measurement).

    Raises:
        NotFoundError / DatasetError: the dataset. TrainingError: the base model or device.
        EstimateUnavailable: see ``DurationEstimator.timing``.
    """
    info = manager.datasets.get(config.dataset)
    config = replace(config, base_model=resolve_base_model(config.base_model,
                                                           manager.settings.root))
    manager.backend.check_base_model(config.base_model)
    check_device(config.device)
    timing = estimator.timing(config, len(info.class_names), lambda: training_now(manager))
    extra = getattr(config, "extra_args", None) or {}
    train = round(info.image_counts.get("train", 0) * float(extra.get("fraction", 1.0)))
    runs = config.epochs + 1 if extra.get("val", True) else 2
    return estimate_duration(train, info.image_counts.get("val", 0), config.epochs,
                             int(config.batch), config.imgsz, timing, runs)
