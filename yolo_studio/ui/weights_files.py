"""Uploaded base weights: stored as ``<root>/weights/<name>.pt`` and offered as base models,
after the models Ultralytics ships (``training.base_models``).

No Gradio here. The file is never loaded here (loading a ``.pt`` runs a pickle): it is checked
by name and by its first bytes only, then copied in; training loads it later.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from ..errors import TrainingError, ValidationError
from ..names import validate_name
from ..persistence.json_store import describe_os_error
from ..training import base_models

WEIGHTS_DIRNAME = base_models.STUDIO_WEIGHTS_DIRNAME
UPLOADED_SUFFIX = " (uploaded)"
#: Label suffixes of a shipped ``.pt``: its weights are on this machine, or need a download.
LOCAL_SUFFIX = " (on this machine)"
DOWNLOAD_SUFFIX = " (download)"
_ZIP_MAGIC = b"PK\x03\x04"  # torch.save's default format is a zip archive
_PICKLE_MAGIC = b"\x80"  # legacy torch.save: a pickle stream (protocol 2+)


def weights_dir(root: str | os.PathLike[str]) -> Path:
    """``<root>/weights``: where uploaded base weights live."""
    return base_models.studio_weights_dir(root)


def list_weights(folder: str | os.PathLike[str]) -> list[Path]:
    """The ``.pt`` files in ``folder``, sorted by name ([] when it does not exist)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix == ".pt" and p.is_file()
                  and not p.name.startswith("."))


def base_model_choices(root: str | os.PathLike[str],
                       folders: tuple[Path, ...] | None = None) -> list[tuple[str, str]]:
    """Dropdown choices (label, value): every model Ultralytics ships
    (``base_models.base_model_list``; a ``.pt`` labelled ``LOCAL_SUFFIX`` when its weights are
    in one of ``folders``, default ``base_models.weights_folders(root)``, else
    ``DOWNLOAD_SUFFIX``), then each other ``.pt`` in ``<root>/weights`` labelled
    ``"<name> (uploaded)"`` with its absolute path as the value. Imports Ultralytics on the
    first call in a process (``base_models.shipped_models``)."""
    choices = [(entry.name + _mark(entry), entry.name)
               for entry in base_models.base_model_list(root, folders)]
    shipped = {value for _, value in choices}
    return choices + [(p.name + UPLOADED_SUFFIX, str(p.resolve()))
                      for p in list_weights(weights_dir(root)) if p.name not in shipped]


def _mark(entry: base_models.BaseModelEntry) -> str:
    if not entry.model.pretrained:
        return ""
    return LOCAL_SUFFIX if entry.local is not None else DOWNLOAD_SUFFIX


def is_offered_base_model(base_model: str, folder: str | os.PathLike[str]) -> bool:
    """True when ``base_model`` is safe to load on a studio that refuses uploads: a model
    Ultralytics ships (``base_models.is_shipped``: its official weights), an architecture
    ``.yaml`` (no pickle), or a ``.pt`` inside ``folder`` (put there by the operator or an
    allowed upload)."""
    text = str(base_model or "").strip()
    if text.lower().endswith((".yaml", ".yml")):
        return True
    path = Path(text).expanduser()
    try:
        if path.resolve().parent == Path(folder).resolve() and path.suffix == ".pt":
            return True
    except (OSError, RuntimeError):
        return False
    return Path(text).name == text and base_models.is_shipped(text)  # a bare name only


def check_weights_name(name: str) -> str:
    """Return ``name`` if it is a safe ``<name>.pt`` file name.

    Raises:
        ValidationError: not ending in ``.pt``, or not a safe name (see ``validate_name``).
    """
    if not isinstance(name, str) or not name.endswith(".pt") or name == ".pt":
        raise ValidationError(f"Base weights must be a .pt file, got {name!r}.")
    return validate_name(name, "Weights file name")


def _check_header(src: Path) -> None:
    try:
        with open(src, "rb") as handle:
            head = handle.read(4)
    except OSError as err:
        raise ValidationError(f"Cannot read the uploaded file: {describe_os_error(err)}.") from err
    if not (head.startswith(_ZIP_MAGIC) or head.startswith(_PICKLE_MAGIC)):
        raise ValidationError(f"{src.name} is not a PyTorch .pt file (it is neither a torch "
                              "zip archive nor a pickle); export the weights with "
                              "torch.save / Ultralytics.")


def store_weights(src: str | os.PathLike[str], folder: str | os.PathLike[str],
                  name: str | None = None) -> Path:
    """Copy an uploaded ``.pt`` into ``folder`` as ``name`` (default: the file's own name).

    Returns:
        The stored file's absolute path (use it as ``TrainingConfig.base_model``).

    Raises:
        ValidationError: bad name, not a .pt file by its first bytes, or the name is taken.
        TrainingError: the copy failed (disk full is said so); nothing is left behind.
    """
    src = Path(src)
    name = check_weights_name(name if name is not None else src.name)
    _check_header(src)
    folder = Path(folder)
    target = folder / name
    if target.exists():
        raise ValidationError(f"Base weights {name!r} already exist; rename the file before "
                              "uploading it again.")
    tmp = folder / f".upload-{uuid.uuid4().hex[:12]}.tmp"
    reserved = False
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with open(target, "xb"):  # reserve the name: never overwrite another upload
            reserved = True
        shutil.copyfile(src, tmp)
        os.replace(tmp, target)
    except FileExistsError as err:
        raise ValidationError(f"Base weights {name!r} already exist; rename the file before "
                              "uploading it again.") from err
    except OSError as err:
        if reserved:
            target.unlink(missing_ok=True)
        raise TrainingError(f"Could not store the base weights {name!r}: "
                            f"{describe_os_error(err)}.") from err
    finally:
        tmp.unlink(missing_ok=True)
    return target.resolve()
