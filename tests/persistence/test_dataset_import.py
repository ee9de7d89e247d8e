"""Dataset import from a folder and from a zip: success, refusals, nothing left behind."""

from __future__ import annotations

import os
import shutil
import stat
import zipfile
from pathlib import Path

import pytest
from dataset_files import zip_folder

from yolo_studio.errors import DatasetError, ValidationError
from yolo_studio.persistence.dataset_store import DatasetStore


def _left_in(datasets_dir: Path) -> list[str]:
    return sorted(os.listdir(datasets_dir)) if datasets_dir.exists() else []


def test_import_folder(tmp_path, tiny):
    store = DatasetStore(tmp_path / "datasets")
    (tiny / "labels" / "train.cache").write_bytes(b"cache")
    info = store.import_folder(tiny)
    assert info.name == "bccd-tiny" and info.snapshot == "28 images, 3 classes"
    assert not (info.folder / "labels" / "train.cache").exists()
    assert store.import_folder(tiny, name="second").content_hash == info.content_hash
    assert store.list() == ["bccd-tiny", "second"]
    assert (tiny / "data.yaml").exists()  # the source is untouched


def test_import_folder_renames_another_yaml_to_data_yaml(tmp_path, tiny):
    (tiny / "data.yaml").rename(tiny / "blood.yaml")
    info = DatasetStore(tmp_path / "datasets").import_folder(tiny, name="blood")
    assert info.data_yaml.name == "data.yaml" and info.image_counts["val"] == 8


def test_import_refuses_existing_name_and_bad_name(tmp_path, tiny):
    store = DatasetStore(tmp_path / "datasets")
    store.import_folder(tiny, name="one")
    with pytest.raises(DatasetError, match="already exists"):
        store.import_folder(tiny, name="one")
    with pytest.raises(ValidationError):
        store.import_folder(tiny, name="../escape")
    with pytest.raises(DatasetError, match="not a folder"):
        store.import_folder(tmp_path / "missing")
    assert _left_in(tmp_path / "datasets") == ["one"]


def test_import_of_a_blocking_dataset_is_refused_with_reasons(tmp_path, tiny):
    (tiny / "labels" / "train" / "BloodImage_00001.txt").write_text("5 0.5 0.5 0.1 0.1\n")
    shutil.rmtree(tiny / "images" / "val")
    store = DatasetStore(tmp_path / "datasets")
    with pytest.raises(DatasetError) as err:
        store.import_folder(tiny, name="broken")
    message = str(err.value)
    assert "was not imported" in message and "BloodImage_00001.txt" in message
    assert "images/val" in message
    codes = {issue.code for issue in err.value.report.blocking}  # the full report for the UI
    assert "class_out_of_range" in codes and len(codes) >= 2
    assert _left_in(tmp_path / "datasets") == []


def test_import_folder_without_data_yaml(tmp_path):
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "a.txt").write_text("x")
    with pytest.raises(DatasetError, match="No data.yaml"):
        DatasetStore(tmp_path / "datasets").import_folder(tmp_path / "junk")


@pytest.mark.parametrize("top", [None, "bccd-tiny"])
def test_import_zip_flat_or_in_one_top_folder(tmp_path, tiny, top):
    archive = zip_folder(tiny, tmp_path / "my data (2).zip", top)
    store = DatasetStore(tmp_path / "datasets")
    info = store.import_zip(archive)
    assert info.name == "my_data_2" and info.snapshot == "28 images, 3 classes"
    assert _left_in(tmp_path / "datasets") == ["my_data_2"]


def test_import_zip_ignores_macos_litter(tmp_path, tiny):
    archive = zip_folder(tiny, tmp_path / "mac.zip", "bccd-tiny")
    with zipfile.ZipFile(archive, "a") as zf:
        zf.writestr("__MACOSX/bccd-tiny/._data.yaml", "junk")
    assert DatasetStore(tmp_path / "datasets").import_zip(archive).name == "mac"


@pytest.mark.parametrize("member, reason", [("../evil.txt", "outside"), ("/abs.txt", "absolute"),
                                            ("a/../../evil.txt", "outside"),
                                            ("C:/win.txt", "absolute"), ("link", "symbolic")])
def test_zip_with_unsafe_member_is_refused_before_extraction(tmp_path, tiny, member, reason):
    archive = zip_folder(tiny, tmp_path / "evil.zip", None)
    with zipfile.ZipFile(archive, "a") as zf:
        info = zipfile.ZipInfo(member)
        if member == "link":
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    store = DatasetStore(tmp_path / "datasets")
    with pytest.raises(DatasetError, match=reason):
        store.import_zip(archive, name="evil")
    assert _left_in(tmp_path / "datasets") == []
    assert not (tmp_path / "evil.txt").exists() and not Path("/abs.txt").exists()


def test_not_a_zip_and_zip_without_dataset(tmp_path):
    store = DatasetStore(tmp_path / "datasets")
    fake = tmp_path / "fake.zip"
    fake.write_bytes(b"this is not a zip")
    with pytest.raises(DatasetError, match="not a valid zip"):
        store.import_zip(fake)
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(DatasetError, match="No data.yaml found in empty.zip"):
        store.import_zip(empty)
    assert _left_in(tmp_path / "datasets") == []


def test_zip_bigger_than_free_space_is_refused(tmp_path, tiny, monkeypatch):
    archive = zip_folder(tiny, tmp_path / "big.zip", None)
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: usage._replace(free=1000))
    with pytest.raises(DatasetError, match="free"):
        DatasetStore(tmp_path / "datasets").import_zip(archive)
    assert _left_in(tmp_path / "datasets") == []


def test_zip_with_blocking_problem_is_refused_and_cleaned_up(tmp_path, tiny):
    (tiny / "data.yaml").write_text("train: images/train\nnames: [a, b, c]\n")
    archive = zip_folder(tiny, tmp_path / "noval.zip", "top")
    with pytest.raises(DatasetError, match="'val'"):
        DatasetStore(tmp_path / "datasets").import_zip(archive)
    assert _left_in(tmp_path / "datasets") == []


def test_zip_whose_data_yaml_points_outside_the_dataset_is_refused(tmp_path, tiny):
    """An uploaded data.yaml must not make the studio read other folders of the server."""
    elsewhere = shutil.copytree(tiny, tmp_path / "elsewhere")
    (tiny / "data.yaml").write_text(f"path: {elsewhere}\ntrain: images/train\nval: images/val\n"
                                    "names: [RBC, WBC, Platelets]\n")
    archive = zip_folder(tiny, tmp_path / "escape.zip", "top")
    store = DatasetStore(tmp_path / "datasets")
    with pytest.raises(DatasetError, match="outside the dataset folder") as err:
        store.import_zip(archive)
    assert {i.code for i in err.value.report.blocking} == {"outside_dataset"}
    assert _left_in(tmp_path / "datasets") == []
    (tiny / "data.yaml").write_text(f"train: images/train\nval: {elsewhere}/images/val\n"
                                    "names: [RBC, WBC, Platelets]\n")
    with pytest.raises(DatasetError, match="outside the dataset folder"):
        store.import_folder(tiny, name="escape2")
