"""File work behind dataset import: safe zip extraction, finding the dataset root, copying.

Zip archives are checked before anything is extracted: members with absolute paths, drive letters
or ``..`` (zip-slip), and symbolic links are refused, and the uncompressed size must fit in the
free disk space (zip bombs). Backslashes in member names (archives made on Windows) are path
separators.
"""

from __future__ import annotations

import re
import shutil
import stat
import unicodedata
import zipfile
from pathlib import Path, PurePosixPath

from ..errors import DatasetError
from ..names import name_char_ok
from .json_store import describe_os_error
from .yolo_format import find_data_yaml

#: Files never copied into the studio: Ultralytics label caches, studio bookkeeping, OS litter.
IGNORED = ("*.cache", ".studio_*", "__MACOSX", ".DS_Store", "Thumbs.db")
#: Fraction of the free disk space an archive may fill once extracted.
MAX_DISK_FRACTION = 0.9


def default_name(stem: str) -> str:
    """A valid dataset name made from a file or folder name, in NFC form: every run of
    characters a name may not hold (``names.name_char_ok``) becomes ``_`` ("my data (2)" ->
    "my_data_2", "células" stays "células")."""
    text = unicodedata.normalize("NFC", stem)
    name = "".join(char if name_char_ok(char) else " " for char in text)
    name = re.sub(r" +", "_", name).strip("._-")
    return name[:64] or "dataset"


def _unsafe_member(info: zipfile.ZipInfo) -> str | None:
    name = info.filename.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "has an absolute path"
    if ".." in PurePosixPath(name).parts:
        return "points outside the archive ('..')"
    if "\x00" in name:
        return "has a NUL character in its name"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "is a symbolic link"
    return None


def safe_extract(zip_path: Path, dest: Path) -> None:
    """Extract ``zip_path`` into ``dest`` after checking every member.

    Raises:
        DatasetError: not a zip, an unsafe member (named), too big for the free space, a
            damaged or encrypted archive, or a write failure.
    """
    try:
        with zipfile.ZipFile(zip_path) as archive:
            members = archive.infolist()
            for info in members:
                problem = _unsafe_member(info)
                if problem:
                    raise DatasetError(f"The archive {zip_path.name} was refused: member "
                                       f"{info.filename!r} {problem}.")
            _check_space(sum(i.file_size for i in members), dest)
            for info in members:  # "cells\\images\\a.jpg" (Windows) is cells/images/a.jpg
                info.filename = info.filename.replace("\\", "/")
                archive.extract(info, dest)
    except zipfile.BadZipFile as err:
        raise DatasetError(f"{zip_path.name} is not a valid zip archive ({err}).") from err
    except RuntimeError as err:  # encrypted members
        raise DatasetError(f"{zip_path.name} cannot be extracted: {err}.") from err
    except OSError as err:
        raise DatasetError(f"Extracting {zip_path.name} failed: {describe_os_error(err)}.") from err


def _check_space(needed: int, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(dest).free
    if needed > free * MAX_DISK_FRACTION:
        raise DatasetError(f"The archive unpacks to {needed / 1e6:.1f} MB but only "
                           f"{free / 1e6:.1f} MB are free on the disk; free some space first.")


def find_dataset_root(folder: Path, label: str | None = None) -> Path:
    """The folder holding the data.yaml: ``folder`` itself, or its one top folder (an archive
    made by zipping a dataset folder), ignoring ``__MACOSX`` and hidden entries.

    Raises:
        DatasetError: no data.yaml (or several candidate yaml files) found.
    """
    if find_data_yaml(folder):
        return folder
    entries = [p for p in folder.iterdir()
               if not p.name.startswith(".") and p.name != "__MACOSX"]
    if len(entries) == 1 and entries[0].is_dir() and find_data_yaml(entries[0]):
        return entries[0]
    raise DatasetError(f"No data.yaml found in {label or folder.name or folder} (nor in a single top "
                       "folder). A YOLO dataset needs a data.yaml next to its images/ and labels/.")


def copy_dataset(src: Path, dst: Path) -> None:
    """Copy a dataset folder (files copied, links followed), skipping ``IGNORED`` names.

    Raises:
        DatasetError: a file cannot be read or written (disk full is said so).
    """
    try:
        shutil.copytree(src, dst, ignore=shutil.ignore_patterns(*IGNORED))
    except shutil.Error as err:
        first = err.args[0][0] if err.args and err.args[0] else ("?", "?", str(err))
        raise DatasetError(f"Copying the dataset failed at {first[0]}: {first[2]}.") from err
    except OSError as err:
        raise DatasetError(f"Copying the dataset failed: {describe_os_error(err)}.") from err


def normalise_yaml_name(root: Path, label: str | None = None) -> Path:
    """Rename the dataset's yaml to ``data.yaml`` if it has another name; return its path.

    Raises:
        DatasetError: no yaml, naming ``label`` (the user's archive or folder) or ``root``.
    """
    found = find_data_yaml(root)
    if found is None:
        raise DatasetError(f"No data.yaml found in {label or root.name}.")
    if found.name != "data.yaml":
        found = found.rename(root / "data.yaml")
    return found
