"""Single-image prediction latency through YOLO Studio against bare Ultralytics, in one run.

The studio path is ``ModelService.predict`` (registry lookup, cached model, Ultralytics predict,
the drawn image as RGB, the detections list); the bare path is ``YOLO(weights).predict(image)``
on a model loaded once. Both run on the same image with the same conf/iou, after warm-up calls,
alternated (the order flips every pair), N times each. Also printed: bare predict followed by
``result.plot()``, which produces what the studio returns. Last line:
``ratio=<median studio ms / median bare ms>``.

Without ``--weights`` a model is trained first (yolo11n.yaml, 1 epoch on a copy of
tests/data/bccd-tiny) into a temporary folder, at ``--imgsz``: by default the studio's default
training size (``TrainingConfig().imgsz``, 640 px), so both paths predict at the size a user's
model has. ``--imgsz 64`` is the worst case for the ratio: inference is so short that the
studio's fixed extras (drawing the boxes, about 0.1-1 ms) weigh the most.

    python bench/predict.py [--weights best.pt] [--imgsz 640] [--image img.jpg] [--n 50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from common import tiny_studio

from yolo_studio.config import StudioSettings, TrainingConfig
from yolo_studio.training.manager import TrainingManager
from yolo_studio.training.snapshot import JobState


def studio_with_model(settings: StudioSettings, weights: Path | None,
                      imgsz: int = 64) -> TrainingManager:
    """A manager over ``settings`` whose dataset "tiny" gets an active model "bench":
    ``weights`` registered as is, or trained now (1 epoch at ``imgsz`` pixels)."""
    manager = TrainingManager(settings)
    if weights is not None:
        info = manager.datasets.get("tiny")
        manager.models.save("tiny", "bench", weights, {}, {}, {
            "dataset_snapshot": info.snapshot, "dataset_hash": info.content_hash})
        manager.models.set_active("tiny", "bench")
        return manager
    manager.start()
    try:
        job = manager.start_training(TrainingConfig(
            dataset="tiny", base_model="yolo11n.yaml", epochs=1, imgsz=imgsz, batch=8, workers=0,
            device="cpu", model_name="bench"))
        snap = manager.wait_for_job(job)
    finally:
        manager.close()
    if snap.state != JobState.COMPLETED:
        raise SystemExit(f"training the bench model ended {snap.state.value}: {snap.error}")
    return manager


def timed_ms(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, default=None)
    parser.add_argument("--image", type=Path, default=None)
    parser.add_argument("--imgsz", type=int, default=TrainingConfig.imgsz,
                        help="training (and so prediction) size of the bench model, pixels")
    parser.add_argument("--n", type=int, default=50, help="timed calls of each (>= 20)")
    parser.add_argument("--conf", type=float, default=0.25)
    parser.add_argument("--iou", type=float, default=0.7)
    args = parser.parse_args()
    os.environ.setdefault("YOLO_OFFLINE", "1")
    from ultralytics import YOLO

    with tiny_studio("yolo-studio-bench-predict-") as settings:
        manager = studio_with_model(settings, args.weights, args.imgsz)
        service = manager.registry
        image = str(args.image or service.sample_images("tiny", "val", limit=1)[0])
        weights = str(service.resolve("tiny", None).weights_path)
        bare_model = YOLO(weights)
        kw = dict(conf=args.conf, iou=args.iou)
        studio = lambda: service.predict("tiny", None, image, **kw)  # noqa: E731
        bare = lambda: bare_model.predict(image, verbose=False, **kw)  # noqa: E731
        bare_plot = lambda: bare_model.predict(image, verbose=False, **kw)[0].plot()  # noqa
        for _ in range(5):  # warm-up: model load, first-call allocations, font for drawing
            studio(), bare(), bare_plot()
        times: dict[str, list[float]] = {"studio": [], "bare": [], "bare+plot": []}
        calls = {"studio": studio, "bare": bare, "bare+plot": bare_plot}
        for i in range(max(20, args.n)):
            order = list(calls) if i % 2 == 0 else list(reversed(calls))
            for name in order:
                times[name].append(timed_ms(calls[name]))
        med = {name: statistics.median(values) for name, values in times.items()}
        print(f"image {image}, weights {weights}, n={len(times['studio'])} each")
        for name, value in med.items():
            print(f"{name:>10}: median {value:.2f} ms  (min {min(times[name]):.2f}, "
                  f"max {max(times[name]):.2f})")
        print(f"studio / (bare predict + plot): {med['studio'] / med['bare+plot']:.3f}")
        print(f"ratio={med['studio'] / med['bare']:.3f}")


if __name__ == "__main__":
    main()
