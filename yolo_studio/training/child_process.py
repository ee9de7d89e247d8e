"""The studio's side of one training worker process (``training/worker.py``).

``WorkerProcess`` starts the worker in a process group of its own, listens for its connections
on an AF_UNIX socket with a random secret (its control connection first, then the event
connection of each process that trains: the worker itself, or DDP rank 0), keeps the last lines
it printed, and kills its whole group. ``death_cause`` words why a worker died.
"""

from __future__ import annotations

import collections
import os
import queue
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
from multiprocessing.connection import Connection, Listener
from pathlib import Path
from typing import Any

from .worker import DEFAULT_BACKEND, WORKER_KEY_ENV

#: Lines of the worker's own output (stdout and stderr) kept for a crash report.
TAIL_LINES = 40
_PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])


class WorkerProcess:
    """One worker process and the socket it reports on.

    Args:
        backend: ``module:callable`` building the worker's backend (default: Ultralytics).
        env: Extra environment variables for the worker (``PYTHONPATH`` entries are added to
            the package's own folder, so the worker and its DDP ranks import this package).

    Attributes:
        proc: The ``subprocess.Popen``; ``proc.pid`` is also its process group id.
        connections: Accepted connections not yet taken by ``take_connections``.
        tail: The worker's last output lines.
    """

    def __init__(self, backend: str = DEFAULT_BACKEND, env: dict[str, str] | None = None) -> None:
        self._folder = tempfile.mkdtemp(prefix="yolo-studio-worker-")
        self._key = secrets.token_bytes(32)
        self._address = os.path.join(self._folder, "socket")
        self._listener = Listener(self._address, family="AF_UNIX", authkey=self._key)
        self.connections: queue.Queue[Connection] = queue.Queue()
        self.tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        child_env = dict(os.environ, **(env or {}))
        child_env[WORKER_KEY_ENV] = self._key.hex()
        child_env["YOLO_AUTOINSTALL"] = "False"  # never pip-install from a training process
        child_env["PYTHONPATH"] = os.pathsep.join(
            p for p in (_PACKAGE_PARENT, child_env.get("PYTHONPATH", "")) if p)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "yolo_studio.training.worker", "--address",
             self._address, "--backend", backend, "--parent", str(os.getpid())],
            env=child_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True, text=True, errors="replace")
        threading.Thread(target=self._accept, name="yolo-studio-worker-accept",
                         daemon=True).start()
        threading.Thread(target=self._read_output, name="yolo-studio-worker-output",
                         daemon=True).start()

    @property
    def pid(self) -> int:
        """The worker's process id (also its process group id)."""
        return self.proc.pid

    def _accept(self) -> None:
        while True:
            try:
                conn = self._listener.accept()
            except (OSError, EOFError):  # the listener was closed: the worker is done
                return
            except Exception:  # noqa: BLE001 - a client with a wrong secret; keep listening
                continue
            self.connections.put(conn)

    def _read_output(self) -> None:
        for line in self.proc.stdout:
            line = plain_line(line)
            if line:
                self.tail.append(line)
        self.proc.stdout.close()

    def alive(self) -> bool:
        """True while the worker process has not exited."""
        return self.proc.poll() is None

    def kill(self) -> None:
        """Kill the worker's whole process group (data loader workers, DDP ranks) and reap it."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # a process stuck in the kernel (D state)
            pass

    def close(self) -> None:
        """Kill the group and remove the socket."""
        self.kill()
        self._listener.close()
        try:
            os.unlink(self._address)
            os.rmdir(self._folder)
        except OSError:
            pass

    def last_lines(self, count: int = 8) -> list[str]:
        """The worker's last ``count`` output lines (tracebacks, native crash reports)."""
        return list(self.tail)[-count:]


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
#: A progress bar's line (tqdm, Ultralytics' TQDM): a percentage before a bar of blocks or dashes.
_PROGRESS_BAR = re.compile(r"\d+%\s*[\u2500-\u259f━─|#]")


def plain_line(text: str) -> str:
    """One line of a worker's output as a user should read it: terminal escape codes removed,
    only what the last carriage return left (a redrawn progress bar keeps its final state),
    and "" for a progress bar's line (it says nothing about a crash)."""
    text = _ANSI.sub("", text).rstrip("\n").split("\r")[-1].strip()
    return "" if _PROGRESS_BAR.search(text) else text


def death_cause(returncode: int, ran_out_of_memory: bool, last_lines: list[str]) -> str:
    """Why a worker process ended before it reported a result, for the user.

    Args:
        returncode: ``Popen.returncode``: negative for a signal, else the exit status.
        ran_out_of_memory: The kernel's OOM-kill count grew while the worker ran
            (``resources.memory.oom_kill_count``).
        last_lines: The worker's last output lines (quoted at the end).
    """
    if returncode < 0:
        number = -returncode
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        if number == signal.SIGKILL and ran_out_of_memory:
            text = ("The training process was killed (SIGKILL) because the system ran out of "
                    "memory (the kernel's OOM killer). Lower batch, imgsz or workers, turn off "
                    "cache, or close other programs, then retry the job.")
        elif number == signal.SIGKILL:
            text = ("The training process was killed (SIGKILL) from outside the studio (a user, "
                    "a container limit or the kernel). Retry or resume the job.")
        elif number == signal.SIGSEGV:
            text = ("The training process crashed with a segmentation fault (SIGSEGV) in native "
                    "code (PyTorch, OpenCV or a driver). Retry the job; if it crashes again, "
                    "try another device or fewer workers.")
        else:
            text = (f"The training process ended on signal {name} "
                    f"({signal.strsignal(number) or 'unknown'}). Retry or resume the job.")
    else:
        text = (f"The training process exited with code {returncode} before it reported a "
                "result. Retry the job; the lines below may say why.")
    if last_lines:
        text += " Its last output: " + " | ".join(last_lines)
    return text


def send_quietly(conn: Connection, message: Any) -> bool:
    """Send ``message``; False when the other end is gone."""
    try:
        conn.send(message)
        return True
    except (OSError, ValueError):
        return False
