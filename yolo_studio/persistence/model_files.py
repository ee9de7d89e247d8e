"""File work behind ``ModelStore``: building a model folder durably, moving folders."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import yaml

from ..errors import RegistryError, ValidationError
from .json_store import describe_os_error, fsync_dir


def serialise(config: dict[str, Any], metrics: dict[str, Any]) -> tuple[str, str]:
    """config as YAML text and metrics as JSON text.

    Raises:
        ValidationError: either holds something that is not plain data.
    """
    try:
        config_text = yaml.safe_dump(dict(config), sort_keys=False, allow_unicode=True)
        metrics_text = json.dumps(metrics, indent=1)
    except (TypeError, ValueError, yaml.YAMLError) as err:
        raise ValidationError(f"config and metrics must be plain data (text, numbers, lists, "
                              f"dicts): {err}") from err
    return config_text, metrics_text


def _write_synced(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


RESERVED_FILES = ("weights/best.pt", "config.yaml", "metrics.json")


def check_extra_files(files: dict[str, Any] | None) -> dict[str, Path]:
    """Validate ``ModelStore.save``'s extra files: relative destination -> existing source file.

    Sources that do not exist are dropped (a run may lack a plot).

    Raises:
        ValidationError: a destination is absolute, leaves the folder (``..``) or would replace
            best.pt, config.yaml or metrics.json.
    """
    checked: dict[str, Path] = {}
    for dest, src in (files or {}).items():
        rel = Path(str(dest))
        if rel.is_absolute() or ".." in rel.parts or not rel.parts or \
                rel.as_posix() in RESERVED_FILES:
            raise ValidationError(f"Extra model file {dest!r} must be a relative path inside the "
                                  "model folder other than best.pt, config.yaml, metrics.json.")
        if Path(src).is_file():
            checked[rel.as_posix()] = Path(src)
    return checked


def prepare_folder(tmp: Path, name: str, weights: Path, config_text: str,
                   metrics_text: str, files: dict[str, Path] | None = None) -> None:
    """Build ``tmp/{weights/best.pt, config.yaml, metrics.json}`` plus ``files`` (relative
    destination -> source, from ``check_extra_files``); the three core files are fsynced.

    The weights are copied byte for byte (never linked). On failure ``tmp`` is removed.

    Raises:
        RegistryError: a copy or write failed (disk full is said so).
    """
    try:
        (tmp / "weights").mkdir(parents=True)
        target = tmp / "weights" / "best.pt"
        shutil.copyfile(weights, target)
        with open(target, "rb") as handle:
            os.fsync(handle.fileno())
        _write_synced(tmp / "config.yaml", config_text)
        _write_synced(tmp / "metrics.json", metrics_text)
        for dest, src in (files or {}).items():
            (tmp / dest).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, tmp / dest)
        fsync_dir(tmp / "weights")
        fsync_dir(tmp)
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        raise RegistryError(f"Could not save model {name!r}: {describe_os_error(err)}. "
                            "Nothing was registered.") from err


def move_folder(src: Path, dst: Path, what: str) -> None:
    """Rename ``src`` to ``dst`` (same file system: atomic) and fsync the parent.

    Raises:
        RegistryError: ``what`` followed by the cause; the registry is untouched.
    """
    try:
        os.rename(src, dst)
        fsync_dir(dst.parent)
    except OSError as err:
        raise RegistryError(f"{what}: {describe_os_error(err)}. The registry is "
                            "unchanged.") from err
