"""``pip install .``: the wheel holds the package, its built-in sample and the ``yolo-studio``
console script; installed, the studio stores in the user data folder, not beside its code.

Built from a copy of the sources (no build folder in the checkout), without build isolation and
without an index: nothing is downloaded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from yolo_studio import config

REPO = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "requirements.txt")
_PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]


def _pip(*args: str) -> None:
    result = subprocess.run([*_PIP, *args], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PIP_NO_INDEX": "1"})
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """``pip wheel --no-deps --no-build-isolation`` of a copy of the sources."""
    pytest.importorskip("setuptools", minversion="70.1",
                        reason="the build backend (pip install -r requirements-dev.txt)")
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        shutil.copy(REPO / name, src / name)
    shutil.copytree(REPO / "yolo_studio", src / "yolo_studio",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.cache"))
    out = tmp_path_factory.mktemp("wheel")
    _pip("wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(out), str(src))
    (found,) = out.glob("yolo_studio-*.whl")
    return found


def _dist_info(names: list[str], leaf: str) -> str:
    (name,) = [n for n in names if n.endswith(f".dist-info/{leaf}")]
    return name


def test_the_wheel_holds_the_sample_and_the_console_script(wheel) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        entry_points = zf.read(_dist_info(names, "entry_points.txt")).decode()
        metadata = zf.read(_dist_info(names, "METADATA")).decode()
    sample = sorted(p.relative_to(REPO).as_posix() for p in config.SAMPLES_DIR.rglob("*")
                    if p.is_file() and p.suffix != ".cache")
    assert "yolo_studio/samples/bccd/data.yaml" in sample
    assert {"yolo_studio/samples/bccd/LICENSE", "yolo_studio/samples/bccd/SOURCE.md"} <= set(sample)
    assert set(sample) <= set(names)
    assert {"yolo_studio/ui/serve.py", "yolo_studio/entry.py"} <= set(names)
    assert not [n for n in names if n.startswith(("tests/", "bench/", "app.py"))]
    assert "yolo-studio = yolo_studio.entry:main" in entry_points
    assert "Requires-Dist: platformdirs" in metadata
    assert 'Requires-Dist: onnx<2.0.0,>=1.12.0; extra == "export"' in metadata
    for extra in ("export", "openvino", "ncnn", "tflite", "tensorflow", "coreml", "paddle", "mnn",
                  "executorch", "tensorrt", "ray", "dev"):
        assert f"Provides-Extra: {extra}" in metadata


def test_the_installed_studio_runs_from_its_console_script(wheel, tmp_path) -> None:
    site = tmp_path / "site"
    _pip("install", "--no-deps", "--no-index", "--target", str(site), str(wheel))
    env = {k: v for k, v in os.environ.items() if k != "YOLO_STUDIO_ROOT"}
    env.update(PYTHONPATH=str(site), XDG_DATA_HOME=str(tmp_path / "xdg"))
    code = ("from yolo_studio import config; "
            "print(config.__file__, config.source_checkout(), config.default_root(), sep='\\n')")
    where = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=120, check=True)
    module, checkout, root = where.stdout.splitlines()
    assert Path(module).is_relative_to(site) and checkout == "None"
    spaces = config.SPACES_DATA_DIR
    expected = (spaces / "yolo_studio" if spaces.is_dir() and os.access(spaces, os.W_OK)
                else tmp_path / "xdg" / "yolo-studio")
    assert Path(root) == expected and not Path(root).is_relative_to(site)

    listed = subprocess.run([str(site / "bin" / "yolo-studio"), "--root", str(tmp_path / "r"),
                             "datasets"], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert "bccd" in listed.stdout
    assert (tmp_path / "r" / "datasets" / "bccd" / "data.yaml").is_file()
