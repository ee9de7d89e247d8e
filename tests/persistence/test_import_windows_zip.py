"""Zips made on Windows (backslash separators) import; a refused import names the user's own
file and the paths inside it, never the studio's temporary folders."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from dataset_files import TINY

from yolo_studio.errors import DatasetError
from yolo_studio.persistence.dataset_store import DatasetStore


def _windows_zip(archive: Path, top: str = "", skip: str = "") -> Path:
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(TINY.rglob("*")):
            rel = path.relative_to(TINY).as_posix()
            if path.is_file() and not (skip and rel.startswith(skip)):
                zf.write(path, (top + "/" + rel if top else rel).replace("/", "\\"))
    return archive


@pytest.mark.parametrize("top", ["", "cells"])
def test_backslash_zip_imports(tmp_path: Path, top: str) -> None:
    store = DatasetStore(tmp_path / "datasets")
    info = store.import_zip(_windows_zip(tmp_path / "cells.zip", top))
    assert info.name == "cells" and info.snapshot == "28 images, 3 classes"
    assert (tmp_path / "datasets" / "cells" / "images" / "val").is_dir()


def test_a_refusal_names_the_archive_not_a_temporary_folder(tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "datasets")
    archive = _windows_zip(tmp_path / "cells.zip", "cells", skip="images/train")
    with pytest.raises(DatasetError) as caught:
        store.import_zip(archive)
    text = str(caught.value) + " ".join(
        issue.message + " ".join(issue.files) for issue in caught.value.report.issues)
    assert "cells.zip" in str(caught.value) and "images/train" in text
    assert ".import-" not in text and str(tmp_path) not in text
