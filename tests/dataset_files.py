"""Test helpers shared by the persistence, training, UI and browser tests: datasets as files."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

#: The tiny real dataset (28 BCCD images, 3 classes); copy it before Ultralytics writes caches.
TINY = Path(__file__).resolve().parent / "data" / "bccd-tiny"
#: The label ``broken_copy`` breaks.
BROKEN_LABEL = "labels/train/BloodImage_00001.txt"


def broken_copy(dst: Path) -> Path:
    """A copy of bccd-tiny at ``dst`` whose ``BROKEN_LABEL`` starts with class id 7 of 3: the
    health check blocks it."""
    shutil.copytree(TINY, dst)
    label = dst / BROKEN_LABEL
    label.write_text("7 0.5 0.5 0.1 0.1\n" + label.read_text())
    return dst


def zip_folder(folder: Path, archive: Path, top: str | None = None) -> Path:
    """Zip ``folder``'s files into ``archive``, under the folder ``top/`` when given."""
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder).as_posix()
            if path.is_file():
                zf.write(path, f"{top}/{rel}" if top else rel)
    return archive
