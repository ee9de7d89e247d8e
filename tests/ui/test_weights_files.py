"""Uploaded base weights: validated name and header, stored under <root>/weights/."""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import pytest

from yolo_studio.errors import ValidationError
from yolo_studio.training.base_models import shipped_models
from yolo_studio.ui.weights_files import (DOWNLOAD_SUFFIX, UPLOADED_SUFFIX, base_model_choices,
                                          check_weights_name, is_offered_base_model,
                                          list_weights, store_weights,
                                          weights_dir)


def _torch_like_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", b"x")
    return path


def test_store_and_offer_uploaded_weights(tmp_path: Path) -> None:
    root = tmp_path / "root"
    folder = weights_dir(root)
    nowhere = (tmp_path / "none",)  # no weights on this machine
    shipped = [(m.name + (DOWNLOAD_SUFFIX if m.pretrained else ""), m.name)
               for m in shipped_models()]
    assert base_model_choices(root, nowhere) == shipped
    stored = store_weights(_torch_like_zip(tmp_path / "cells-best.pt"), folder)
    assert stored == (folder / "cells-best.pt").resolve() and stored.is_file()
    legacy = tmp_path / "upload.bin"
    legacy.write_bytes(pickle.dumps({"model": None}, protocol=2))
    store_weights(legacy, folder, name="legacy.pt")
    assert [p.name for p in list_weights(folder)] == ["cells-best.pt", "legacy.pt"]
    choices = base_model_choices(root, nowhere)
    assert choices[:-2] == shipped and choices[-2:] == [("cells-best.pt" + UPLOADED_SUFFIX, str(stored)),
                            ("legacy.pt" + UPLOADED_SUFFIX, str((folder / "legacy.pt")
                                                                .resolve()))]
    assert not list(folder.glob(".upload-*")), "no temp file left"


def test_duplicate_upload_is_refused_and_keeps_the_first(tmp_path: Path) -> None:
    folder = tmp_path / "weights"
    first = store_weights(_torch_like_zip(tmp_path / "a.pt"), folder)
    before = first.read_bytes()
    other = tmp_path / "other" / "a.pt"
    other.parent.mkdir()
    other.write_bytes(b"PK\x03\x04 different")
    with pytest.raises(ValidationError, match="already exist"):
        store_weights(other, folder)
    assert first.read_bytes() == before


@pytest.mark.parametrize("name, message", [
    ("model.pth", "must be a .pt file"), (".pt", "must be a .pt file"),
    ("../evil.pt", "characters other than"), ("a b.pt", "characters other than"),
    ("x" * 70 + ".pt", "at most 64"),
])
def test_bad_names_are_refused(name: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        check_weights_name(name)


def test_a_file_that_is_not_torch_weights_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "notes.pt"
    fake.write_text("hello")
    with pytest.raises(ValidationError, match="not a PyTorch .pt file"):
        store_weights(fake, tmp_path / "weights")
    assert list_weights(tmp_path / "weights") == []


def test_offered_base_models(tmp_path: Path) -> None:
    folder = tmp_path / "weights"
    folder.mkdir()
    (folder / "ok.pt").write_bytes(b"PK\x03\x04")
    assert is_offered_base_model("yolo11n.pt", folder)
    assert is_offered_base_model("yolov8x.pt", folder)  # any detection model Ultralytics ships
    assert not is_offered_base_model("yolov8n-seg.pt", folder)  # shipped, but not detection
    assert is_offered_base_model("my-arch.yaml", folder)
    assert is_offered_base_model(str(folder / "ok.pt"), folder)
    assert not is_offered_base_model(str(tmp_path / "datasets" / "x" / "evil.pt"), folder)
    assert not is_offered_base_model(str(folder / ".." / "evil.pt"), folder)
    assert not is_offered_base_model(str(folder / "sub" / "evil.pt"), folder)
    assert not is_offered_base_model("/etc/passwd", folder)
