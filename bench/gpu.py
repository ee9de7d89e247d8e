"""GPU check of the studio's worker-process training on one NVIDIA GPU, offline.

(a) images/s through the studio against bare Ultralytics, (b) NVML readings, (c)
``max_gpu_memory_percent`` 0.3 holds, (d) GPU memory back to its baseline after a cancel. What
it prints and how to run it (``bash bench/gpu_wheels.sh`` first, where PyPI reaches):
bench/README.md.

    python bench/gpu.py [--rounds 2] [--cpu-smoke]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import common  # noqa: F401 - puts the repository on sys.path

from yolo_studio.training.ultralytics_backend import UltralyticsBackend

BENCH = Path(__file__).resolve().parent
WHEELS = BENCH / ".wheels"
SITE = WHEELS / "site"  # pip --target folder: the machine's own environment stays untouched
PEAK_TAG = "gpu-bench peak"
BACK_MARGIN_B = 64 * 2**20  # bytes NVML may show above the baseline after a cancel
_GIB = 2**30


class PeakReportingBackend(UltralyticsBackend):
    """The studio's Ultralytics backend; after each job it logs (an event: the worker's own
    figures reach the studio no other way) ``PEAK_TAG reserved=<bytes> total=<bytes>``:
    ``torch.cuda.max_memory_reserved`` (what ``set_per_process_memory_fraction`` bounds) and
    the device's size, or ``PEAK_TAG none`` when the worker never used CUDA."""

    def train(self, config, data_yaml, run_dir, hooks, resume_from=None):  # noqa: D102
        import torch

        try:
            return super().train(config, data_yaml, run_dir, hooks, resume_from=resume_from)
        finally:
            line = f"{PEAK_TAG} none"
            if torch.cuda.is_available() and torch.cuda.is_initialized():
                i = torch.cuda.current_device()
                line = (f"{PEAK_TAG} reserved={torch.cuda.max_memory_reserved(i)} "
                        f"total={torch.cuda.get_device_properties(i).total_memory}")
            hooks.log(line)


def ensure_ultralytics() -> None:
    """When ultralytics is missing, install bench/.wheels/*.whl with ``pip install --no-deps
    --no-index --target bench/.wheels/site``; put that folder and bench/ first on ``sys.path``
    and ``PYTHONPATH`` (workers import ``gpu`` and ultralytics from there).

    Raises:
        SystemExit: ultralytics is missing and there are no wheels.
    """
    import importlib.util

    if importlib.util.find_spec("ultralytics") is None and not (SITE / "ultralytics").is_dir():
        wheels = sorted(str(p) for p in WHEELS.glob("*.whl"))
        if not wheels:
            raise SystemExit("ultralytics is missing and bench/.wheels/ has no wheels: run "
                             "`bash bench/gpu_wheels.sh` where PyPI is reachable, carry them.")
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                        "--no-index", "--target", str(SITE), *wheels], check=True)
    paths = [str(BENCH), os.environ.get("PYTHONPATH", "")]
    if SITE.is_dir():
        sys.path.insert(0, str(SITE))
        paths.insert(0, str(SITE))
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)


def offline_env(work: Path) -> None:
    """No download from any training process: YOLO_OFFLINE, no auto-install, and a fresh
    Ultralytics config folder holding matplotlib's DejaVu Sans as the Arial.ttf its plots
    would otherwise try to download."""
    import matplotlib

    config = work / "ultralytics-config"
    config.mkdir(parents=True, exist_ok=True)
    font = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    if font.is_file():
        shutil.copy(font, config / "Arial.ttf")
    os.environ.update(YOLO_OFFLINE="1", YOLO_AUTOINSTALL="False", YOLO_CONFIG_DIR=str(config))


