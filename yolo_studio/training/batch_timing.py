"""Measure real training batches of a base model on a device, in a process of its own.

``measure`` builds the model as Ultralytics' detection trainer does (``DetectionModel`` of the
config, or of a ``.pt``'s own config, with the dataset's class count), puts ``batch`` random
images of ``imgsz`` x ``imgsz`` pixels with ``BOXES_PER_IMAGE`` random boxes each through real
training steps (forward, Ultralytics' loss, backward, an AdamW step; mixed precision on CUDA, as
Ultralytics trains there) and times them, then times a forward pass in eval mode (validation).
Data loading and augmentation are not timed. The first step warms up (CUDA kernels, memory);
when it alone took more than ``PASS_BUDGET_S`` (a CPU at a large imgsz), it is the measurement.

``measure_in_subprocess`` runs ``python -m yolo_studio.training.batch_timing`` so that the
studio's process never holds the model, its memory or a CUDA context; a timeout kills it.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable

from ..config import device_gpus
from ..errors import EstimateUnavailable
from .base_models import studio_python_env
from .child_process import plain_line

#: Seconds the timed steps after the warm-up may take together (at most ``MAX_PASSES``).
PASS_BUDGET_S = 10.0
MAX_PASSES = 3
#: Random boxes per image: Ultralytics' loss assigns targets per box, so its cost grows with them.
BOXES_PER_IMAGE = 8
#: Seconds a measurement in a subprocess may take (imports included) before it is killed.
TIMEOUT_S = 600.0
#: The line of the subprocess's stdout that carries the result, as JSON after this prefix.
RESULT_PREFIX = "BATCH_TIMING "


@dataclass(frozen=True)
class BatchTiming:
    """What one measurement found.

    Attributes:
        s_per_batch: Seconds per training step of a whole batch (forward, loss, backward,
            optimizer step), the median of the timed steps; with several GPUs (DDP), one
            GPU's step on its share of the batch (the GPUs step together).
        s_per_val_image: Seconds per image of a forward pass in eval mode (validation).
        device: Where it ran, e.g. ``cpu`` or ``cuda:0 (NVIDIA H100 80GB HBM3)``.
        passes: Timed training steps behind ``s_per_batch``.
    """

    s_per_batch: float
    s_per_val_image: float
    device: str
    passes: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "BatchTiming":
        return cls(float(data["s_per_batch"]), float(data["s_per_val_image"]),
                   str(data["device"]), int(data["passes"]))


def _timed(step: Callable[[], None], sync: Callable[[], None]) -> list[float]:
    """Seconds of each timed call of ``step``: a warm-up call first, then up to ``MAX_PASSES``
    while they fit in ``PASS_BUDGET_S``; the warm-up's own time when it alone took longer."""
    def once() -> float:
        start = time.perf_counter()
        step()
        sync()
        return time.perf_counter() - start

    first = once()
    times: list[float] = []
    while len(times) < MAX_PASSES and sum(times) + (times[-1] if times else first) <= \
            PASS_BUDGET_S:
        times.append(once())
    return times or [first]


def _build_model(base_model: str, nc: int) -> Any:
    """The ``DetectionModel`` Ultralytics' trainer would build (random weights: timing only)."""
    from ultralytics.cfg import get_cfg
    from ultralytics.nn.tasks import DetectionModel, load_checkpoint

    config: Any = base_model
    if base_model.lower().endswith(".pt"):
        config = load_checkpoint(base_model)[0].yaml
    model = DetectionModel(config, nc=nc, verbose=False)
    model.args = get_cfg()  # the loss reads its gains (box, cls, dfl) from the defaults
    return model


def _fake_batch(batch: int, imgsz: int, nc: int, device: Any) -> dict[str, Any]:
    """A training batch of random images and ``BOXES_PER_IMAGE`` random boxes per image, as
    Ultralytics' dataloader shapes it (boxes as normalized xywh)."""
    import torch

    gen = torch.Generator().manual_seed(0)
    boxes = batch * BOXES_PER_IMAGE
    centres = torch.rand(boxes, 2, generator=gen) * 0.6 + 0.2
    sizes = torch.rand(boxes, 2, generator=gen) * 0.2 + 0.05
    return {"img": torch.rand(batch, 3, imgsz, imgsz, generator=gen).to(device),
            "batch_idx": torch.arange(batch).repeat_interleave(BOXES_PER_IMAGE).float()
            .to(device),
            "cls": torch.randint(0, nc, (boxes, 1), generator=gen).float().to(device),
            "bboxes": torch.cat([centres, sizes], 1).to(device)}


