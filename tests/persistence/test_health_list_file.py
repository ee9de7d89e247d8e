"""A split given as a list file (val.txt) of absolute paths outside the dataset: the health check
names the list file as what needs the fix, with no contradictory orphan-label warning."""

from __future__ import annotations

import shutil
from pathlib import Path

from dataset_files import TINY

from yolo_studio.persistence.health import check_dataset


def _dataset_with_val_list(tmp_path: Path) -> Path:
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(TINY, elsewhere)
    folder = tmp_path / "cells"
    shutil.copytree(TINY, folder)
    images = sorted((elsewhere / "images" / "val").glob("*.jpg"))
    (folder / "val.txt").write_text("".join(f"{p}\n" for p in images))
    yaml = (folder / "data.yaml").read_text()
    (folder / "data.yaml").write_text(yaml.replace("val: images/val", "val: val.txt"))
    assert "val: val.txt" in (folder / "data.yaml").read_text()
    return folder


def test_outside_images_of_a_list_file_name_the_list_file(tmp_path: Path) -> None:
    report = check_dataset(_dataset_with_val_list(tmp_path), confined=True)
    [outside] = [i for i in report.blocking if i.code == "outside_list_file"]
    assert "val.txt" in outside.message and "data.yaml" not in outside.message
    assert not [i for i in report.issues if i.code == "orphan_label"]


def test_the_list_file_is_fine_where_outside_images_are_allowed(tmp_path: Path) -> None:
    report = check_dataset(_dataset_with_val_list(tmp_path))
    assert report.ok and report.counts["val_images"] == len(
        list((TINY / "images" / "val").glob("*.jpg")))
