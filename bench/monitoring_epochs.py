"""Watchers' cost epoch by epoch, inside one real training run (used by bench/monitoring.py).

On a shared 2-core VM, whole runs of the same training differ by 5-20% from one minute to the
next, which hides a 3% effect unless very many runs are made. Here ``watchers`` simulated pages
(``common.watching_pages``: over HTTP, against the app served as ``app.py`` serves it)
follow one training run, and are switched on and off epoch by epoch in ABBA order (off, on,
on, off, ...; epoch 1, the warm-up, is left out), so watched and unwatched epochs share the
machine's drift. The job trains as in the studio, in a worker process of its own; an epoch is
timed, as its events reach the server, from the previous epoch's end to its own, and the switch
for it is set before the previous epoch's end is published, so the frame for that end (the
costliest one: new charts to every page) counts on the side that sent it. Switched off, the
feed's thread blocks before and after each wait for a change, so no page gets a frame (pages
still get their keep-alive after ``monitor_feed.KEEPALIVE_S`` seconds without one).

    python bench/monitoring_epochs.py [--epochs 21] [--watchers 20]

Prints the epoch times and ``epoch_ratio=<median watched / median unwatched epoch seconds>``.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

from common import monitored_studio, served, studio_app, wait_worker_ready, watching_pages

from yolo_studio.config import TrainingConfig
from yolo_studio.training.executors import ProcessExecutor
from yolo_studio.training.manager import TrainingManager


def watched(epoch: int) -> bool:
    """ABBA from epoch 2: 2 off, 3 on, 4 on, 5 off, 6 off, 7 on, ..."""
    return (epoch - 2) % 4 in (1, 2)


class SwitchedManager:
    """The manager as the app sees it: ``wait_for_change`` blocks while ``on`` is clear."""

    def __init__(self, manager: TrainingManager, on: threading.Event) -> None:
        self.manager, self.on = manager, on

    def wait_for_change(self, version: int, timeout_s: float, major_only: bool = False):
        self.on.wait()
        self.manager.wait_for_change(version, timeout_s, major_only=major_only)
        self.on.wait()  # switched off meanwhile: nothing goes out until switched on again
        return self.manager.snapshot()

    def __getattr__(self, name: str):  # the rest of the manager's API, for the app
        return getattr(self.manager, name)


class _EpochHooks:
    """Forwards every hook; times each epoch from the previous epoch's end (epoch 1: its
    start) to its own, and sets the watchers' switch for the next epoch before passing an
    epoch's end on."""

    def __init__(self, hooks, switch: threading.Event, times: dict[int, float]) -> None:
        self._hooks, self._switch, self._times = hooks, switch, times
        self._last_end: float | None = None

    def on_epoch_start(self, epoch: int) -> None:
        if self._last_end is None:
            self._last_end = time.perf_counter()
        self._hooks.on_epoch_start(epoch)

    def on_epoch_end(self, metrics) -> None:
        now = time.perf_counter()
        self._times[metrics.epoch], self._last_end = now - self._last_end, now
        self._switch.set() if watched(metrics.epoch + 1) else self._switch.clear()
        self._hooks.on_epoch_end(metrics)

    def __getattr__(self, name):
        return getattr(self._hooks, name)


class SwitchingExecutor(ProcessExecutor):
    """The studio's executor (a worker process per job); the events of each job reach the
    manager through ``_EpochHooks``: epoch times in ``times`` (as the server receives the
    events), the watchers switched per epoch."""

    def __init__(self, switch: threading.Event) -> None:
        super().__init__()
        self.switch, self.times = switch, {}

    def train(self, config, data_yaml, run_dir, hooks, resume):
        return super().train(config, data_yaml, run_dir,
                             _EpochHooks(hooks, self.switch, self.times), resume)


def epoch_ratio(epochs: int = 21, watchers: int = 20, imgsz: int = 128) -> dict:
    """Train a copy of bccd-tiny for ``epochs`` epochs with ``watchers`` simulated pages,
    switched on in the watched epochs.

    Returns:
        {"on": [seconds of watched epochs], "off": [...], "ratio": median on / median off}.
    """
    executor = SwitchingExecutor(threading.Event())
    with monitored_studio("yolo-studio-monitoring-epochs-", executor=executor
                          ) as (manager, monitor):
        wait_worker_ready(manager)
        view = SwitchedManager(manager, executor.switch)
        view.on.set()  # the pages draw their first update, then wait for a watched epoch
        demo = studio_app(view, monitor)
        with served(demo) as url, watching_pages(demo, url, watchers):
            view.on.clear()
            try:
                snap = manager.wait_for_job(manager.start_training(TrainingConfig(
                    dataset="tiny", base_model="yolo11n.yaml", epochs=epochs, imgsz=imgsz,
                    workers=0, batch=8, device="cpu", patience=epochs + 1,
                    model_name="epochs")))
            finally:
                view.on.set()
    if snap.state.value != "COMPLETED":
        raise SystemExit(f"run ended {snap.state.value}: {snap.error}")
    times = {e: s for e, s in executor.times.items() if e > 1}
    on = [s for e, s in sorted(times.items()) if watched(e)]
    off = [s for e, s in sorted(times.items()) if not watched(e)]
    return {"on": on, "off": off, "ratio": statistics.median(on) / statistics.median(off)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=21)
    parser.add_argument("--watchers", type=int, default=20)
    args = parser.parse_args()
    result = epoch_ratio(args.epochs, args.watchers)
    print("watched epochs (s): " + " ".join(f"{s:.2f}" for s in result["on"]))
    print("unwatched epochs (s): " + " ".join(f"{s:.2f}" for s in result["off"]))
    print(f"epoch_ratio={result['ratio']:.3f}")


if __name__ == "__main__":
    main()
