"""Wall time of one training job from Start to registered model: through YOLO Studio, through
the ``yolo`` CLI as a fresh process, and through bare in-process ``YOLO(...).train(...)``.

What it measures, how to run it and its figures: bench/README.md.

    python bench/overhead.py [--rounds 3] [--epochs 3] [--imgsz 160]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from common import studio_run

os.environ.setdefault("YOLO_OFFLINE", "1")  # never download (yolo11n.yaml trains from scratch)

from yolo_studio.config import SAMPLES_DIR, StudioSettings, TrainingConfig  # noqa: E402
from yolo_studio.training.manager import TrainingManager  # noqa: E402

#: Seconds to wait for the studio's standby worker to import torch and Ultralytics.
READY_TIMEOUT_S = 120.0
METHODS = ("studio", "cli", "inproc")


def wait_standby_ready(manager: TrainingManager) -> float:
    """Block until the studio's standby worker process has said ready (as in a studio idle
    for a few seconds), so no timed run starts while it still imports.

    Returns:
        Seconds waited.

    Raises:
        TimeoutError: not ready within ``READY_TIMEOUT_S`` seconds.
    """
    t0 = time.perf_counter()
    while not manager.executor.standby_ready:
        if time.perf_counter() - t0 > READY_TIMEOUT_S:
            raise TimeoutError(f"no ready worker after {READY_TIMEOUT_S:g} s")
        time.sleep(0.05)
    return time.perf_counter() - t0


def cli_args(kwargs: dict) -> list[str]:
    """``key=value`` arguments of the ``yolo`` CLI for Ultralytics train keyword arguments."""
    return [f"{key}={value}" for key, value in kwargs.items()]


def yolo_executable() -> str:
    """The ``yolo`` entry point of this interpreter's environment (not a pyenv shim, whose
    own start would be timed too)."""
    local = Path(sys.executable).with_name("yolo")
    return str(local) if local.is_file() else shutil.which("yolo") or "yolo"


def cli_run(config: TrainingConfig, data_yaml: Path, project: Path, name: str) -> float:
    """Seconds of a whole ``yolo detect train ...`` process with the studio's arguments.

    Raises:
        SystemExit: the process failed (its last output is in the message).
    """
    kwargs = dict(config.to_train_kwargs(), model=config.base_model, data=str(data_yaml),
                  project=str(project), name=name)
    t0 = time.perf_counter()
    done = subprocess.run([yolo_executable(), "detect", "train", *cli_args(kwargs)],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"yolo CLI failed ({done.returncode}): {done.stdout[-2000:]}"
                         f"{done.stderr[-2000:]}")
    return seconds


def inproc_run(config: TrainingConfig, data_yaml: Path, project: Path, name: str) -> float:
    """Seconds of ``YOLO(base).train(...)`` in this process with the studio's arguments."""
    from ultralytics import YOLO

    t0 = time.perf_counter()
    YOLO(config.base_model).train(**config.to_train_kwargs(), data=str(data_yaml),
                                  project=str(project), name=name)
    return time.perf_counter() - t0


def runners(manager: TrainingManager, base: dict, work: Path, tag: str
            ) -> dict[str, Callable[[], float]]:
    """One zero-argument timer per method for the run named ``tag``."""
    config = TrainingConfig(**base, model_name=tag)
    return {
        "studio": lambda: studio_run(manager, config),
        "cli": lambda: cli_run(config, work / "cli-data" / "data.yaml", work / "cli", tag),
        "inproc": lambda: inproc_run(config, work / "inproc-data" / "data.yaml",
                                     work / "inproc", tag),
    }


def rotated(round_i: int) -> tuple[str, ...]:
    """The order of the methods in round ``round_i`` (rotated by one each round)."""
    shift = round_i % len(METHODS)
    return METHODS[shift:] + METHODS[:shift]


def run_rounds(manager: TrainingManager, base: dict, work: Path, rounds: int
               ) -> dict[str, list[float]]:
    """One untimed warm-up of each method, then ``rounds`` timed rounds; before every run
    the studio's standby worker has finished its imports (it would compete for the CPU)."""
    for method, run in runners(manager, base, work, "warmup").items():
        wait_standby_ready(manager)
        print(f"warm-up {method}: {run():.2f} s", flush=True)
    times: dict[str, list[float]] = {m: [] for m in METHODS}
    for i in range(rounds):
        run = runners(manager, base, work, f"round{i + 1}")
        for method in rotated(i):
            wait_standby_ready(manager)
            times[method].append(run[method]())
        print(f"round {i + 1} ({' '.join(rotated(i))}): "
              + "  ".join(f"{m} {times[m][-1]:.2f} s" for m in METHODS)
              + f"  ratio {times['studio'][-1] / times['inproc'][-1]:.3f}"
              f"  ratio_cli {times['studio'][-1] / times['cli'][-1]:.3f}"
              f"  (load average {os.getloadavg()[0]:.1f})", flush=True)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds (default 3)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--imgsz", type=int, default=160, help="pixels (default 160)")
    parser.add_argument("--dataset", default="bccd", help="a sample of yolo_studio/samples/")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="yolo-studio-overhead-"))
    try:
        settings = StudioSettings(root=work / "studio")
        manager = TrainingManager(settings)
        manager.datasets.ensure_samples(SAMPLES_DIR)
        for copy in ("cli-data", "inproc-data"):
            shutil.copytree(SAMPLES_DIR / args.dataset, work / copy,
                            ignore=shutil.ignore_patterns("*.cache"))
        base = dict(dataset=args.dataset, base_model="yolo11n.yaml", epochs=args.epochs,
                    imgsz=args.imgsz, workers=0, device="cpu")
        manager.start()
        try:
            print(f"standby worker ready after {wait_standby_ready(manager):.1f} s", flush=True)
            times = run_rounds(manager, base, work, args.rounds)
        finally:
            manager.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    med = {m: statistics.median(times[m]) for m in METHODS}
    print("medians: " + "  ".join(f"{m} {med[m]:.2f} s" for m in METHODS))
    ratio = statistics.median(s / b for s, b in zip(times["studio"], times["inproc"]))
    ratio_cli = statistics.median(s / c for s, c in zip(times["studio"], times["cli"]))
    print(f"ratio={ratio:.3f} ratio_cli={ratio_cli:.3f}")


if __name__ == "__main__":
    main()
