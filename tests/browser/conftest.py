"""Browser tests: the real app (``python app.py``) in a subprocess, driven by Chromium.

The app gets a fresh storage root with ``tests/data/bccd-tiny`` copied in as
``datasets/bccd-tiny``. Chromium is Debian's ``/usr/bin/chromium``; when it is missing the tests
skip, except when ``YOLO_STUDIO_REQUIRE_BROWSER`` is set (``1``/``true``/``yes``/``on``, as
``.ci/run`` sets it), where they fail.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from dataset_files import TINY, broken_copy

from .studio_page import wait_until_loaded

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic",
                 # several pages at once (two tabs racing): keep background pages rendering and
                 # their timers running, as a user's visible windows would
                 "--disable-backgrounding-occluded-windows", "--disable-renderer-backgrounding",
                 "--disable-background-timer-throttling"]
START_TIMEOUT_S = 90.0
#: Set to turn a browser test skipped for a missing Chromium into a failure (CI sets it).
REQUIRE_BROWSER_ENV = "YOLO_STUDIO_REQUIRE_BROWSER"


@dataclass
class RunningApp:
    """The app under test: its URL, storage root and log file."""

    url: str
    root: Path
    log_path: Path
    process: subprocess.Popen

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(app: RunningApp, port: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if app.process.poll() is not None:
            pytest.fail(f"app exited with {app.process.returncode}:\n{app.log()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"app did not listen on port {port} within {START_TIMEOUT_S} s:\n{app.log()}")


def chromium_or_skip(path: Path, env: Mapping[str, str]) -> Path:
    """``path`` when the browser is there; else skip the test, or fail it when
    ``env[REQUIRE_BROWSER_ENV]`` is ``1``/``true``/``yes``/``on``."""
    if path.exists():
        return path
    message = (f"{path} is missing: install Debian's chromium package "
               "(apt-get install chromium) to run the browser tests")
    if env.get(REQUIRE_BROWSER_ENV, "").strip().lower() in {"1", "true", "yes", "on"}:
        pytest.fail(f"{message} ({REQUIRE_BROWSER_ENV} is set)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    return chromium_or_skip(CHROMIUM, os.environ)


@pytest.fixture(scope="module")
def studio_args() -> list[str]:
    """Extra ``app.py`` arguments; a test module overrides this fixture to launch differently."""
    return []


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory, chromium_path: Path,
           studio_args: list[str]) -> Iterator[RunningApp]:
    """Start ``python app.py --root <tmp> --port <free> [studio_args]``; stop it after the
    module."""
    root = tmp_path_factory.mktemp("studio-root")
    shutil.copytree(TINY, root / "datasets" / "bccd-tiny")
    broken_copy(root / "datasets" / "bccd-broken")
    with launch_studio(root, studio_args) as app:
        yield app


@contextlib.contextmanager
def launch_studio(root: Path, args: Sequence[str] = ()) -> Iterator[RunningApp]:
    """Run ``python app.py --root ROOT --port <free> ARGS`` until the block ends; its output goes
    to ``ROOT/app.log``. Auth, Spaces and upload settings of this environment are not passed on."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("SPACE_ID", "YOLO_STUDIO_AUTH", "YOLO_STUDIO_ROOT",
                        "YOLO_STUDIO_ALLOW_WEIGHTS_UPLOAD")}
    env.update(GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1", YOLO_OFFLINE="1")
    log_path = root / "app.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([sys.executable, "app.py", "--root", str(root), "--port",
                                    str(port), *args], cwd=REPO, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
    app = RunningApp(f"http://127.0.0.1:{port}/", root, log_path, process)
    try:
        _wait_for_port(app, port)
        yield app
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


#: Milliseconds an ``expect`` waits (Playwright's default, 5 s, is less than the page takes to
#: answer a click on a loaded 2-core machine: the rendering of its ~340 components).
EXPECT_TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def browser(chromium_path: Path) -> Iterator[object]:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, studio: RunningApp) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(studio.url)
    wait_until_loaded(page)
    yield page
    context.close()