def process_bytes(pid: int | None, index: int = 0) -> tuple[int | None, bool]:
    """NVML's GPU memory (bytes) of process ``pid`` on GPU ``index`` and whether NVML listed
    that pid; if not (a container may list host pids), the sum over the device's compute
    processes (this script's own process never uses CUDA). (None, False) without NVML."""
    try:
        import pynvml

        pynvml.nvmlInit()  # reference-counted, matched by the shutdown
        try:
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            procs = pynvml.nvmlDeviceGetComputeRunningProcesses(handle)
        finally:
            pynvml.nvmlShutdown()
    except Exception:  # noqa: BLE001 - no NVML or no GPU: no per-process figure
        return None, False
    mine = [p.usedGpuMemory or 0 for p in procs if p.pid == pid]
    total = sum(mine) if mine else sum(p.usedGpuMemory or 0 for p in procs)
    return total or None, bool(mine)


@contextlib.contextmanager
def sampling(monitor, pid: int | None, index: int = 0, interval_s: float = 0.25):
    """Sample GPU ``index`` every ``interval_s`` seconds in a thread during the block; yields
    the list it fills with ``(t_s, used_B, total_B, util_pct, process_B, pid_listed)`` rows
    (the studio's monitor, then ``process_bytes(pid)``)."""
    rows: list[tuple] = []
    halt, t0 = threading.Event(), time.perf_counter()

    def loop() -> None:
        while not halt.is_set():
            gpus = monitor.check().gpus
            if len(gpus) > index:
                gpu = gpus[index]
                rows.append((time.perf_counter() - t0, gpu.memory_used_bytes,
                             gpu.memory_total_bytes, gpu.utilization_percent,
                             *process_bytes(pid, index)))
            halt.wait(interval_s)
    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield rows
    finally:
        halt.set()
        thread.join()


def peak(rows: list[tuple], column: int) -> int | None:
    """Highest value of a ``sampling`` column (1: device used, 4: process); None if none."""
    return max((r[column] for r in rows if r[column] is not None), default=None)


def epoch_images_per_s(results_csv: Path, train_images: int) -> float | None:
    """Images/s over epochs 2..N of a run's results.csv (``time``: seconds since training
    began, at each epoch's end, validation included); epoch 1 (CUDA, cuDNN, loader warm-up)
    is left out. None with fewer than 2 epochs."""
    from yolo_studio.training.results import parse_results_csv

    times = [m.time_s for m in parse_results_csv(results_csv) if m.time_s is not None]
    if len(times) < 2 or times[-1] <= times[0]:
        return None
    return (len(times) - 1) * train_images / (times[-1] - times[0])


def bare_run(kwargs: dict, work: Path, name: str) -> tuple[float, Path]:
    """``YOLO(model).train(**kwargs)`` in a fresh process (so this one never holds CUDA
    memory). Returns (wall seconds, its results.csv).

    Raises:
        SystemExit: the training failed (its last error output in the message).
    """
    kwargs = dict(kwargs, project=str(work / "bare"), name=name)
    code = ("import json, sys; from ultralytics import YOLO; k = json.loads(sys.argv[1]); "
            "YOLO(k.pop('model')).train(**k)")
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, json.dumps(kwargs)], text=True,
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE)
    if done.returncode:
        raise SystemExit(f"bare Ultralytics failed ({done.returncode}): {done.stderr[-3000:]}")
    return time.perf_counter() - t0, work / "bare" / name / "results.csv"


def studio_job(manager, monitor, config, until=None):
    """Run ``config`` through the studio once its standby worker is ready, sampling the GPU;
    ``until(job_id)`` is called while it runs. Returns (last snapshot, Start-to-end wall
    seconds, the ``sampling`` rows, job id)."""
    from overhead import wait_standby_ready

    wait_standby_ready(manager)
    with sampling(monitor, manager.executor.standby_pid) as rows:  # the job's worker
        t0 = time.perf_counter()
        job_id = manager.start_training(config)
        if until is not None:
            until(job_id)
        snap = manager.wait_for_job(job_id, timeout_s=600)
        wall = time.perf_counter() - t0
    return snap, wall, rows, job_id


