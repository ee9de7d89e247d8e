"""``python app.py`` refuses to be reachable beyond localhost without authentication."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("SPACE_ID", "YOLO_STUDIO_AUTH", "YOLO_STUDIO_ROOT")}
    return subprocess.run([sys.executable, "app.py", "--root", str(tmp_path), *args], cwd=REPO,
                          env={**clean, **env}, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args, env", [
    (["--host", "0.0.0.0"], {}), (["--share"], {}), ([], {"SPACE_ID": "someone/studio"}),
])
def test_refuses_to_start_public_without_auth(tmp_path, args, env) -> None:
    result = _run(args, tmp_path, **env)
    assert result.returncode == 2
    assert "Refusing to start without authentication" in result.stderr
    assert "YOLO_STUDIO_AUTH" in result.stderr
    assert not (tmp_path / "datasets").exists(), "nothing may be written before the check"


def test_malformed_auth_is_refused(tmp_path) -> None:
    result = _run(["--host", "0.0.0.0", "--auth", "no-colon"], tmp_path)
    assert result.returncode == 2 and "USER:PASS" in result.stderr
