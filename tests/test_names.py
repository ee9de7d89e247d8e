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
    (None, "empty"), ("é", "characters"),
])
def test_refused_with_a_reason(name, why: str) -> None:
    with pytest.raises(ValidationError, match=why):
        validate_name(name, "Model name")
