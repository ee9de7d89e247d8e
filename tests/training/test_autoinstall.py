"""Ultralytics' pip auto-install stays off in the studio's process.

Importing Ultralytics replaces ``PIL.Image.open`` (``ultralytics/utils/patches.py``): a file
Pillow cannot identify makes it ``check_requirements("pi-heif")`` (a pip install when
``AUTOINSTALL`` is on) and then import ``pi_heif``. The studio's dataset health check opens
images with Pillow, so after the server's first use of Ultralytics a corrupt image must still read
as a corrupt image, with no install attempted. The patch is process-wide once Ultralytics is
imported (as in the server); the settings changed here are restored by ``monkeypatch``.
"""

from __future__ import annotations

import random
import shutil
import subprocess

import pytest
from dataset_files import TINY

from yolo_studio.persistence.dataset_store import DatasetStore
from yolo_studio.training.ultralytics_backend import UltralyticsBackend

CORRUPT = "images/train/BloodImage_00005.jpg"


@pytest.fixture
def pip_calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every pip/uv install Ultralytics would run from now on (none is run).

    Sets up an online server with Ultralytics' defaults (``AUTOINSTALL`` on, as without
    ``YOLO_AUTOINSTALL`` in the environment), so that only the studio can turn it off.
    """
    from ultralytics import utils
    from ultralytics.utils import checks

    calls: list[list[str]] = []
    real = subprocess.check_output

    def check_output(args, *rest, **kwargs):
        if isinstance(args, (list, tuple)) and "install" in args:
            calls.append(list(args))
            return ""  # a "successful" install: no retry, no download
        return real(args, *rest, **kwargs)

    monkeypatch.setattr(subprocess, "check_output", check_output)
    monkeypatch.setattr(checks, "AUTOINSTALL", True)
    monkeypatch.setattr(utils, "AUTOINSTALL", True)
    monkeypatch.setattr(checks, "ONLINE", True)
    monkeypatch.setattr(checks, "check_uv", lambda: False)
    return calls


def test_corrupt_image_after_the_server_used_ultralytics_reads_corrupt_without_pip(
        tmp_path, pip_calls):
    UltralyticsBackend().check_base_model("yolo11n.yaml")  # the server's first use, at Start
    src = shutil.copytree(TINY, tmp_path / "src" / "garbage",
                          ignore=shutil.ignore_patterns("*.cache"))
    (src / CORRUPT).write_bytes(random.Random(0).randbytes(4096))
    store = DatasetStore(tmp_path / "datasets")

    store.import_folder(src)  # a warning does not block the import
    report = store.check_health("garbage")

    [issue] = [i for i in report.issues if i.code == "image_unreadable"]
    assert issue.files == (CORRUPT,) and report.ok
    shown = report.summary() + "\n" + "\n".join(issue.details)
    assert "corrupt or unreadable image" in shown and "BloodImage_00005.jpg" in shown
    assert "pi_heif" not in shown and "pi-heif" not in shown
    assert pip_calls == []


def test_every_server_use_of_ultralytics_leaves_auto_install_off(pip_calls):
    from ultralytics import utils
    from ultralytics.utils import checks

    UltralyticsBackend().check_base_model("yolo11n.yaml")
    assert checks.AUTOINSTALL is False and utils.AUTOINSTALL is False