def _device_name(device: Any, gpus: int) -> str:
    import torch

    if device.type != "cuda":
        return str(device)
    name = f"{device} ({torch.cuda.get_device_name(device)})"
    return f"{gpus} GPUs, each as {name}" if gpus > 1 else name


def measure(base_model: str, imgsz: int, batch: int, device: str, nc: int) -> BatchTiming:
    """Time real training steps and a validation forward pass in this process.

    Args:
        base_model: A ``.yaml`` model config or a ``.pt`` file (checked before: no download
            is wanted here). imgsz: pixels. batch: images per step, a whole number >= 1
            (with several GPUs, split evenly, as DDP does). device: A ``TrainingConfig.device``
            (Ultralytics' ``select_device`` picks the same device a job would get). nc: the
            dataset's class count.

    Raises:
        Whatever torch or Ultralytics raise (an out-of-memory error among them).
    """
    from ultralytics.utils.torch_utils import select_device

    gpus = len(device_gpus(device) or ()) if "," in device else 1
    per_device = max(1, batch // gpus)
    dev = select_device(device, verbose=False)
    model = _build_model(base_model, nc).to(dev).train()
    train_step, val_step, sync = _steps(model, _fake_batch(per_device, imgsz, nc, dev), dev)
    steps = _timed(train_step, sync)
    model.eval()
    val = _timed(val_step, sync)
    return BatchTiming(statistics.median(steps), statistics.median(val) / per_device,
                       _device_name(dev, gpus), len(steps))


def _steps(model: Any, data: dict[str, Any], dev: Any) -> tuple[Callable[[], None], ...]:
    """(a training step, a validation forward pass, a CUDA sync) on ``data``: an AdamW step
    on Ultralytics' loss, with mixed precision and a gradient scaler on CUDA."""
    import torch

    amp = dev.type == "cuda"
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler("cuda", enabled=amp)

    def train_step() -> None:
        with torch.autocast(dev.type, enabled=amp):
            loss, _ = model.loss(data)
        scaler.scale(loss.sum()).backward()
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad()

    def val_step() -> None:
        with torch.inference_mode(), torch.autocast(dev.type, enabled=amp):
            model(data["img"])

    return train_step, val_step, (torch.cuda.synchronize if amp else (lambda: None))


def measure_in_subprocess(base_model: str, imgsz: int, batch: int, device: str, nc: int,
                          timeout_s: float = TIMEOUT_S) -> BatchTiming:
    """``measure`` in a fresh ``python -m yolo_studio.training.batch_timing`` process (no pip
    auto-install there), killed after ``timeout_s`` seconds.

    Raises:
        EstimateUnavailable: it timed out or failed (its last output line says why).
    """
    env = studio_python_env()
    spec = json.dumps({"base_model": base_model, "imgsz": imgsz, "batch": batch,
                       "device": device, "nc": nc})
    try:
        done = subprocess.run([sys.executable, "-m", __name__, spec], capture_output=True,
                              text=True, timeout=timeout_s, env=env, check=False)
    except subprocess.TimeoutExpired as err:
        raise EstimateUnavailable(f"Measuring a batch of {base_model} took more than "
                                  f"{timeout_s:.0f} s; try a smaller imgsz or batch.") from err
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return BatchTiming.from_dict(json.loads(line[len(RESULT_PREFIX):]))
    lines = [plain_line(line) for line in (done.stderr + done.stdout).splitlines()]
    reason = next((line for line in reversed(lines) if line), f"exit code {done.returncode}")
    raise EstimateUnavailable(f"Could not measure a batch of {base_model} at imgsz {imgsz}, "
                              f"batch {batch}: {reason}")


def main(argv: list[str]) -> int:
    """Entry of the subprocess: one JSON argument (``measure``'s keyword arguments); prints
    ``RESULT_PREFIX`` + the result's JSON. Exit 0, or 1 with the error on stderr."""
    from .ultralytics_backend import _ultralytics

    _ultralytics()  # pip auto-install off
    try:
        timing = measure(**json.loads(argv[0]))
    except Exception as err:  # noqa: BLE001 - reported to the studio as the last line
        text = str(err).splitlines()[0] if str(err) else ""
        if "out of memory" in str(err).lower():
            text = f"out of memory ({text}); lower the batch or imgsz"
        print(f"{type(err).__name__}: {text}", file=sys.stderr)
        return 1
    print(RESULT_PREFIX + json.dumps(timing.to_dict()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