def throughput(manager, monitor, config, work: Path, rounds: int, budget_s: float):
    """(a) ``epoch_images_per_s`` through the studio and bare Ultralytics, alternated (bare
    first in odd rounds); no round starts after ``budget_s`` s. Returns (median of bare/studio
    images/s, the first studio job's ``sampling`` rows)."""
    data = work / "bare-data" / "data.yaml"
    kwargs = dict(config.to_train_kwargs(), model=config.base_model, data=str(data))
    images = len(list((data.parent / "images" / "train").iterdir()))
    t_start, ratios, first = time.monotonic(), [], None
    for i in range(rounds):
        if i and time.monotonic() - t_start > budget_s:
            print(f"(a) round {i + 1} skipped: over the {budget_s:g} s budget")
            break
        ips, walls = {}, {}
        for method in (("bare", "studio") if i % 2 == 0 else ("studio", "bare")):
            if method == "bare":
                walls[method], csv = bare_run(kwargs, work, f"round{i + 1}")
            else:
                snap, walls[method], rows, job_id = studio_job(
                    manager, monitor, replace(config, model_name=f"round{i + 1}"))
                if snap.state.value != "COMPLETED":
                    raise SystemExit(f"studio job ended {snap.state.value}: {snap.error}")
                first = first or rows
                csv = manager.settings.run_dir(job_id) / "results.csv"
            ips[method] = epoch_images_per_s(csv, images) or float("nan")
        ratios.append(ips["bare"] / ips["studio"])
        print(f"(a) round {i + 1}: studio {ips['studio']:.1f} images/s ({walls['studio']:.1f} s "
              f"Start to registered), bare {ips['bare']:.1f} images/s ({walls['bare']:.1f} s "
              f"process), bare/studio {ratios[-1]:.3f}", flush=True)
    return statistics.median(ratios), first


