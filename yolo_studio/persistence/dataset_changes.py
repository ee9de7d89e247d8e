"""Renaming and deleting a dataset together with its models.

A dataset lives in two folders: ``<datasets_dir>/<name>/`` (its files) and
``<models_dir>/<name>/`` (its registry and registered models). Both are moved together while
holding the datasets lock (``<datasets_dir>/.datasets.lock``, a ``filelock.FileLock``, as the
registry uses) and the dataset's registry lock (``ModelStore.dataset_held``), so another studio
process never saves a model into a registry that is being moved; when the second move fails
the first is moved back, so the two folders never part.

Rules:

- Renaming moves both folders; the models follow (same names, active model kept). The
  ``dataset`` field inside each model's ``config.yaml`` keeps the name it was trained under.
- Deleting a dataset that has registered models needs ``delete_models=True``: the models are
  deleted with it (folders and registry), since nothing is left to train or inspect them on.
  Without it the delete is refused with a message naming the models.
- A dataset that only has a registry left (its folder removed by hand) can be renamed or
  deleted the same way.

No knowledge of jobs here: ``training.dataset_ops`` refuses while a job of the dataset is
queued or training.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import filelock

from ..errors import DatasetError, NotFoundError, RegistryError
from ..names import validate_name
from .json_store import LOCK_TIMEOUT_S, describe_os_error
from .dataset_store import HASH_FILE, DatasetStore

LOCK_NAME = ".datasets.lock"


@contextlib.contextmanager
def _datasets_locked(datasets: DatasetStore) -> Iterator[None]:
    """Hold the lock over renames and deletes of ``datasets_dir`` (across processes)."""
    path = datasets.datasets_dir / LOCK_NAME
    try:
        datasets.datasets_dir.mkdir(parents=True, exist_ok=True)
        with filelock.FileLock(path, timeout=LOCK_TIMEOUT_S):
            yield
    except filelock.Timeout as err:
        raise RegistryError(f"The datasets folder is locked by another process for over "
                            f"{LOCK_TIMEOUT_S:.0f} s ({path}); try again.") from err


def _existing(datasets: DatasetStore, models: Any, name: str) -> tuple[Path, Path]:
    """(dataset folder, models folder) of ``name``; raises NotFoundError when neither is
    there (a folder with a data.yaml, or a registry)."""
    validate_name(name, "Dataset name")
    folder, registry = datasets.datasets_dir / name, models.models_dir / name
    if not (folder / "data.yaml").is_file() and not (registry / "registry.json").is_file():
        known = ", ".join(datasets.list()) or "none"
        raise NotFoundError(f"No dataset {name!r} (available: {known}).")
    return folder, registry


def model_names(models: Any, name: str) -> list[str]:
    """Names of the models registered for dataset ``name``, oldest first ([] when none)."""
    return [record.name for record in models.list(name)]


def _move(src: Path, dst: Path, what: str) -> bool:
    """Rename ``src`` to ``dst`` when ``src`` exists; True when moved. Raises DatasetError."""
    if not src.exists():
        return False
    try:
        os.rename(src, dst)
    except OSError as err:
        raise DatasetError(f"Could not {what}: {describe_os_error(err)}.") from err
    return True


def rename_dataset(datasets: DatasetStore, models: Any, old: str, new: str) -> Any:
    """Rename dataset ``old`` to ``new`` with its models (see the module's rules).

    Returns:
        The renamed dataset's ``DatasetInfo``, or None when it only had a registry.

    Raises:
        ValidationError: a bad name. NotFoundError: no dataset ``old``. DatasetError: ``new``
            is taken, or a folder cannot be moved (nothing is changed then).
    """
    validate_name(new, "New dataset name")
    src, models_src = _existing(datasets, models, old)
    if new != old:
        dst, models_dst = datasets.datasets_dir / new, models.models_dir / new
        with _datasets_locked(datasets), models.dataset_held(old):
            if dst.exists() or models_dst.exists():
                raise DatasetError(f"A dataset named {new!r} already exists; choose another "
                                   "name or delete that one first.")
            _move_both((src, dst), (models_src, models_dst), f"rename dataset {old!r}",
                       f"move the models of dataset {old!r}")
        with contextlib.suppress(OSError):  # Ultralytics' label caches hold the old paths
            (dst / HASH_FILE).unlink()
    return datasets.get(new) if (datasets.datasets_dir / new / "data.yaml").is_file() else None


def _move_both(dataset: tuple[Path, Path], models: tuple[Path, Path], what: str,
               models_what: str) -> None:
    """Move the dataset folder, then its models folder (``(src, dst)`` each, see ``_move``);
    when the second move fails the first is undone, so both stay or both go."""
    moved = _move(dataset[0], dataset[1], what)
    try:
        _move(models[0], models[1], models_what)
    except BaseException:
        if moved:
            os.rename(dataset[1], dataset[0])
        raise


def delete_dataset(datasets: DatasetStore, models: Any, name: str,
                   delete_models: bool = False) -> list[str]:
    """Delete dataset ``name``: its folder and, with ``delete_models``, its models.

    Returns:
        The names of the models deleted with it.

    Raises:
        NotFoundError: no such dataset. RegistryError: it has models and ``delete_models`` is
            False (the message names them; nothing is deleted). DatasetError: a folder cannot
            be moved away (nothing is deleted then).
    """
    folder, models_folder = _existing(datasets, models, name)
    tag = uuid.uuid4().hex[:8]
    trash = datasets.datasets_dir / f".deleted-{name}-{tag}"
    models_trash = models.models_dir / f".deleted-{name}-{tag}"
    with _datasets_locked(datasets), models.dataset_held(name):
        names = model_names(models, name)
        if names and not delete_models:
            raise RegistryError(
                f"Dataset {name!r} has {len(names)} model(s): {', '.join(names)}. They would be "
                "deleted with it: confirm deleting them too (tick 'also delete its models'; "
                "CLI: --with-models), or keep the dataset.")
        _move_both((folder, trash), (models_folder, models_trash), f"delete dataset {name!r}",
                   f"delete the models of dataset {name!r}")
    shutil.rmtree(trash, ignore_errors=True)
    shutil.rmtree(models_trash, ignore_errors=True)
    return names
