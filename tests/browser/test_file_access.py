"""Gradio serves files from the storage root only (``allowed_paths=[root]``)."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def test_only_files_under_the_storage_root_are_served(studio) -> None:
    outside = studio.root.parent / f"{studio.root.name}-outside.txt"
    outside.write_text("secret")
    inside = studio.root / "datasets" / "bccd-tiny" / "data.yaml"
    assert _status(f"{studio.url}gradio_api/file={inside}") == 200
    for path in (outside, Path("/etc/passwd"), REPO / "app.py"):
        assert _status(f"{studio.url}gradio_api/file={path}") == 403, path
