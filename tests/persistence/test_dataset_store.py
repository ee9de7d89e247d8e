"""DatasetStore: samples, listing, DatasetInfo, content hash, stale caches, data.yaml for training."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from yolo_studio.errors import DatasetError, NotFoundError, ValidationError
from yolo_studio.persistence.dataset_store import DatasetStore


@pytest.fixture
def store(tmp_path, make_tiny) -> DatasetStore:
    samples = tmp_path / "samples"
    make_tiny(samples / "tiny")
    (samples / "tiny" / "labels" / "train.cache").write_bytes(b"stale cache")
    (samples / "notes").mkdir()  # no data.yaml: not a sample
    datasets = DatasetStore(tmp_path / "datasets")
    assert datasets.ensure_samples(samples) == ["tiny"]
    return datasets


def test_ensure_samples_copies_once_without_caches(store, tmp_path):
    assert store.list() == ["tiny"]
    assert not (tmp_path / "datasets" / "tiny" / "labels" / "train.cache").exists()
    label = tmp_path / "datasets" / "tiny" / "labels" / "train" / "BloodImage_00001.txt"
    label.write_text("0 0.5 0.5 0.1 0.1\n")  # the user's copy is never overwritten
    assert store.ensure_samples(tmp_path / "samples") == []
    assert label.read_text() == "0 0.5 0.5 0.1 0.1\n"
    assert store.ensure_samples(tmp_path / "no-such-dir") == []
    assert sorted(os.listdir(tmp_path / "datasets")) == [".studio_samples", "tiny"]


def test_a_deleted_or_renamed_sample_is_not_copied_again(store, tmp_path):
    os.rename(tmp_path / "datasets" / "tiny", tmp_path / "datasets" / "cells")
    assert store.ensure_samples(tmp_path / "samples") == []
    assert store.list() == ["cells"]


def test_list_only_shows_folders_with_data_yaml(store, tmp_path):
    (tmp_path / "datasets" / "empty").mkdir()
    (tmp_path / "datasets" / ".import-123").mkdir()
    assert store.list() == ["tiny"]
    assert DatasetStore(tmp_path / "nowhere").list() == []


def test_get_describes_the_dataset(store):
    info = store.get("tiny")
    assert info.class_names == ("RBC", "WBC", "Platelets")
    assert info.image_counts == {"train": 20, "val": 8}
    assert info.snapshot == "28 images, 3 classes"
    assert len(info.content_hash) == 64 and info.data_yaml == info.folder / "data.yaml"


def test_get_unknown_or_bad_name(store):
    with pytest.raises(NotFoundError, match="available: tiny"):
        store.get("nope")
    with pytest.raises(ValidationError):
        store.get("../tiny")


def test_content_hash_is_stable_across_copies_and_sees_label_edits(store, tmp_path, make_tiny):
    make_tiny(tmp_path / "datasets" / "twin")
    first = store.get("tiny").content_hash
    assert store.get("twin").content_hash == first
    label = tmp_path / "datasets" / "twin" / "labels" / "train" / "BloodImage_00001.txt"
    os.utime(label, (1, 1))  # timestamps do not matter
    assert store.get("twin").content_hash == first
    text = label.read_text()
    label.write_text(text.replace("0.2", "0.3", 1))  # same size, different content
    assert len(label.read_text()) == len(text)
    assert store.get("twin").content_hash != first


def test_stale_label_cache_is_deleted_when_content_changes(store, tmp_path):
    folder = tmp_path / "datasets" / "tiny"
    store.get_data_yaml_path("tiny")  # what a training asks for first
    cache = folder / "labels" / "train.cache"
    cache.write_bytes(b"ultralytics cache")
    store.get_data_yaml_path("tiny")
    assert cache.exists()  # unchanged content: the cache is still good
    label = folder / "labels" / "train" / "BloodImage_00001.txt"
    label.write_text(label.read_text().replace("0.2", "0.3", 1))
    store.get("tiny")
    assert cache.exists()  # describing the dataset (UI, CLI) writes nothing
    store.get_data_yaml_path("tiny")
    assert not cache.exists()
    assert (folder / ".studio_hash").read_text().strip() == store.get("tiny").content_hash


def test_data_yaml_path_without_path_key_is_the_original(store):
    assert store.get_data_yaml_path("tiny") == store.get("tiny").data_yaml


def test_relative_path_and_name_gaps_get_a_resolved_copy(store, tmp_path, make_tiny):
    outer = tmp_path / "datasets" / "nested"
    make_tiny(outer / "inner")
    (outer / "data.yaml").write_text("path: inner\ntrain: images/train\nval: images/val\n"
                                     "names:\n  0: RBC\n  2: Platelets\n")
    resolved = store.get_data_yaml_path("nested")
    assert resolved == outer / ".studio_data.yaml"
    data = yaml.safe_load(resolved.read_text())
    assert Path(data["path"]) == (outer / "inner").resolve() and Path(data["path"]).is_absolute()
    assert data["names"] == {0: "RBC", 1: "class_1", 2: "Platelets"}
    assert store.get("nested").image_counts == {"train": 20, "val": 8}


def test_resolved_yaml_is_accepted_by_ultralytics(store, tmp_path, make_tiny):
    from ultralytics.data.utils import check_det_dataset

    outer = tmp_path / "datasets" / "nested"
    make_tiny(outer / "inner")
    (outer / "data.yaml").write_text("path: inner\ntrain: images/train\nval: images/val\n"
                                     "names:\n  0: RBC\n  2: Platelets\n")
    data = check_det_dataset(str(store.get_data_yaml_path("nested")), autodownload=False)
    assert Path(data["train"]) == (outer / "inner" / "images" / "train").resolve()
    assert data["nc"] == 3


def test_data_yaml_path_refuses_unusable_names(store, tmp_path):
    (tmp_path / "datasets" / "tiny" / "data.yaml").write_text("train: images/train\n"
                                                              "val: images/val\n")
    with pytest.raises(DatasetError, match="names"):
        store.get_data_yaml_path("tiny")


def test_check_health_of_a_stored_dataset(store, tmp_path):
    assert store.check_health("tiny").ok
    (tmp_path / "datasets" / "tiny" / "labels" / "val" / "BloodImage_00000.txt").write_text(
        "7 0.5 0.5 0.1 0.1\n")
    assert not store.check_health("tiny").ok
    with pytest.raises(NotFoundError):
        store.check_health("missing")
