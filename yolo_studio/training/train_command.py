"""The ``yolo detect train ...`` command that trains as a studio job does, for a shell.

Every argument the studio passes to Ultralytics' ``model.train()`` (``TrainingConfig
.to_train_kwargs()``: its fields, then the extra arguments) is written as ``key=value`` so that
the yolo CLI reads back the same value (Ultralytics' ``smart_value``: ``True``, ``0.5``,
``[0,2]``; a text that would read as something else is quoted). Left out: the run folder
(``project``, ``name``, ``exist_ok``: the shell run goes to Ultralytics' ``runs/detect/``).
The studio's cap on a process's GPU memory has no yolo argument: a comment line says so when
the job may use a GPU. No Ultralytics import here.
"""

from __future__ import annotations

import ast
import shlex
from pathlib import Path
from typing import Any

from ..config import TrainingConfig

#: The studio's run-folder arguments, not part of the command.
_LEFT_OUT = ("project", "name", "exist_ok")
#: Characters per line before the command continues on the next (`` \\`` at the line's end).
LINE_WIDTH = 88


def _reads_as_other(text: str) -> bool:
    """True when the yolo CLI would read ``text`` as something other than that text."""
    if text.lower() in ("true", "false", "none") or not text:
        return True
    try:
        ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def cli_value(value: Any) -> str:
    """``value`` as the yolo CLI writes it: ``True``, ``None``, ``0.001``, ``[0,2]``, ``disk``;
    a text that would read as another type (``'0'``) in quotes."""
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(repr(v) if isinstance(v, str) else cli_value(v)
                              for v in value) + "]"
    if isinstance(value, str):
        return repr(value) if _reads_as_other(value) else value
    return repr(value) if isinstance(value, float) else str(value)


def command_pairs(config: TrainingConfig, data_yaml: str | Path) -> list[str]:
    """The command's ``key=value`` arguments, unquoted: ``data``, ``model``, then
    ``to_train_kwargs()`` in its order."""
    pairs = [f"data={data_yaml}", f"model={config.base_model}"]
    pairs += [f"{key}={cli_value(value)}" for key, value in config.to_train_kwargs().items()
              if key not in _LEFT_OUT]
    return pairs


def _wrap(words: list[str], width: int) -> str:
    lines, line = [], ""
    for word in words:
        if line and len(line) + len(word) + 3 > width:  # room for " " + word + " \\"
            lines.append(line + " \\")
            line = "    " + word
        else:
            line = f"{line} {word}" if line else word
    return "\n".join([*lines, line])


def yolo_command(config: TrainingConfig, data_yaml: str | Path, width: int = LINE_WIDTH) -> str:
    """The shell command that trains ``config`` on ``data_yaml`` as the studio would.

    Args:
        config: The job's configuration.
        data_yaml: The data.yaml the job trains on (``DatasetStore.get_data_yaml_path``).
        width: Characters per line; a longer command continues on the next line after `` \\``.

    Returns:
        ``yolo detect train data=... model=... epochs=... ...`` (each argument shell-quoted),
        with a ``#`` comment line after it about the GPU memory cap when the job may use a GPU.
    """
    words = ["yolo", "detect", "train"] + [shlex.quote(p) for p in command_pairs(config,
                                                                                   data_yaml)]
    text = _wrap(words, width)
    if config.device != "cpu" and config.max_gpu_memory_percent < 1:
        text += ("\n# not expressible as a yolo argument: the studio also caps this process's "
                 f"GPU memory at {config.max_gpu_memory_percent:.0%} (max_gpu_memory_percent)")
    return text


def job_command(config: TrainingConfig, datasets: Any) -> str:
    """``yolo_command`` of ``config`` on the data.yaml its job trains on: the
    ``DatasetStore``'s ``get_data_yaml_path`` (the dataset's own data.yaml, or the copy with an
    absolute ``path:`` the studio writes beside it, as a job's start does; stale label caches
    are dropped as there).

    Raises:
        NotFoundError: no such dataset. DatasetError: its data.yaml is unusable.
    """
    return yolo_command(config, datasets.get_data_yaml_path(config.dataset))
