"""``yolo-studio serve`` / ``python app.py``: Gradio's address variables, a taken port, the
studio's own startup lines, and the console entry's dispatch."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from yolo_studio import cli, entry
from yolo_studio.errors import ValidationError
from yolo_studio.serve_options import DEFAULT_PORT, listen_address
from yolo_studio.ui.hosting import plan
from yolo_studio.ui.serve import check_port, startup_lines

REPO = Path(__file__).resolve().parents[2]
_STRIPPED = ("SPACE_ID", "YOLO_STUDIO_AUTH", "YOLO_STUDIO_ROOT", "GRADIO_SERVER_NAME",
             "GRADIO_SERVER_PORT")


@pytest.fixture
def listening() -> Iterator[int]:
    """A port another program listens on (127.0.0.1)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _STRIPPED}
    return {**env, "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1",
            "YOLO_OFFLINE": "1", **extra}


def _run(args: list[str], **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=REPO, env=_env(**extra),
                          capture_output=True, text=True, timeout=120)


def test_flags_win_over_gradios_variables() -> None:
    env = {"GRADIO_SERVER_NAME": "0.0.0.0", "GRADIO_SERVER_PORT": "8000"}
    assert listen_address("127.0.0.1", 7000, env) == ("127.0.0.1", 7000)
    assert listen_address(None, None, env) == ("0.0.0.0", 8000)
    assert listen_address(None, None, {}) == (None, DEFAULT_PORT)
    assert listen_address(None, None, {"GRADIO_SERVER_NAME": " "}) == (None, DEFAULT_PORT)
    with pytest.raises(ValidationError, match="GRADIO_SERVER_PORT='x' is not a port"):
        listen_address(None, None, {"GRADIO_SERVER_PORT": "x"})


def test_startup_lines_name_the_studios_options_not_gradios() -> None:
    local = startup_lines(plan(None, 7860, False, None, {}), "http://127.0.0.1:7860/", {})
    assert local[0] == "YOLO Studio: running on http://127.0.0.1:7860/"
    assert "--share: with --auth USER:PASS" in local[1]
    assert not any("share=True" in line for line in local)
    shared = plan(None, 7860, True, "a:b", {})
    assert len(startup_lines(shared, "http://127.0.0.1:7860/", {})) == 1
    demo = startup_lines(plan("0.0.0.0", 7860, False, None, {}), "u", {})
    assert demo[1].startswith("Serving the read-only demo: it is reachable beyond this machine")
    spaces = {"SPACE_ID": "me/studio"}
    assert len(startup_lines(plan(None, 7860, False, "a:b", spaces), "u", spaces)) == 1


def test_check_port_refuses_a_taken_port_plainly(listening) -> None:
    with pytest.raises(ValidationError) as err:
        check_port("127.0.0.1", listening)
    assert str(err.value).startswith(f"port {listening} is already in use: stop the other "
                                     "program or pass --port N")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free = sock.getsockname()[1]
    check_port("127.0.0.1", free)


@pytest.mark.parametrize("how", ["flag", "env"])
def test_a_taken_port_exits_2_without_a_traceback(tmp_path, listening, how) -> None:
    if how == "flag":
        result = _run(["app.py", "--root", str(tmp_path), "--port", str(listening)])
    else:
        result = _run(["-m", "yolo_studio", "--root", str(tmp_path), "serve"],
                      GRADIO_SERVER_PORT=str(listening))
    assert result.returncode == 2, result.stderr
    assert f"yolo-studio: port {listening} is already in use" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "datasets").exists(), "nothing may be written before the check"


def test_serve_listens_on_gradios_address_and_prints_its_own_lines(tmp_path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "yolo_studio", "serve", "--root", str(tmp_path)], cwd=REPO,
        env=_env(GRADIO_SERVER_NAME="localhost", GRADIO_SERVER_PORT=str(port)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    try:
        for line in process.stdout:
            lines.append(line)
            if "running on" in line or "Traceback" in line:
                break
        assert f"YOLO Studio: running on http://localhost:{port}/\n" in lines, "".join(lines)
        url = f"http://127.0.0.1:{port}/"
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.status == 200
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
        rest = process.stdout.read()  # not communicate(): it would skip what is buffered here
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = "".join(lines) + rest
    assert "--share: with --auth USER:PASS" in output
    assert "share=True" not in output and "Traceback" not in output
    assert process.returncode == 0, output
    assert (tmp_path / "datasets" / "bccd" / "data.yaml").is_file()


def test_the_console_entry_runs_headless_commands(tmp_path, capsys) -> None:
    assert entry.main(["--root", str(tmp_path), "datasets"]) == 0
    assert "bccd" in capsys.readouterr().out
    assert cli.main(["serve"]) == 2  # serve is the entry's, never run by cli


def test_the_entry_imports_no_gradio_until_serve_runs() -> None:
    code = ("import sys, yolo_studio.entry, yolo_studio.ui.serve; "
            "print(sorted({'gradio', 'torch', 'ultralytics'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "[]"
