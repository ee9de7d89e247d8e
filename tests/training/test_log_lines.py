"""The Ultralytics lines the Monitor's log tail gets: each header over its own lines.

``ULTRALYTICS_8_4`` is what the ``ultralytics`` logger said in a real 2-epoch run (8.4.190,
yolo11n.yaml, imgsz 32, bccd-tiny): the training header is logged but its rows are a progress
bar (not logged), and the validation rows are logged but their header is the validation
progress bar's description (not logged)."""

from __future__ import annotations

import logging

from yolo_studio.training.bridge import LogForwarder

ULTRALYTICS_8_4 = [
    "Using 20 train, 8 val images for fraction=1.0 at imgsz=32\nUsing 0 dataloader workers\n"
    "Starting training for 2 epochs...",
    "\n      Epoch    GPU_mem   box_loss   cls_loss   dfl_loss  Instances       Size",
    "                   all          8        167          0          0          0          0",
    "\n      Epoch    GPU_mem   box_loss   cls_loss   dfl_loss  Instances       Size",
    "                   all          8        167      0.012      0.031    0.00417    0.00123",
    "\n2 epochs completed in 0.002 hours.",
    "\nValidating /tmp/runs/r/weights/best.pt...",
    "YOLO11n summary (fused): 100 layers, 2,582,737 parameters, 0 gradients, 6.4 GFLOPs",
    "                   all          8        167      0.012      0.031    0.00417    0.00123",
    "                   RBC          8        149          0          0          0          0",
    "        red blood cell          8          8          0          0          0          0",
]


class _Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def log(self, line: str) -> None:
        self.lines.append(line)


def _forward(messages: list[str]) -> list[str]:
    hooks = _Lines()
    forwarder = LogForwarder(hooks)  # type: ignore[arg-type]
    for message in messages:
        forwarder.emit(logging.LogRecord("ultralytics", logging.INFO, "", 0, message, None,
                                         None))
    return hooks.lines


def test_validation_rows_come_under_their_own_header() -> None:
    lines = _forward(ULTRALYTICS_8_4)
    rows = [i for i, line in enumerate(lines) if line.split()[:1] == ["all"]]
    assert len(rows) == 3
    for i in rows:
        assert lines[i - 1].split() == ["Class", "Images", "Instances", "Box(P", "R", "mAP50",
                                        "mAP50-95)"]
        assert len(lines[i - 1]) == len(lines[i])  # the columns line up
    assert not any("GPU_mem" in line for line in lines)  # a header whose rows are never logged
    assert lines[-2:] == [ULTRALYTICS_8_4[-2], ULTRALYTICS_8_4[-1]]  # per-class rows follow
    assert "2 epochs completed in 0.002 hours." in lines


def test_other_lines_pass_unchanged() -> None:
    messages = ["Closing dataloader mosaic", "all done: 3 files", "all 8"]
    assert _forward(messages) == messages
