"""Pure helpers for trying models: result types, a model cache, checks.

Nothing here imports ``ultralytics``; ``UltralyticsBackend.predict`` uses these.
"""

from __future__ import annotations

import collections
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..errors import ValidationError

@dataclass(frozen=True)
class Detection:
    """One predicted box, in pixels of the original image.

    Attributes:
        class_name: The model's name for the class. class_id: its index.
        confidence: Score as a fraction 0-1.
        x1, y1, x2, y2: Box corners in pixels (top-left, bottom-right).
    """

    class_name: str
    confidence: float
    x1: float
    y1: float
    x2: float
    y2: float
    class_id: int = -1

    def to_row(self) -> dict[str, Any]:
        """A table row: class, confidence (0-1, 3 decimals), x1, y1, x2, y2 (pixels, 1 dp)."""
        return {"class": self.class_name, "confidence": round(self.confidence, 3),
                "x1": round(self.x1, 1), "y1": round(self.y1, 1), "x2": round(self.x2, 1),
                "y2": round(self.y2, 1)}


@dataclass(frozen=True)
class PredictionResult:
    """A model run on one image.

    Attributes:
        image: The image with boxes, class and confidence drawn (Ultralytics ``result.plot()``),
            a ``uint8`` numpy array of shape (height, width, 3) in RGB order.
        detections: Boxes, highest confidence first.
        inference_ms: Milliseconds of the model's forward pass as Ultralytics measured it
            (``result.speed["inference"]``); ``total_ms``: milliseconds of the whole call
            (loading from the cache, pre/post-processing, drawing).
        model: Model name ("" when predicted from a bare weights path); ``weights``: its file.
    """

    image: Any
    detections: tuple[Detection, ...]
    inference_ms: float
    total_ms: float = 0.0
    model: str = ""
    weights: Path | None = None

    def rows(self) -> list[dict[str, Any]]:
        """The detections as table rows (``Detection.to_row``)."""
        return [d.to_row() for d in self.detections]

    def summary(self) -> str:
        """E.g. "3 detections (2 RBC, 1 WBC) in 9.3 ms"."""
        counts = collections.Counter(d.class_name for d in self.detections)
        parts = ", ".join(f"{n} {name}" for name, n in counts.most_common())
        n = len(self.detections)
        return (f"{n} detection{'s' * (n != 1)}{f' ({parts})' if parts else ''} in "
                f"{self.inference_ms:.1f} ms")


def detections_from_result(result: Any) -> tuple[Detection, ...]:
    """Detections of one Ultralytics ``Results`` (``boxes.cls``, ``boxes.conf``,
    ``boxes.xyxy`` in original-image pixels, ``names``), highest confidence first."""
    boxes = getattr(result, "boxes", None)
    if boxes is None or len(boxes) == 0:
        return ()
    names = getattr(result, "names", None) or {}
    classes = [int(c) for c in boxes.cls.tolist()]
    found = [Detection(class_name=str(names.get(c, f"class_{c}")), confidence=float(conf),
                       x1=float(x1), y1=float(y1), x2=float(x2), y2=float(y2), class_id=c)
             for c, conf, (x1, y1, x2, y2) in zip(classes, boxes.conf.tolist(),
                                                  boxes.xyxy.tolist())]
    return tuple(sorted(found, key=lambda d: -d.confidence))


def check_thresholds(conf: float, iou: float, imgsz: int | None) -> None:
    """Validate prediction settings.

    Raises:
        ValidationError: conf or iou outside 0-1 (fractions, not percent), or imgsz not a
            positive int (pixels).
    """
    for label, value in (("Confidence threshold", conf), ("IoU threshold", iou)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise ValidationError(f"{label} must be a fraction between 0 and 1, not {value!r}.")
    if imgsz is not None and (isinstance(imgsz, bool) or not isinstance(imgsz, int)
                              or imgsz < 1):
        raise ValidationError(f"Image size must be a positive number of pixels, not {imgsz!r}.")


class ModelCache:
    """A small thread-safe LRU of loaded models keyed by weights path and file version.

    A weights file replaced on disk (other mtime or size) is loaded again. Each entry carries a
    lock: Ultralytics' predictor keeps per-call state, so one model predicts one image at a time.

    Args:
        loader: Called with the weights path (str) to load a model.
        size: Models kept (least recently used ones are dropped).
    """

    def __init__(self, loader: Callable[[str], Any], size: int = 4) -> None:
        self._loader = loader
        self._size = max(1, int(size))
        self._entries: collections.OrderedDict[tuple, tuple[Any, threading.Lock]] = \
            collections.OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(path: Path) -> tuple:
        stat = os.stat(path)
        return (os.path.realpath(path), stat.st_mtime_ns, stat.st_size)

    def get(self, weights: str | os.PathLike[str]) -> tuple[Any, threading.Lock]:
        """(model, its lock) for ``weights``, loading it on a miss.

        Raises:
            FileNotFoundError: the weights file does not exist. Whatever the loader raises.
        """
        key = self._key(Path(weights))
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        model = self._loader(str(weights))  # outside the lock: loading takes a while
        with self._lock:
            entry = self._entries.setdefault(key, (model, threading.Lock()))
            self._entries.move_to_end(key)
            for old in [k for k in self._entries if k[0] == key[0] and k != key]:
                del self._entries[old]  # an older version of the same file
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
            return entry

    def __len__(self) -> int:
        return len(self._entries)


def rgb_array(image: Any) -> Any:
    """``image`` as a contiguous numpy array of shape (height, width, 3), RGB uint8.

    Raises:
        ValidationError: it is not RGB uint8 of that shape.
    """
    import numpy as np

    array = np.ascontiguousarray(image)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
        raise ValidationError("An image array must be RGB uint8 of shape (height, width, 3), "
                              f"not {array.dtype} {array.shape}.")
    return array
