"""A fake ``ultralytics.YOLO`` for tests: fires the callbacks in Ultralytics 8.4's real order.

Mirrors ``ultralytics/engine/trainer.py`` (``_setup_train``, ``_do_train``, ``final_eval``):
on_pretrain_routine_start, on_pretrain_routine_end (after ``stop`` was reset), on_train_start;
per epoch on_train_epoch_start, per batch on_train_batch_start/on_train_batch_end (the loop breaks
after a batch when ``trainer.stop``), on_train_epoch_end, validation, results.csv row,
early-stopping check, weights save, on_model_save, on_fit_epoch_end; after the loop the final
validation of best.pt with ``trainer.epoch`` one past the last epoch and on_fit_epoch_end again,
then on_train_end and teardown. Writes a real results.csv and dummy weights files.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

VAL_KEYS = ("metrics/precision(B)", "metrics/recall(B)", "metrics/mAP50(B)",
            "metrics/mAP50-95(B)")
LOSS_NAMES = ("box_loss", "cls_loss", "dfl_loss")


class FakeStopper:
    """Ultralytics' EarlyStopping logic (utils/torch_utils.py)."""

    def __init__(self, patience: int) -> None:
        self.best_fitness, self.best_epoch = 0.0, 0
        self.patience = patience or math.inf
        self.possible_stop = False

    def __call__(self, epoch: int, fitness: float | None) -> bool:
        if fitness is None:
            return False
        if self.best_fitness == 0 or fitness >= self.best_fitness:
            self.best_epoch, self.best_fitness = epoch, fitness
        delta = epoch - self.best_epoch
        self.possible_stop = delta >= (self.patience - 1)
        return delta >= self.patience


class FakeLoader:
    def __init__(self, batches: int, images: int) -> None:
        self.dataset = [None] * images
        self._batches = batches
        self.closed = False

    def __len__(self) -> int:
        return self._batches

    def close(self) -> None:  # InfiniteDataLoader.close: shuts down the worker processes
        self.closed = True


class FakeTrainer:
    """The trainer attributes the studio reads, with Ultralytics' names and types."""

    def __init__(self, kwargs: dict[str, Any], callbacks: dict[str, list], batches: int,
                 images: int) -> None:
        self.args = SimpleNamespace(**kwargs)
        self.callbacks = callbacks
        self.epochs = int(kwargs.get("epochs", 100))
        self.epoch = 0
        self.stop = False
        self.save_dir = Path(kwargs["project"]) / kwargs["name"]
        self.wdir = self.save_dir / "weights"
        self.best, self.last = self.wdir / "best.pt", self.wdir / "last.pt"
        self.csv = self.save_dir / "results.csv"
        self.batch_size = int(kwargs.get("batch", 16))
        self.tloss: dict[str, float] | None = None
        self.loss_names: tuple[str, ...] = ()
        self.metrics: dict[str, float] = {}
        self.lr: dict[str, float] = {}
        self.fitness: float | None = None
        self.stopper = FakeStopper(int(kwargs.get("patience", 100)))
        self.train_loader = FakeLoader(batches, images)
        self.train_time_start = time.time()

    def run_callbacks(self, event: str) -> None:
        for callback in self.callbacks.get(event, []):
            callback(self)


