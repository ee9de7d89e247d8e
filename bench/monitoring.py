"""Monitoring costs, measured in one run against the same training without monitoring.

1. Latency: real training of a copy of tests/data/bccd-tiny (yolo11n.yaml, imgsz 64, workers 0)
   through ``TrainingManager``; the backend's hooks are wrapped to note when each epoch's metrics
   leave Ultralytics' ``on_fit_epoch_end``, and a subscriber thread (``wait_for_change``, as the UI
   stream does) notes when the new point reaches it. Reports the median delay in seconds.
2. Watchers: the same training with 20 simulated watchers (threads that each run the Monitor tab's
   own stream generator with the app's shared figure cache, as an open browser tab does, and
   pass every plot value it yields through ``gr.Plot.postprocess``, as Gradio does before
   sending) against none, alternated, ``--pairs`` pairs (the watchers are started, and have
   drawn their first full update, before the timed job starts, as tabs opened beforehand).
   Reports the median wall-time ratio watched/unwatched and the spread of the pair ratios (on a
   shared 2-core VM, runs of the same job differ by 5-20%, so a few pairs cannot resolve 3%).
3. The same cost epoch by epoch inside one run (bench/monitoring_epochs.py: the watchers are
   switched on and off per epoch, so both sides share the machine's drift), and that
   measurement with no watchers at all, its noise floor. Printed before the last line.
4. ``ResourceMonitor.check()`` cost with a warm NVML handle (bench/monitoring_check.py).

    python bench/monitoring.py [--pairs 10] [--epochs 3] [--watchers 20]

Last line: ``latency_median_s=<x> watchers_ratio=<y> check_ms=<z>``.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import threading
import time

from common import monitored_studio, watch_tab
from monitoring_check import measure_check_ms
from monitoring_epochs import epoch_ratio

from yolo_studio.config import TrainingConfig
from yolo_studio.training.manager import TrainingManager
from yolo_studio.training.snapshot import JobState
from yolo_studio.training.ultralytics_backend import UltralyticsBackend
from yolo_studio.ui import monitor_tab


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


def _subscribe(manager: TrainingManager, stop: threading.Event, arrivals: list[float]) -> None:
    """A bare subscriber (``wait_for_change``, as the UI stream) noting when each new epoch
    arrives."""
    snap = manager.snapshot()
    seen = len(snap.history)
    while not stop.is_set():
        snap = manager.wait_for_change(snap.version, 0.5)
        if len(snap.history) > seen:
            arrivals.extend([time.perf_counter()] * (len(snap.history) - seen))
            seen = len(snap.history)


def _train(manager: TrainingManager, monitor, config: TrainingConfig, watchers: int,
           arrivals: list[float] | None = None) -> float:
    """Wall seconds of one job with ``watchers`` watching threads."""
    stop = threading.Event()
    figures = monitor_tab.FigureCache()  # one per app, shared by its tabs (as ui/app.py does)
    threads = [threading.Thread(target=_subscribe, args=(manager, stop, arrivals), daemon=True)
               if arrivals is not None and i == 0 else
               threading.Thread(target=watch_tab, args=(manager, monitor, stop, figures),
                                daemon=True)
               for i in range(watchers)]
    for t in threads:
        t.start()
    time.sleep(0.5)  # every watcher has drawn its first full update
    t0 = time.perf_counter()
    snap = manager.wait_for_job(manager.start_training(config))
    seconds = time.perf_counter() - t0
    stop.set()
    for t in threads:
        t.join()
    if snap.state != JobState.COMPLETED:
        raise SystemExit(f"run ended {snap.state.value}: {snap.error}")
    return seconds


def _print_epoch_ratios(watchers: int) -> None:
    """The finer measurement of bench/monitoring_epochs.py, and the same with no watchers at
    all (its noise floor)."""
    tab = functools.partial(watch_tab, figures=monitor_tab.FigureCache())
    for count in (watchers, 0):
        result = epoch_ratio(tab, watchers=count)
        print(f"epochs switched between {count} watchers and none in one run (ABBA): median "
              f"{statistics.median(result['on']):.3f}s / {statistics.median(result['off']):.3f}s"
              f", epoch ratio {result['ratio']:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--watchers", type=int, default=20)
    args = parser.parse_args()
    backend = TimedBackend()
    base = dict(dataset="tiny", base_model="yolo11n.yaml", epochs=args.epochs, imgsz=64,
                workers=0, batch=8, device="cpu")
    with monitored_studio("yolo-studio-monitoring-", backend) as (manager, monitor):
        arrivals: list[float] = []
        _train(manager, monitor, TrainingConfig(**base, model_name="latency"), 1, arrivals)
        delays = [a - s for s, a in zip(backend.epoch_stamps, arrivals)]
        print("epoch-end -> subscriber delays (s): " + " ".join(f"{d:.4f}" for d in delays))
        ratios = []
        for i in range(args.pairs):
            runs = {}
            for watchers in ((0, args.watchers) if i % 2 == 0 else (args.watchers, 0)):
                cfg = TrainingConfig(**base, model_name=f"pair{i}-w{watchers}")
                runs[watchers] = _train(manager, monitor, cfg, watchers)
            ratios.append(runs[args.watchers] / runs[0])
            print(f"pair {i}: none {runs[0]:.2f}s, {args.watchers} watchers "
                  f"{runs[args.watchers]:.2f}s, ratio {ratios[-1]:.3f}")
        print(f"pair ratios spread {min(ratios):.3f}-{max(ratios):.3f} (this machine's noise)")
    _print_epoch_ratios(args.watchers)
    check_ms = measure_check_ms(2000)[0]
    print(f"latency_median_s={statistics.median(delays):.4f} "
          f"watchers_ratio={statistics.median(ratios):.3f} check_ms={check_ms:.4f}")


if __name__ == "__main__":
    main()
