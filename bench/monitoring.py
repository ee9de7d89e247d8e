"""Monitoring costs, measured in one run against the same training without monitoring.

Every job trains as in the studio: through ``TrainingManager``, in a worker process of its own
(``executors.ProcessExecutor``), whose events reach the server over a socket. Each timed job
starts once its worker has imported torch and Ultralytics (``common.wait_worker_ready``).

1. Latency: real training of a copy of tests/data/bccd-tiny (yolo11n.yaml, workers 0, imgsz
   ``--imgsz``); the worker's hooks note when each epoch's metrics leave Ultralytics'
   ``on_fit_epoch_end`` (``monitoring_timed.py``), and one simulated page (as in 2.) notes when
   its next update that changes a chart arrives over HTTP. Reports the median delay in
   seconds.
2. Watchers: the same training with 20 simulated browser pages against none, alternated,
   ``--pairs`` pairs. The app is served as ``app.py`` serves it, in this process; the pages
   (``common.watching_pages``) run in another process and do over HTTP what the studio's page
   does: join every stream, read the server-sent events, send the State change events the
   page's JavaScript sends. Only the drawing is left out. They are opened, and have drawn
   their first full update, before the timed job starts, as pages opened beforehand.
   Reports the median wall-time ratio watched/unwatched, the spread of the pair ratios (on a
   shared 2-core VM, runs of the same job differ by 5-20%, so a few pairs cannot resolve 3%),
   the CPU the server's threads used for the pages, and the pages' own process's CPU (it
   competes for this machine's cores too, as browsers on it would).
   The job: 3 epochs at imgsz 320, epochs of about 2.5 s here (11 s a job). Epochs on real
   datasets last longer (seconds on a GPU, minutes on a CPU): the per-epoch and per-job
   updates grow rarer, and what stays is the batch progress, once a second. Then the same with
   the stress job, ``--stress-pairs`` pairs of 3 epochs at imgsz 64: epochs of about 0.45 s in
   a 5 s job, a quarter of it setup and a third final validation, so each job's and each
   epoch's updates (start, charts, final result, job table) weigh several times more than in
   any real run. Its median is printed before the last line, not in it.
3. The same cost epoch by epoch inside one run (bench/monitoring_epochs.py: the watchers are
   switched on and off per epoch, so both sides share the machine's drift; 2 x 21 epochs at
   imgsz 128 whatever ``--epochs`` says), and that measurement with no watchers at all, its
   noise floor. Printed before the last line.
4. ``ResourceMonitor.check()`` cost with a warm NVML handle (bench/monitoring_check.py).

    python bench/monitoring.py [--pairs 10] [--stress-pairs 6] [--epochs 3] [--imgsz 320]
                               [--watchers 20]

About 7 minutes on a 2-core machine. Last line (the job of 2.):
``latency_median_s=<x> watchers_ratio=<y> check_ms=<z>``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from common import (REPO, monitored_studio, served, studio_app, studio_run, wait_worker_ready,
                    watching_pages)
from monitoring_check import measure_check_ms
from monitoring_epochs import epoch_ratio
from monitoring_timed import STAMPS_ENV

from yolo_studio.config import TrainingConfig
from yolo_studio.training.executors import ProcessExecutor
from yolo_studio.training.manager import TrainingManager


#: elem_ids of the Monitor tab's charts (``monitor_tab.build``), whose updates are timed.
CHARTS = ("loss-plot", "metrics-plot", "lr-plot")
#: imgsz of the stress job (2. in the module docstring).
STRESS_IMGSZ = 64


def timed_executor(stamps: Path) -> ProcessExecutor:
    """The studio's executor (a worker process per job), its workers training with
    ``monitoring_timed.TimedBackend``: each epoch end's ``time.perf_counter()`` is appended to
    ``stamps``."""
    return ProcessExecutor(backend="monitoring_timed:TimedBackend",
                           env={"PYTHONPATH": str(REPO / "bench"), STAMPS_ENV: str(stamps)})


def _train(manager: TrainingManager, demo, url: str, config: TrainingConfig, watchers: int
           ) -> tuple[float, dict]:
    """(wall seconds of one job, ``watching_pages``' usage figures) with ``watchers``
    simulated pages watching ``demo`` served at ``url``; the job's worker process has
    imported its backend before the pages open."""
    wait_worker_ready(manager)
    with watching_pages(demo, url, watchers) as usage:
        seconds = studio_run(manager, config)
    return seconds, usage


def _latency(manager: TrainingManager, stamps: Path, demo, url: str,
             config: TrainingConfig) -> list[float]:
    """Seconds from each epoch's end (its metrics leaving Ultralytics in the worker process,
    noted in ``stamps``) to the first charts update a simulated page of ``demo`` (served at
    ``url``) gets after it."""
    stamps.write_text("")
    wait_worker_ready(manager)
    with watching_pages(demo, url, 1, stamps=CHARTS) as usage:
        studio_run(manager, config)
    ends = [float(line) for line in stamps.read_text().split()]
    return [min((a for a in usage["stamps"] if a >= stamp), default=float("inf")) - stamp
            for stamp in ends]


def _print_epoch_ratios(watchers: int) -> None:
    """The finer measurement of bench/monitoring_epochs.py, and the same with no watchers at
    all (its noise floor)."""
    for count in (watchers, 0):
        result = epoch_ratio(watchers=count)
        print(f"epochs switched between {count} watchers and none in one run (ABBA): median "
              f"{statistics.median(result['on']):.3f}s / {statistics.median(result['off']):.3f}s"
              f", epoch ratio {result['ratio']:.3f}")


def _pairs(manager: TrainingManager, demo, url: str, base: dict, pairs: int, watchers: int,
           label: str = "pair") -> list[float]:
    """Alternated runs without and with ``watchers`` pages; prints each pair (``label`` and
    its number; also the models' names) and the CPU the server's threads and the pages used;
    returns the pair ratios (watched / unwatched wall time)."""
    ratios, extra = [], []
    for i in range(pairs):
        runs = {}
        for count in ((0, watchers) if i % 2 == 0 else (watchers, 0)):
            cfg = TrainingConfig(**base, model_name=f"{label}{i}-w{count}")
            runs[count] = _train(manager, demo, url, cfg, count)
        (none_s, none), (watched_s, watched) = runs[0], runs[watchers]
        ratios.append(watched_s / none_s)
        extra.append(watched["server_cpu_s"] / watched_s - none["server_cpu_s"] / none_s)
        print(f"{label} {i}: none {none_s:.2f}s, {watchers} watchers {watched_s:.2f}s, ratio "
              f"{ratios[-1]:.3f}; server threads {none['server_cpu_s'] * 1000:.0f} / "
              f"{watched['server_cpu_s'] * 1000:.0f} ms of CPU, pages' process "
              f"{watched['pages_cpu_s'] * 1000:.0f} ms")
    print(f"pair ratios spread {min(ratios):.3f}-{max(ratios):.3f} (this machine's noise); "
          f"serving the pages took, median, {100 * statistics.median(extra):.2f}% of one core "
          "more in the server's threads than serving none")
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--stress-pairs", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--imgsz", type=int, default=320)
    parser.add_argument("--watchers", type=int, default=20)
    args = parser.parse_args()
    base = dict(dataset="tiny", base_model="yolo11n.yaml", epochs=args.epochs, imgsz=args.imgsz,
                workers=0, batch=8, device="cpu")
    with tempfile.TemporaryDirectory(prefix="yolo-studio-stamps-") as folder:
        stamps = Path(folder) / "epoch-ends.txt"
        with monitored_studio("yolo-studio-monitoring-", executor=timed_executor(stamps)
                              ) as (manager, monitor):
            demo = studio_app(manager, monitor)
            with served(demo) as url:
                delays = _latency(manager, stamps, demo, url,
                                  TrainingConfig(**base, model_name="latency"))
                print("epoch end -> charts update in a page, delays (s): "
                      + " ".join(f"{d:.4f}" for d in delays))
                ratios = _pairs(manager, demo, url, base, args.pairs, args.watchers)
                stress = _pairs(manager, demo, url, {**base, "imgsz": STRESS_IMGSZ},
                                args.stress_pairs, args.watchers, "stress"
                                ) if args.stress_pairs else []
    if stress:
        print(f"stress job (imgsz {STRESS_IMGSZ}, epochs of about 0.45 s): watchers ratio "
              f"{statistics.median(stress):.3f}, median of {len(stress)} pairs")
    _print_epoch_ratios(args.watchers)
    check_ms = measure_check_ms(2000)[0]
    print(f"latency_median_s={statistics.median(delays):.4f} "
          f"watchers_ratio={statistics.median(ratios):.3f} check_ms={check_ms:.4f}")


if __name__ == "__main__":
    main()
