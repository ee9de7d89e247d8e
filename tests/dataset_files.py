"""Test helpers shared by the persistence, UI and browser tests: datasets as files."""

from __future__ import annotations

import zipfile
from pathlib import Path


def zip_folder(folder: Path, archive: Path, top: str | None = None) -> Path:
    """Zip ``folder``'s files into ``archive``, under the folder ``top/`` when given."""
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder).as_posix()
            if path.is_file():
                zf.write(path, f"{top}/{rel}" if top else rel)
    return archive
