"""Names of datasets and models are refused before anything is written."""

from __future__ import annotations

import pytest

from yolo_studio.errors import ValidationError
from yolo_studio.names import validate_name


@pytest.mark.parametrize("name", ["bccd", "my-model_v1.2", "A" * 64, "yolo11n-20261130"])
def test_accepted(name: str) -> None:
    assert validate_name(name) == name


@pytest.mark.parametrize("name,why", [
    ("", "empty"), ("a/b", "characters"), ("a\\b", "characters"), ("..", "start with"),
    (".hidden", "start with"), ("a\x00b", "characters"), ("with space", "characters"),
    ("CON", "reserved"), ("nul.txt", "reserved"), ("com1", "reserved"), ("A" * 65, "65"),
    (None, "empty"), ("é!", "characters"),
])
def test_refused_with_a_reason(name, why: str) -> None:
    with pytest.raises(ValidationError, match=why):
        validate_name(name, "Model name")


@pytest.mark.parametrize("name", ["células", "Ölbilder_2", "細胞", "клетки-v1.0"])
def test_unicode_letters_and_digits_are_accepted(name: str) -> None:
    assert validate_name(name, "Dataset name") == name


def test_a_decomposed_name_comes_back_composed() -> None:
    assert validate_name("ce\u0301lulas") == "células"  # macOS writes folder names as NFD


@pytest.mark.parametrize("name", ["cé lulas", "c/é", "é*", "a:b", "é\u200bé"])
def test_the_refusal_says_which_characters_are_allowed(name: str) -> None:
    with pytest.raises(ValidationError, match="letters .any script., digits, '-', '_' and '.'"):
        validate_name(name, "Dataset name")


def test_an_imported_folder_keeps_its_unicode_name(tmp_path) -> None:
    import shutil

    from dataset_files import TINY

    from yolo_studio.persistence.dataset_import import default_name
    from yolo_studio.persistence.dataset_store import DatasetStore

    assert default_name("ce\u0301lulas (2)") == "células_2"
    src = tmp_path / "células"
    shutil.copytree(TINY, src)
    store = DatasetStore(tmp_path / "datasets")
    assert store.import_folder(src).name == "células"
    assert store.get("células").snapshot == "28 images, 3 classes"
