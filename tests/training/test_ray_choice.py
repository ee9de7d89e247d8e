"""Choosing where jobs train: no Ray unless asked (``executor_choice``, ``ray_cluster``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from yolo_studio.errors import TrainingError, ValidationError
from yolo_studio.training import ray_cluster
from yolo_studio.training.executor_choice import make_executor
from yolo_studio.training.executors import ProcessExecutor

REPO = Path(__file__).resolve().parents[2]


def test_the_address_comes_from_the_flag_else_the_environment():
    env = {ray_cluster.RAY_ADDRESS_ENV: "ray://head:10001"}
    assert ray_cluster.ray_address_from(None, {}) is None
    assert ray_cluster.ray_address_from(None, env) == "ray://head:10001"
    assert ray_cluster.ray_address_from("local", env) == "local"
    assert ray_cluster.ray_address_from("auto", {}) == "auto"
    with pytest.raises(ValidationError, match="'local'.*'auto'.*ray://"):
        ray_cluster.ray_address_from("my-cluster", {})


def test_without_ray_the_error_names_the_pip_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed: import fails
    # ``local`` sets Ray's loopback switch in os.environ: undone after the test (it leaked
    # into later tests' subprocesses: Ray's default then bound loopback too)
    monkeypatch.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "1")
    with pytest.raises(TrainingError, match=r'pip install "yolo-studio\[ray\]"'):
        make_executor("local")


def test_no_address_is_a_local_worker_process_per_job(monkeypatch):
    monkeypatch.delenv(ray_cluster.RAY_ADDRESS_ENV, raising=False)
    executor = make_executor(None, hang_timeout_min=5)
    try:
        assert isinstance(executor, ProcessExecutor) and executor.hang_timeout_s == 300
    finally:
        executor.close()


def test_the_app_and_a_local_job_import_no_ray(tmp_path):
    """The whole app built over a started manager (worker process included) without --ray
    leaves Ray unimported, installed or not."""
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from yolo_studio.config import SAMPLES_DIR, StudioSettings\n"
        "from yolo_studio.ui.serve import start_services\n"
        "from yolo_studio.ui.app import build_app\n"
        f"manager, monitor = start_services(StudioSettings(Path({str(tmp_path)!r})), "
        "SAMPLES_DIR)\n"
        "build_app(manager, monitor)\n"
        "manager.close(); monitor.stop()\n"
        "print('ray imported:', 'ray' in sys.modules)\n")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ray imported: False" in result.stdout
