"""``python app.py`` refuses malformed launch options. (Reachable without a password, it serves the
read-only demo: tests/ui/test_hosting.py, tests/browser/test_demo_mode.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("SPACE_ID", "YOLO_STUDIO_AUTH", "YOLO_STUDIO_ROOT")}
    return subprocess.run([sys.executable, "app.py", "--root", str(tmp_path), *args], cwd=REPO,
                          env={**clean, **env}, capture_output=True, text=True, timeout=120)


def test_malformed_auth_is_refused(tmp_path) -> None:
    result = _run(["--host", "0.0.0.0", "--auth", "no-colon"], tmp_path)
    assert result.returncode == 2 and "USER:PASS" in result.stderr