def report_nvml(rows: list[tuple] | None) -> None:
    """(b) Some NVML readings taken during the first studio job, and their peaks."""
    if not rows:
        print("(b) no NVML readings (no GPU or no NVML)")
        return
    for t, used, total, util, proc, _ in rows[:: max(1, len(rows) // 6)]:
        print(f"(b) t={t:5.1f} s  used {used / _GIB:.2f}/{total / _GIB:.1f} GiB  util {util}%  "
              f"worker {'-' if proc is None else f'{proc / _GIB:.2f} GiB'}")
    utils = [r[3] for r in rows if r[3] is not None] or [float("nan")]
    print(f"(b) {len(rows)} readings: peak used {peak(rows, 1) / _GIB:.2f} GiB, util mean "
          f"{statistics.fmean(utils):.0f}% max {max(utils)}%, worker pid listed by NVML: "
          f"{any(r[5] for r in rows)}")


def cap_check(manager, monitor, config, cap: float = 0.3) -> bool | None:
    """(c) One epoch with ``max_gpu_memory_percent=cap`` and AutoBatch (``batch=-1``, sized to
    fill the cap). Held when the worker's reserved peak stays under ``cap`` of the device;
    NVML's peak for the worker (its CUDA context included) is printed as an outside check.
    None when the job never used CUDA."""
    capped = replace(config, model_name="capped", epochs=1, batch=-1, max_gpu_memory_percent=cap)
    snap, wall, rows, job_id = studio_job(manager, monitor, capped)
    line = next((x for x in reversed(snap.log) if x.startswith(PEAK_TAG)), f"{PEAK_TAG} none")
    fields = dict(f.split("=", 1) for f in line.split()[2:] if "=" in f)
    print(f"(c) job {snap.state.value} in {wall:.1f} s, batch used "
          f"{manager.queue.get(job_id).batch_used}; the worker says: {line}")
    if "reserved" not in fields:
        return None
    reserved, total = int(fields["reserved"]), int(fields["total"])
    held = reserved <= cap * total
    print(f"(c) peak reserved {reserved / _GIB:.2f} GiB vs cap {cap:g} x {total / _GIB:.1f} = "
          f"{cap * total / _GIB:.2f} GiB: {'held' if held else 'EXCEEDED'}")
    if peak(rows, 4) is not None:
        print(f"(c) NVML: worker peak {peak(rows, 4) / _GIB:.2f} GiB with its CUDA context "
              f"(pid listed: {any(r[5] for r in rows)})")
    return held


def cancel_check(manager, monitor, config) -> bool | None:
    """(d) Cancel a job a few batches in. True when NVML's device memory is back within
    ``BACK_MARGIN_B`` of its baseline (read before the job, standby worker idle) within 30 s
    of the job's CANCELLED snapshot; None without NVML."""
    from overhead import wait_standby_ready

    wait_standby_ready(manager)
    deadline = time.monotonic() + 15  # the last job's process may still be freeing memory
    while process_bytes(None)[0] and time.monotonic() < deadline:
        time.sleep(0.25)
    baseline, during = _device_used(monitor), []

    def cancel_when_training(job_id: str) -> None:
        snap, deadline = manager.snapshot(), time.monotonic() + 300
        while time.monotonic() < deadline and not (
                snap.job_id == job_id and (snap.epoch >= 2 or snap.batch_i >= 3
                                           or snap.state.value != "TRAINING")):
            snap = manager.wait_for_change(snap.version, 1.0)
        during.append(_device_used(monitor))
        manager.cancel(job_id)

    snap, *_ = studio_job(manager, monitor, replace(config, model_name="cancelled", epochs=50),
                          until=cancel_when_training)
    t0, after = time.perf_counter(), _device_used(monitor)
    while baseline is not None and after > baseline + BACK_MARGIN_B \
            and time.perf_counter() - t0 < 30:
        time.sleep(0.25)
        after = _device_used(monitor)
    if baseline is None:
        print(f"(d) job {snap.state.value}; no NVML reading")
        return None
    back = after <= baseline + BACK_MARGIN_B
    print(f"(d) job {snap.state.value}: GPU used {baseline / _GIB:.2f} GiB before, "
          f"{(during[0] or 0) / _GIB:.2f} GiB training, {after / _GIB:.2f} GiB "
          f"{time.perf_counter() - t0:.1f} s after its end: {'back' if back else 'NOT back'}")
    return back


def _device_used(monitor) -> int | None:
    gpus = monitor.check().gpus
    return gpus[0].memory_used_bytes if gpus else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="throughput rounds (default 2)")
    parser.add_argument("--budget-s", type=float, default=200.0,
                        help="no throughput round starts after this many seconds")
    parser.add_argument("--cpu-smoke", action="store_true",
                        help="the same steps on CPU at imgsz 64 (checks the script, no GPU)")
    args = parser.parse_args()
    ensure_ultralytics()
    work = Path(tempfile.mkdtemp(prefix="yolo-studio-gpu-"))
    offline_env(work)
    from yolo_studio.config import SAMPLES_DIR, StudioSettings, TrainingConfig
    from yolo_studio.resources import ResourceMonitor
    from yolo_studio.training.executors import ProcessExecutor
    from yolo_studio.training.manager import TrainingManager

    shutil.copytree(SAMPLES_DIR / "bccd", work / "bare-data",
                    ignore=shutil.ignore_patterns("*.cache"))
    run = (dict(imgsz=64, epochs=2, batch=8, workers=0, device="cpu") if args.cpu_smoke else
           dict(imgsz=640, epochs=3, batch=16, workers=min(8, os.cpu_count() or 1), device="0"))
    config = TrainingConfig(dataset="bccd", base_model="yolo11n.yaml", **run)
    monitor = ResourceMonitor()
    manager = TrainingManager(StudioSettings(root=work / "studio"),
                              executor=ProcessExecutor(backend="gpu:PeakReportingBackend"))
    manager.datasets.ensure_samples(SAMPLES_DIR)
    manager.start()
    try:
        print(f"GPU before: {monitor.check().gpus or 'none'}", flush=True)
        ratio, first = throughput(manager, monitor, config, work, args.rounds, args.budget_s)
        report_nvml(first)
        cap_held = cap_check(manager, monitor, config)
        memory_back = cancel_check(manager, monitor, config)
    finally:
        manager.close()
        monitor.close()
        shutil.rmtree(work, ignore_errors=True)
    flags = {k: "n/a" if v is None else v for k, v in
             (("cap_held", cap_held), ("memory_back", memory_back))}
    print(f"gpu_ratio={ratio:.3f} cap_held={flags['cap_held']} memory_back={flags['memory_back']}")


if __name__ == "__main__":
    main()
