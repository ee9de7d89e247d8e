"""YOLO Studio: a local browser studio for training Ultralytics YOLO detectors.

The public names are imported lazily so that ``import yolo_studio`` does no work.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "TrainingConfig": "yolo_studio.config",
    "StudioSettings": "yolo_studio.config",
    "StudioError": "yolo_studio.errors",
    "ValidationError": "yolo_studio.errors",
    "NotFoundError": "yolo_studio.errors",
    "DatasetError": "yolo_studio.errors",
    "RegistryError": "yolo_studio.errors",
    "TrainingError": "yolo_studio.errors",
    "DatasetStore": "yolo_studio.persistence.dataset_store",
    "ModelStore": "yolo_studio.persistence.model_store",
    "TrainingManager": "yolo_studio.training.manager",
    "ResourceMonitor": "yolo_studio.resources",
    "JobState": "yolo_studio.training.snapshot",
    "EpochMetrics": "yolo_studio.training.snapshot",
    "TrainingSnapshot": "yolo_studio.training.snapshot",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'yolo_studio' has no attribute {name!r}")
