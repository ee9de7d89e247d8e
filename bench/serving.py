"""What serving the app costs training with no page open, measured in one run.

Gradio's queue looks for new events every 1 ms while it has none (and for progress updates
every 10 ms), so a served app wakes its event loop about 1000 times a second, each time taking
the GIL from the training thread. ``app.queued`` slows that polling (``QUEUE_POLL_S``,
``PROGRESS_POLL_S``). The same training (a copy of bccd-tiny, yolo11n.yaml, imgsz 64, workers
0) runs through ``TrainingManager`` in three ways, in rotated order, after a warm-up: with
nothing served, with the app served as ``app.py`` serves it (``common.served``) but the queue
at Gradio's defaults, and served as ``app.py`` serves it.

    python bench/serving.py [--rounds 8] [--epochs 3]

Prints each round and, as the last line, ``ratio=<median studio pace / Gradio's pace wall
time>``, with the medians of both against nothing served before it.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time

import gradio as gr
from common import monitored_studio, served, studio_app, studio_run

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
    from yolo_studio.training.ultralytics_backend import UltralyticsBackend

    times: dict[str, list[float]] = {arm: [] for arm in ARMS}
    with monitored_studio("yolo-studio-serving-", UltralyticsBackend()) as (manager, monitor):
        demo = studio_app(manager, monitor)
        studio_run(manager, TrainingConfig(**base, model_name="warm-up"))
        for i in range(args.rounds):
            order = ARMS[i % 3:] + ARMS[:i % 3]
            for arm in order:
                with _arm(arm, demo):
                    times[arm].append(studio_run(manager, TrainingConfig(**base,
                                                                         model_name=f"r{i}-{arm}")))
            print(f"round {i}: " + ", ".join(f"{arm} {times[arm][-1]:.2f}s" for arm in order))
    def ratio(a: str, b: str) -> float:
        return statistics.median(x / y for x, y in zip(times[a], times[b]))
    print(f"served at Gradio's pace / nothing served: median {ratio('gradio', 'none'):.3f}; "
          f"served at the studio's pace / nothing served: median {ratio('studio', 'none'):.3f}")
    print(f"ratio={ratio('studio', 'gradio'):.3f}")


if __name__ == "__main__":
    main()
