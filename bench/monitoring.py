"""Monitoring costs, measured in one run against the same training without monitoring.

1. Latency: real training of a copy of tests/data/bccd-tiny (yolo11n.yaml, imgsz 64, workers 0)
   through ``TrainingManager``; the backend's hooks are wrapped to note when each epoch's metrics
   leave Ultralytics' ``on_fit_epoch_end``, and one simulated page (as in 2.) notes when its
   next update that changes a chart arrives over HTTP. Reports the median delay in seconds.
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
3. The same cost epoch by epoch inside one run (bench/monitoring_epochs.py: the watchers are
   switched on and off per epoch, so both sides share the machine's drift; 2 x 21 epochs at
   imgsz 128 whatever ``--epochs`` says), and that measurement with no watchers at all, its
   noise floor. Printed before the last line.
4. ``ResourceMonitor.check()`` cost with a warm NVML handle (bench/monitoring_check.py).

    python bench/monitoring.py [--pairs 10] [--epochs 3] [--imgsz 64] [--watchers 20]

The default job is short (epochs of about 1.5 s here), so each epoch's and each job's updates
(charts, job table, the pages' selector refills and Models-tab refreshes) weigh more than in a
real run; ``--imgsz 320`` gives epochs of a few seconds.

Last line: ``latency_median_s=<x> watchers_ratio=<y> check_ms=<z>``.
"""

from __future__ import annotations

import argparse
import statistics
import time

from common import monitored_studio, served, studio_app, studio_run, watching_pages
from monitoring_check import measure_check_ms
from monitoring_epochs import epoch_ratio

from yolo_studio.config import TrainingConfig
from yolo_studio.training.manager import TrainingManager
from yolo_studio.training.ultralytics_backend import UltralyticsBackend


#: elem_ids of the Monitor tab's charts (``monitor_tab.build``), whose updates are timed.
CHARTS = ("loss-plot", "metrics-plot", "lr-plot")


class _TimedHooks:
    """Forwards every hook call; notes the time each epoch's metrics are handed over."""

    def __init__(self, hooks, stamps: list[float]) -> None:
        self._hooks, self._stamps = hooks, stamps

    def on_epoch_end(self, metrics) -> None:
        self._stamps.append(time.perf_counter())
        self._hooks.on_epoch_end(metrics)

    def __getattr__(self, name):
        return getattr(self._hooks, name)


class TimedBackend(UltralyticsBackend):
    """The real backend, with epoch-end times recorded in ``epoch_stamps``."""

    def __init__(self) -> None:
        super().__init__()
        self.epoch_stamps: list[float] = []

    def train(self, config, data_yaml, run_dir, hooks, resume_from=None):
        return super().train(config, data_yaml, run_dir, _TimedHooks(hooks, self.epoch_stamps),
                             resume_from)


def _train(manager: TrainingManager, demo, url: str, config: TrainingConfig, watchers: int
           ) -> tuple[float, dict]:
    """(wall seconds of one job, ``watching_pages``' usage figures) with ``watchers``
    simulated pages watching ``demo`` served at ``url``."""
    with watching_pages(demo, url, watchers) as usage:
        seconds = studio_run(manager, config)
    return seconds, usage


def _latency(manager: TrainingManager, backend: TimedBackend, demo, url: str,
             config: TrainingConfig) -> list[float]:
    """Seconds from each epoch's end (its metrics leaving Ultralytics) to the first charts
    update a simulated page of ``demo`` (served at ``url``) gets after it."""
    backend.epoch_stamps.clear()
    with watching_pages(demo, url, 1, stamps=CHARTS) as usage:
        studio_run(manager, config)
    return [min((a for a in usage["stamps"] if a >= stamp), default=float("inf")) - stamp
            for stamp in backend.epoch_stamps]


def _print_epoch_ratios(watchers: int) -> None:
    """The finer measurement of bench/monitoring_epochs.py, and the same with no watchers at
    all (its noise floor)."""
    for count in (watchers, 0):
        result = epoch_ratio(watchers=count)
        print(f"epochs switched between {count} watchers and none in one run (ABBA): median "
              f"{statistics.median(result['on']):.3f}s / {statistics.median(result['off']):.3f}s"
              f", epoch ratio {result['ratio']:.3f}")


def _pairs(manager: TrainingManager, demo, url: str, base: dict, pairs: int, watchers: int
           ) -> list[float]:
    """Alternated runs without and with ``watchers`` pages; prints each pair and the CPU the
    server's threads and the pages used; returns the pair ratios (watched / unwatched wall
    time)."""
    ratios, extra = [], []
    for i in range(pairs):
        runs = {}
        for count in ((0, watchers) if i % 2 == 0 else (watchers, 0)):
            cfg = TrainingConfig(**base, model_name=f"pair{i}-w{count}")
            runs[count] = _train(manager, demo, url, cfg, count)
        (none_s, none), (watched_s, watched) = runs[0], runs[watchers]
        ratios.append(watched_s / none_s)
        extra.append(watched["server_cpu_s"] / watched_s - none["server_cpu_s"] / none_s)
        print(f"pair {i}: none {none_s:.2f}s, {watchers} watchers {watched_s:.2f}s, ratio "
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
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--imgsz", type=int, default=64)
    parser.add_argument("--watchers", type=int, default=20)
    args = parser.parse_args()
    backend = TimedBackend()
    base = dict(dataset="tiny", base_model="yolo11n.yaml", epochs=args.epochs, imgsz=args.imgsz,
                workers=0, batch=8, device="cpu")
    with monitored_studio("yolo-studio-monitoring-", backend) as (manager, monitor):
        demo = studio_app(manager, monitor)
        with served(demo) as url:
            delays = _latency(manager, backend, demo, url,
                              TrainingConfig(**base, model_name="latency"))
            print("epoch end -> charts update in a page, delays (s): "
                  + " ".join(f"{d:.4f}" for d in delays))
            ratios = _pairs(manager, demo, url, base, args.pairs, args.watchers)
    _print_epoch_ratios(args.watchers)
    check_ms = measure_check_ms(2000)[0]
    print(f"latency_median_s={statistics.median(delays):.4f} "
          f"watchers_ratio={statistics.median(ratios):.3f} check_ms={check_ms:.4f}")


if __name__ == "__main__":
    main()
