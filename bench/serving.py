"""What serving the app costs training with no page open, measured in one run.

Gradio's queue looks for new events every 1 ms while it has none (and for progress updates
every 10 ms), so a served app wakes its event loop about 1000 times a second. ``app.queued``
slows that polling (``QUEUE_POLL_S``, ``PROGRESS_POLL_S``). The same training (a copy of
bccd-tiny, yolo11n.yaml, imgsz 64, workers 0) runs through ``TrainingManager``, in a worker
process of its own as in the studio, in three ways, in rotated order, after a warm-up: with
nothing served, with the app served as ``app.py`` serves it (``common.served``) but the queue
at Gradio's defaults, and served as ``app.py`` serves it. Each job starts once its worker
has imported torch and Ultralytics (``common.wait_worker_ready``). Also prints the CPU the
server's threads (``common.serving_threads``) used during the jobs of each arm.

    python bench/serving.py [--rounds 8] [--epochs 3]

Prints each round and, as the last line, ``ratio=<median studio pace / Gradio's pace wall
time>``, with the medians of both against nothing served and the server threads' CPU before
it.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time

import gradio as gr
from common import (monitored_studio, served, serving_threads, studio_app, studio_run,
                    thread_cpu_s, wait_worker_ready)

from yolo_studio.config import TrainingConfig
from yolo_studio.ui.app import PROGRESS_POLL_S, QUEUE_POLL_S

ARMS = ("none", "gradio", "studio")


@contextlib.contextmanager
def _arm(name: str, demo):
    """Serve ``demo`` for the block as the arm says (not at all for "none")."""
    if name == "none":
        yield
        return
    with served(demo):
        if name == "gradio":  # the pace of a queue Gradio made and nobody changed
            fresh = gr.Blocks().queue()._queue
            demo._queue.sleep_when_free = fresh.sleep_when_free
            demo._queue.progress_update_sleep_when_free = fresh.progress_update_sleep_when_free
        else:
            assert (demo._queue.sleep_when_free, demo._queue.progress_update_sleep_when_free) \
                == (QUEUE_POLL_S, PROGRESS_POLL_S)
        time.sleep(0.5)  # the server has settled
        yield


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    base = dict(dataset="tiny", base_model="yolo11n.yaml", epochs=args.epochs, imgsz=64,
                workers=0, batch=8, device="cpu")
    times: dict[str, list[float]] = {arm: [] for arm in ARMS}
    cpu: dict[str, list[float]] = {arm: [] for arm in ARMS}  # server threads, share of a core
    with monitored_studio("yolo-studio-serving-") as (manager, monitor):
        demo = studio_app(manager, monitor)
        studio_run(manager, TrainingConfig(**base, model_name="warm-up"))
        for i in range(args.rounds):
            order = ARMS[i % 3:] + ARMS[:i % 3]
            for arm in order:
                wait_worker_ready(manager)
                with _arm(arm, demo):
                    before = thread_cpu_s(serving_threads())
                    times[arm].append(studio_run(manager, TrainingConfig(**base,
                                                                         model_name=f"r{i}-{arm}")))
                    after = thread_cpu_s(serving_threads() | set(before))
                cpu[arm].append(sum(t - before.get(n, 0.0) for n, t in after.items())
                                / times[arm][-1])
            print(f"round {i}: " + ", ".join(f"{arm} {times[arm][-1]:.2f}s" for arm in order))
    def ratio(a: str, b: str) -> float:
        return statistics.median(x / y for x, y in zip(times[a], times[b]))
    print(f"served at Gradio's pace / nothing served: median {ratio('gradio', 'none'):.3f}; "
          f"served at the studio's pace / nothing served: median {ratio('studio', 'none'):.3f}")
    print("the server's threads during a job, median share of one core: "
          + ", ".join(f"{arm} {100 * statistics.median(cpu[arm]):.2f}%" for arm in ARMS))
    print(f"ratio={ratio('studio', 'gradio'):.3f}")


if __name__ == "__main__":
    main()
