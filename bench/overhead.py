"""Overhead of training through YOLO Studio against bare Ultralytics, measured in one run.

The same training (a copy of tests/data/bccd-tiny, yolo11n.yaml, 3 epochs, imgsz 128, workers 0,
the same train arguments) runs through ``TrainingManager`` (start_training to the COMPLETED
snapshot, registration included) and through bare ``YOLO(...).train(...)``, alternated (the order
flips every pair), after one untimed warm-up of each. Prints each pair's seconds and, as the last
line, ``ratio=<median of studio/bare wall time>``.

    python bench/overhead.py [--pairs 3] [--epochs 3] [--imgsz 128]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from pathlib import Path

from common import TINY, studio_run, tiny_studio

from yolo_studio.config import TrainingConfig
from yolo_studio.training.manager import TrainingManager


def bare_run(config: TrainingConfig, data_yaml: Path, project: Path, name: str) -> float:
    """Seconds of ``YOLO(base).train(...)`` with the same arguments the studio passes."""
    from ultralytics import YOLO

    t0 = time.perf_counter()
    YOLO(config.base_model).train(**config.to_train_kwargs(), data=str(data_yaml),
                                  project=str(project), name=name)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--imgsz", type=int, default=128)
    args = parser.parse_args()
    with tiny_studio("yolo-studio-bench-") as settings:
        work = settings.root.parent
        bare_data = work / "bare-data"
        shutil.copytree(TINY, bare_data)
        base = dict(dataset="tiny", base_model="yolo11n.yaml", epochs=args.epochs,
                    imgsz=args.imgsz, workers=0, batch=8, device="cpu")
        manager = TrainingManager(settings)
        manager.start()
        try:
            studio_run(manager, TrainingConfig(**base, model_name="warmup"))
            bare_run(TrainingConfig(**base), bare_data / "data.yaml", work / "bare", "warmup")
            ratios = []
            for i in range(args.pairs):
                config = TrainingConfig(**base, model_name=f"pair{i}")
                run_studio = lambda: studio_run(manager, config)  # noqa: E731
                run_bare = lambda: bare_run(config, bare_data / "data.yaml",  # noqa: E731
                                            work / "bare", f"pair{i}")
                if i % 2 == 0:
                    studio, bare = run_studio(), run_bare()
                else:
                    bare, studio = run_bare(), run_studio()
                ratios.append(studio / bare)
                print(f"pair {i + 1}: studio {studio:.2f} s  bare {bare:.2f} s  "
                      f"ratio {studio / bare:.3f}", flush=True)
        finally:
            manager.close()
        print(f"ratio={statistics.median(ratios):.3f}")

if __name__ == "__main__":
    main()
