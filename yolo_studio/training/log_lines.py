"""Ultralytics' log lines as the Monitor's log tail shows them: each header over its own rows.

What the ``ultralytics`` logger says during a training (8.4): per epoch the training header
(``Epoch GPU_mem box_loss ...``), whose rows are a progress bar that is never logged, then the
validation's ``all`` row and, after the last epoch, one row per class, whose header (``Class
Images Instances Box(P R mAP50 mAP50-95)``) is the validation progress bar's description, also
never logged. Forwarded as they come, the validation rows would sit under the training header.
``tail_lines`` drops the training header (the studio logs its own line per epoch, and the
progress bar shows the batches) and puts the validation header over each block of validation
rows.
"""

from __future__ import annotations

#: The validation header, as Ultralytics' ``DetectionValidator.get_desc`` formats it (its rows
#: use the same widths: 22 characters for the class, 11 for each number).
VAL_HEADER = ("%22s" + "%11s" * 6) % ("Class", "Images", "Instances", "Box(P", "R", "mAP50",
                                       "mAP50-95)")


def is_train_header(line: str) -> bool:
    """True for Ultralytics' training header (``Epoch GPU_mem box_loss ... Size``)."""
    words = line.split()
    return words[:2] == ["Epoch", "GPU_mem"]


def is_val_total_row(line: str) -> bool:
    """True for a validation table's first row: ``all``, images, instances, then numbers."""
    words = line.split()
    if len(words) < 7 or words[0] != "all" or not all(w.isdigit() for w in words[1:3]):
        return False
    try:
        [float(w) for w in words[3:]]
    except ValueError:
        return False
    return True


def tail_lines(line: str) -> list[str]:
    """The log tail's lines for one logged, non-blank Ultralytics ``line``: ``[]`` for the
    training header, ``[VAL_HEADER, line]`` for a validation table's ``all`` row (the per-class
    rows that follow it stay under the same header), else ``[line]``."""
    if is_train_header(line):
        return []
    if is_val_total_row(line):
        return [VAL_HEADER, line]
    return [line]
