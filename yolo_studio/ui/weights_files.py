"""Uploaded base weights: stored as ``<root>/weights/<name>.pt`` and offered as base models.

No Gradio here. The file is never loaded here (loading a ``.pt`` runs a pickle): it is checked
by name and by its first bytes only, then copied in; training loads it later.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from ..config import BASE_MODELS
from ..errors import TrainingError, ValidationError
from ..names import validate_name
from ..persistence.json_store import describe_os_error

WEIGHTS_DIRNAME = "weights"
UPLOADED_SUFFIX = " (uploaded)"
_ZIP_MAGIC = b"PK\x03\x04"  # torch.save's default format is a zip archive
_PICKLE_MAGIC = b"\x80"  # legacy torch.save: a pickle stream (protocol 2+)


def weights_dir(root: str | os.PathLike[str]) -> Path:
    """``<root>/weights``: where uploaded base weights live."""
    return Path(root) / WEIGHTS_DIRNAME


def list_weights(folder: str | os.PathLike[str]) -> list[Path]:
    """The ``.pt`` files in ``folder``, sorted by name ([] when it does not exist)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix == ".pt" and p.is_file()
                  and not p.name.startswith("."))


def base_model_choices(folder: str | os.PathLike[str]) -> list[tuple[str, str]]:
    """Dropdown choices (label, value): the built-in ``BASE_MODELS``, then each uploaded file
    labelled ``"<name> (uploaded)"`` with its absolute path as the value."""
    return [(name, name) for name in BASE_MODELS] + [
        (p.name + UPLOADED_SUFFIX, str(p.resolve())) for p in list_weights(folder)]


def is_offered_base_model(base_model: str, folder: str | os.PathLike[str]) -> bool:
    """True when ``base_model`` is safe to load on a studio that refuses uploads: a built-in
    name (``BASE_MODELS``), an architecture ``.yaml`` (no pickle), or a ``.pt`` inside
    ``folder`` (put there by the operator or an allowed upload)."""
    text = str(base_model or "").strip()
    if text in BASE_MODELS or text.lower().endswith((".yaml", ".yml")):
        return True
    path = Path(text).expanduser()
    try:
        return path.resolve().parent == Path(folder).resolve() and path.suffix == ".pt"
    except (OSError, RuntimeError):
        return False


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