class FakeYOLO:
    """``model_factory`` product: ``FakeYOLO(name)``; behaviour set on the factory.

    Args:
        model: Base model name or path.
        batches / images: Batches per epoch and train images.
        fail_at: (epoch, batch) 0-based where a RuntimeError is raised inside the batch.
        error: The exception to raise at ``fail_at`` (default RuntimeError("boom")).
        nan_at: (epoch, batch) from which the losses are NaN.
        plateau_after: Epoch count after which mAP gets slightly worse (drives early stopping).
        gate: Called as ``gate(epoch, batch)`` at every batch start (tests block/cancel there).
        missing: Raise ConnectionError like Ultralytics offline for ``.pt`` names.
        val_scale: Factors for validation metrics, e.g. ``{"metrics/mAP50(B)": 2.0}`` (models
            that rank differently by mAP50 and by mAP50-95).
        oom_above: Batches larger than this run out of memory in their first batch. As in
            ``trainer._do_train``: during the first epoch the batch is halved (``args.batch``
            and ``batch_size``), the loader rebuilt and the epoch restarted, up to 3 times;
            later (or a 4th time) the RuntimeError propagates. Batches = ceil(images / batch).
    """

    instances: list["FakeYOLO"] = []

    def __init__(self, model: str, batches: int = 3, images: int = 20,
                 fail_at: tuple[int, int] | None = None, error: Exception | None = None,
                 nan_at: tuple[int, int] | None = None, plateau_after: int | None = None,
                 gate: Callable[[int, int], None] | None = None, missing: bool = False,
                 oom_above: int | None = None, val_scale: dict[str, float] | None = None) -> None:
        if missing and str(model).endswith(".pt") and not Path(model).is_file():
            raise ConnectionError(f"Download failure for {model}. Environment may be offline.")
        self.model = model
        self.batches, self.images = batches, images
        self.fail_at, self.error, self.nan_at = fail_at, error, nan_at
        self.plateau_after, self.gate = plateau_after, gate
        self.oom_above = oom_above
        self.val_scale = val_scale or {}
        self.callbacks: dict[str, list] = {}
        self.train_kwargs: dict[str, Any] | None = None
        self.trainer: FakeTrainer | None = None
        FakeYOLO.instances.append(self)

    def add_callback(self, event: str, fn: Callable) -> None:
        self.callbacks.setdefault(event, []).append(fn)

    def train(self, **kwargs: Any) -> dict[str, float]:
        self.train_kwargs = kwargs
        t = self.trainer = FakeTrainer(kwargs, self.callbacks, self.batches, self.images)
        t.save_dir.mkdir(parents=True, exist_ok=True)
        t.wdir.mkdir(exist_ok=True)
        if t.csv.exists():
            t.csv.unlink()
        try:
            t.run_callbacks("on_pretrain_routine_start")
            t.stop = False  # _setup_train resets the flag
            t.metrics = dict.fromkeys(VAL_KEYS, 0)
            t.run_callbacks("on_pretrain_routine_end")
            self._do_train(t)
        finally:
            t.run_callbacks("teardown")
        return dict(t.metrics)

    def _do_train(self, t: FakeTrainer) -> None:
        t.train_time_start = time.time()
        t.run_callbacks("on_train_start")
        epoch, t.oom_retries = 0, 0
        if self.oom_above is not None:
            t.train_loader = FakeLoader(math.ceil(self.images / t.batch_size), self.images)
        while True:
            t.epoch = epoch
            t.run_callbacks("on_train_epoch_start")
            t.tloss = None
            for i in range(len(t.train_loader)):
                t.run_callbacks("on_train_batch_start")
                if self.gate:
                    self.gate(epoch, i)
                if self.fail_at == (epoch, i):
                    raise self.error or RuntimeError("boom")
                if self._out_of_memory(t, epoch):
                    break  # restart the epoch with the halved batch
                self._batch_loss(t, epoch, i)
                t.run_callbacks("on_train_batch_end")
                if t.stop:
                    break
            else:
                t.oom_retries = 0
            if t.oom_retries and not t.stop:
                continue
            t.lr = {"lr/pg0": 0.001 * (1 - epoch / t.epochs), "lr/pg1": 0.001, "lr/pg2": 0.001}
            t.run_callbacks("on_train_epoch_end")
            final_epoch = epoch + 1 >= t.epochs
            t.metrics, t.fitness = self._validate(epoch, with_losses=True), None
            t.fitness = t.metrics["metrics/mAP50-95(B)"]
            self._save_metrics(t)
            t.stop |= t.stopper(epoch + 1, t.fitness) or final_epoch
            t.last.write_bytes(b"fake-last-%d" % epoch)
            if t.stopper.best_epoch == epoch + 1:
                t.best.write_bytes(b"fake-best-%d" % epoch)
            t.run_callbacks("on_model_save")
            t.run_callbacks("on_fit_epoch_end")
            if t.stop:
                break
            epoch += 1
        if t.best.exists():  # final_eval
            t.metrics = self._validate(t.stopper.best_epoch - 1, with_losses=False)
            t.epoch += 1
            t.run_callbacks("on_fit_epoch_end")
            t.epoch -= 1
        t.run_callbacks("on_train_end")

    def _out_of_memory(self, t: FakeTrainer, epoch: int) -> bool:
        """True after halving the batch (first epoch); raises like torch when out of retries."""
        if self.oom_above is None or t.batch_size <= self.oom_above:
            return False
        if epoch > 0 or t.oom_retries >= 3:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        t.oom_retries += 1
        old = t.batch_size
        t.args.batch = t.batch_size = max(old // 2, 1)
        logging.getLogger("ultralytics").warning(
            f"CUDA out of memory with batch={old}. Reducing to batch={t.batch_size} and "
            f"retrying ({t.oom_retries}/3).")
        t.train_loader = FakeLoader(math.ceil(self.images / t.batch_size), self.images)
        return True

    def _batch_loss(self, t: FakeTrainer, epoch: int, i: int) -> None:
        nan = self.nan_at is not None and (epoch, i) >= self.nan_at
        base = float("nan") if nan else 3.0 / (1 + epoch + i / self.batches)
        items = {"box_loss": base, "cls_loss": base / 2, "dfl_loss": base / 3}
        t.loss_names = t.loss_names or tuple(items)
        t.tloss = items if t.tloss is None else {
            k: (t.tloss[k] * i + v) / (i + 1) for k, v in items.items()}

    def _validate(self, epoch: int, with_losses: bool) -> dict[str, float]:
        m = 0.1 + 0.1 * epoch
        if self.plateau_after is not None and epoch >= self.plateau_after:  # slowly worse
            m = 0.1 * self.plateau_after - 0.01 * (epoch - self.plateau_after + 1)
        out = {"metrics/precision(B)": m + 0.05, "metrics/recall(B)": m + 0.02,
               "metrics/mAP50(B)": m, "metrics/mAP50-95(B)": m / 2}
        out = {k: v * self.val_scale.get(k, 1.0) for k, v in out.items()}
        if with_losses:
            out.update({"val/box_loss": 2.0 - m, "val/cls_loss": 1.0 - m / 2,
                        "val/dfl_loss": 1.0 - m / 3})
        return out

    @staticmethod
    def _save_metrics(t: FakeTrainer) -> None:
        losses = {f"train/{k}": round(float(v), 5) for k, v in (t.tloss or {}).items()}
        metrics = {**losses, **t.metrics, **t.lr}
        head = "" if t.csv.exists() else ",".join(["epoch", "time", *metrics]) + "\n"
        values = [t.epoch + 1, time.time() - t.train_time_start, *metrics.values()]
        with open(t.csv, "a", encoding="utf-8") as f:
            f.write(head + ",".join("%.6g" % v for v in values) + "\n")


def factory(**behaviour: Any) -> Callable[[str], FakeYOLO]:
    """A ``model_factory`` building FakeYOLO models with ``behaviour``."""
    return lambda model: FakeYOLO(model, **behaviour)


class Gate:
    """A ``gate`` that pauses training at (epoch, batch) until ``release()``.

    ``reached`` is set when training arrives there.
    """

    def __init__(self, epoch: int, batch: int) -> None:
        self.at = (epoch, batch)
        self.reached = threading.Event()
        self._go = threading.Event()

    def __call__(self, epoch: int, batch: int) -> None:
        if (epoch, batch) == self.at:
            self.reached.set()
            self._go.wait(30)

    def release(self) -> None:
        self._go.set()
