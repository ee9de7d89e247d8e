"""The studio with two jobs training at once on a fake cluster, served for a browser test (run
as a script).

    python tests/browser/cluster_app.py ROOT PORT

Serves the real app (``build_app``, ``queued``, as ``app.py`` does) on 127.0.0.1:PORT over a
``TrainingManager`` whose executor is ``cluster_double.ClusterExecutor`` (two nodes, each job
in a thread of its own, over the fake Ultralytics: Ultralytics' callbacks in their real
order). Two jobs start at once on dataset ``tiny``: ``older`` (1000 epochs, about
``EPOCH_S`` seconds each: it runs until cancelled) on node ``NODES[0]``, then ``newer``
(``NEWER_EPOCHS`` epochs) on ``NODES[1]``, which waits before its second epoch for as long as
the file ``ROOT/HOLD`` exists. Prints ``URL <url>`` once serving and ``READY`` once both
train; runs until killed. ROOT must hold ``datasets/tiny`` (a bccd-tiny copy).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(TESTS.parent), str(TESTS), str(TESTS / "training")]
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

#: While this file (in ROOT) exists, job ``newer`` waits before its second epoch.
HOLD = "hold-newer"
#: Seconds per epoch of job ``older`` (3 fake batches each).
EPOCH_S = 0.45
#: Epochs of job ``newer``.
NEWER_EPOCHS = 3


def _gates(root: Path):
    """The fake's ``gate(epoch, batch)`` per model name."""
    def paced(epoch: int, batch: int) -> None:
        time.sleep(EPOCH_S / 3)

    def held(epoch: int, batch: int) -> None:
        while epoch >= 1 and (root / HOLD).exists():
            time.sleep(0.05)
    return {"older": paced, "newer": held}


def main(root: str, port: str) -> None:
    from cluster_double import cluster_manager, fake_backend
    from training_helpers import fake_config

    from yolo_studio.config import StudioSettings
    from yolo_studio.ui.app import MAX_THREADS, build_app, queued

    folder = Path(root)
    (folder / HOLD).touch()
    gates = _gates(folder)
    manager = cluster_manager(StudioSettings(root=folder), lambda config: fake_backend(
        gate=gates[config.model_name]))
    manager.start()
    demo = queued(build_app(manager, None))
    demo.launch(server_name="127.0.0.1", server_port=int(port), max_threads=MAX_THREADS,
                prevent_thread_lock=True, quiet=True)
    print(f"URL http://127.0.0.1:{port}/", flush=True)
    # device "cpu": the fake trains without torch, and nothing imports it then
    manager.start_training(fake_config(model_name="older", epochs=1000, patience=0, imgsz=32,
                                          device="cpu"))
    while not manager.snapshot().node:  # placed: the next job gets the other node
        time.sleep(0.05)
    manager.start_training(fake_config(model_name="newer", epochs=NEWER_EPOCHS, imgsz=32,
                                          device="cpu"))
    while len(manager.running_jobs()) < 2 or not manager.snapshot().history:
        time.sleep(0.05)
    print("READY", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main(*sys.argv[1:3])
