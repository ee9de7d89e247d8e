"""Whether this machine has the device a job asks for, checked when the job is queued.

Ultralytics finds out only when the job runs (its ``select_device`` raises then), after the
job waited its turn in the queue; here the Start button says so at once. Only torch is asked
(``torch.cuda`` and ``torch.backends.mps``), not Ultralytics' ``select_device``, which sets
``CUDA_VISIBLE_DEVICES`` and the current CUDA device of the whole process as it checks.
"""

from __future__ import annotations

import os

from ..errors import TrainingError

_ADVICE = "Leave device empty (automatic) or set cpu"


def check_device(device: str) -> None:
    """Raise when ``device`` names a GPU that torch cannot use on this machine.

    Args:
        device: A ``TrainingConfig.device`` (stripped, lower case): "" and "cpu" always pass;
            "mps" needs Apple's Metal; "cuda", "-1" (the idlest GPU), "N" and "cuda:N" need
            CUDA, and GPU N among torch's devices (or, as Ultralytics reads it, a physical id
            listed in ``CUDA_VISIBLE_DEVICES``); a list such as "0,1" (DDP) needs each of its
            GPUs so.

    Raises:
        TrainingError: naming the device (the first GPU of a list that is missing), what
            torch sees, and what to set instead.
    """
    if device in ("", "cpu"):
        return
    import torch

    if device == "mps":
        if not torch.backends.mps.is_available():
            raise TrainingError("device 'mps' needs Apple's Metal (MPS), which torch cannot "
                                f"use on this machine. {_ADVICE}.")
        return
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if not count:
        raise TrainingError(f"device {device!r} asks for a CUDA GPU, but torch sees none on "
                            f"this machine (torch.cuda.is_available() is False). {_ADVICE}.")
    for index in (part.removeprefix("cuda:") for part in device.split(",")):
        if not index.isdigit() or int(index) < count or index in _visible_ids():
            continue
        what = f"CUDA GPU {index}" + (f" (of {device})" if "," in device else "")
        raise TrainingError(f"device {device!r} asks for {what}, but torch sees {count} "
                            f"GPU(s) here: 0 to {count - 1}. {_ADVICE}, or give "
                            f"{'some' if ',' in device else 'one'} of those.")


def _visible_ids() -> list[str]:
    """The physical GPU ids in ``CUDA_VISIBLE_DEVICES`` (Ultralytics maps them to torch's)."""
    return [part.strip() for part in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",")
            if part.strip().isdigit()]
