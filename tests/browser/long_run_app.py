"""The studio over a long fake run, served for a browser test (run as a script).

    python tests/browser/long_run_app.py ROOT PORT FAST_EPOCHS EPOCH_S [monitor]

Serves the real app (``build_app``, ``queued``, as ``app.py`` does) on 127.0.0.1:PORT over a
``TrainingManager`` whose backend is the real ``UltralyticsBackend`` over the fake Ultralytics
(``tests/training/fake_ultralytics.py``: Ultralytics' callbacks in their real order, 3 short
batches an epoch). One job of ``FAST_EPOCHS + 1000`` epochs starts at once: its first
``FAST_EPOCHS`` epochs run as fast as the fake goes, every later one takes about ``EPOCH_S``
seconds (batch progress in between), so a page sees a long history that keeps growing.
Prints ``URL <url>`` once serving, ``EPOCHS <n>`` once ``n >= FAST_EPOCHS`` epochs are in the
snapshot's history; runs until killed. ROOT must hold ``datasets/tiny`` (a bccd-tiny copy).
With ``monitor``, a started ``ResourceMonitor`` feeds the resource chart, as in ``app.py``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(TESTS.parent), str(TESTS), str(TESTS / "training")]
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def _paced(fast_epochs: int, epoch_s: float, batches: int):
    """A FakeYOLO ``gate``: no wait in the first ``fast_epochs`` epochs, then
    ``epoch_s / batches`` seconds at each batch start."""
    def gate(epoch: int, batch: int) -> None:
        if epoch >= fast_epochs:
            time.sleep(epoch_s / batches)
    return gate


def _factory(gate):
    """A ``model_factory`` of FakeYOLOs whose metrics rise towards 0.9 and losses fall, as a
    real run's do (fractions 0-1 however many epochs; the plain fake's grow past 1)."""
    import math

    from fake_ultralytics import FakeYOLO

    class LongRunYOLO(FakeYOLO):
        def _validate(self, epoch: int, with_losses: bool) -> dict[str, float]:
            m = 0.9 * (1 - math.exp(-epoch / 60)) + 0.02 * math.sin(epoch)
            out = {"metrics/precision(B)": m + 0.05, "metrics/recall(B)": m - 0.02,
                   "metrics/mAP50(B)": m, "metrics/mAP50-95(B)": m / 2}
            if with_losses:
                out.update({"val/box_loss": 2.0 - m, "val/cls_loss": 1.0 - m / 2,
                            "val/dfl_loss": 1.0 - m / 3})
            return out

    return lambda model: LongRunYOLO(model, batches=BATCHES, gate=gate)


#: Batches per fake epoch.
BATCHES = 3


def main(root: str, port: str, fast_epochs: str, epoch_s: str, monitored: str = "") -> None:
    from training_helpers import fake_config

    from yolo_studio.config import StudioSettings
    from yolo_studio.resources import ResourceMonitor
    from yolo_studio.training.manager import TrainingManager
    from yolo_studio.training.ultralytics_backend import UltralyticsBackend
    from yolo_studio.ui.app import MAX_THREADS, build_app, queued

    fast = int(fast_epochs)
    backend = UltralyticsBackend(model_factory=_factory(_paced(fast, float(epoch_s), BATCHES)))
    monitor = ResourceMonitor() if monitored == "monitor" else None
    if monitor is not None:
        monitor.start()
    manager = TrainingManager(StudioSettings(root=Path(root)), backend=backend, monitor=monitor)
    manager.start()
    demo = queued(build_app(manager, monitor))
    demo.launch(server_name="127.0.0.1", server_port=int(port), max_threads=MAX_THREADS,
                prevent_thread_lock=True, quiet=True)
    print(f"URL http://127.0.0.1:{port}/", flush=True)
    manager.start_training(fake_config(model_name="long", epochs=fast + 1000, patience=0, imgsz=32))
    while len(manager.snapshot().history) < fast:
        time.sleep(0.2)
    print(f"EPOCHS {len(manager.snapshot().history)}", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main(*sys.argv[1:6])
