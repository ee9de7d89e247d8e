"""What the benchmarks share: the repository on ``sys.path`` (importing this module puts it
there, so import it before ``yolo_studio``; the scripts run as ``python bench/<name>.py``),
tests/data/bccd-tiny, a throwaway studio root with a copy of it as dataset "tiny"
(``tiny_studio``, ``monitored_studio``: jobs train in worker processes, ``wait_worker_ready``),
the app over it (``studio_app``), served as
``app.py`` serves it (``served``), and simulated browser pages watching it over HTTP
(``watching_pages``)."""

from __future__ import annotations

import contextlib
import gc
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from yolo_studio.config import StudioSettings  # noqa: E402

TINY = REPO / "tests" / "data" / "bccd-tiny"


@contextlib.contextmanager
def tiny_studio(prefix: str) -> Iterator[StudioSettings]:
    """Settings over a new temporary folder's ``studio/`` root whose ``datasets/tiny`` is a
    copy of bccd-tiny; the whole folder (``settings.root.parent``, free for other files) is
    removed afterwards."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        settings = StudioSettings(root=work / "studio")
        shutil.copytree(TINY, settings.datasets_dir / "tiny")
        yield settings
    finally:
        shutil.rmtree(work, ignore_errors=True)


@contextlib.contextmanager
def monitored_studio(prefix: str, backend: object = None, executor: object = None
                     ) -> Iterator[tuple[object, object]]:
    """(started TrainingManager, started ResourceMonitor) over ``tiny_studio(prefix)``; both
    are closed and the folder removed afterwards. With neither ``backend`` nor ``executor``
    the manager is the studio's own: each job trains in a worker process of its own
    (``executors.ProcessExecutor``); a ``backend`` alone trains in the manager's thread."""
    from yolo_studio.resources import ResourceMonitor
    from yolo_studio.training.manager import TrainingManager

    with tiny_studio(prefix) as settings:
        monitor = ResourceMonitor()
        monitor.start()
        try:
            manager = TrainingManager(settings, backend=backend, monitor=monitor,
                                      executor=executor)
            manager.start()
            try:
                yield manager, monitor
            finally:
                manager.close()
        finally:
            monitor.close()


def studio_run(manager, config) -> float:
    """Seconds from ``manager.start_training(config)`` to the job's finished snapshot.

    Raises:
        SystemExit: the job did not complete (its state and error are in the message).
    """
    t0 = time.perf_counter()
    snap = manager.wait_for_job(manager.start_training(config))
    seconds = time.perf_counter() - t0
    if snap.state.value != "COMPLETED":
        raise SystemExit(f"studio run ended {snap.state.value}: {snap.error}")
    return seconds


def wait_worker_ready(manager, timeout_s: float = 120.0) -> None:
    """Wait until the worker process standing by for ``manager``'s next job has imported
    torch and Ultralytics (``ProcessExecutor.standby_ready``). Each job's worker is started
    as the previous job ends; a timed job started before it is ready would wait for its
    imports. Returns at once for a manager that trains in its own thread.

    Raises:
        TimeoutError: no ready standby worker within ``timeout_s`` seconds.
    """
    if not hasattr(manager.executor, "standby_ready"):
        return
    deadline = time.monotonic() + timeout_s
    while not manager.executor.standby_ready:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no ready training worker within {timeout_s} s")
        time.sleep(0.05)


def studio_app(manager, monitor) -> object:
    """The studio's Gradio Blocks over ``manager`` (the real one, or a stand-in with its
    API), as ``app.py`` builds them; not launched."""
    from yolo_studio.ui.app import build_app

    return build_app(manager, monitor)


@contextlib.contextmanager
def served(demo) -> Iterator[str]:
    """``demo`` served on a free port of 127.0.0.1 as ``app.py`` serves it (``queued``,
    ``max_threads=MAX_THREADS``), in this process; yields its base URL; closed afterwards."""
    from yolo_studio.ui.app import MAX_THREADS, queued

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    queued(demo).launch(server_name="127.0.0.1", server_port=port, max_threads=MAX_THREADS,
                        prevent_thread_lock=True, quiet=True, show_error=True)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        demo.close()


def thread_cpu_s(native_ids: set[int]) -> dict[int, float]:
    """CPU seconds (user + system) each live thread with one of these native ids used so far
    (psutil)."""
    import psutil

    return {t.id: t.user_time + t.system_time for t in psutil.Process().threads()
            if t.id in native_ids}


#: Names (prefixes) of the threads that serve pages: Gradio's worker threads (sync event
#: handlers), asyncio's executor, the monitor feed, the resource sampler; and Gradio's server
#: thread, whose event loop runs the streams, named "Thread-<n> (run)" (``SERVER_SUFFIX``).
#: Not the trainer, torch's native threads, Ultralytics' (plot_images, label caching pools).
SERVING_PREFIXES = ("AnyIO worker thread", "asyncio_", "monitor-feed-",  # THREAD_PREFIX
                    "yolo-studio-resource-monitor")
SERVER_SUFFIX = " (run)"


def serving_threads() -> set[int]:
    """Native ids of this process's threads that serve pages (``SERVING_PREFIXES``)."""
    return {t.native_id for t in threading.enumerate()
            if t.name.startswith(SERVING_PREFIXES) or t.name.endswith(SERVER_SUFFIX)}


#: Seconds the simulated pages may take to draw their first update before the bench gives up.
DRAW_TIMEOUT_S = 60.0


def _page_plan(demo, url: str, pages: int, stamps: tuple[str, ...]) -> dict:
    """What ``sse_pages.py`` needs: the stream events to join, per State the change events a
    page sends when it changes (by fn index, as the server numbers them), and where the
    outputs whose elem_ids are ``stamps`` are: their stream's fn index and their positions."""
    streams = {i: fn for i, fn in demo.fns.items() if (fn.name or "").startswith("follow_")}
    changes: dict[str, list[list[int]]] = {}
    for i, fn in demo.fns.items():
        for block_id, event in fn.targets:
            if event == "change" and block_id is not None:
                changes.setdefault(str(block_id), []).append([i, len(fn.inputs)])
    stamped = None
    for i, fn in streams.items():
        positions = [n for n, out in enumerate(fn.outputs) if out.elem_id in stamps]
        if positions:
            stamped = {"fn": i, "outputs": positions}
    if stamps and (stamped is None or len(stamped["outputs"]) != len(stamps)):
        raise ValueError(f"no stream updates all of {stamps}")
    return {"url": url, "pages": pages, "streams": list(streams), "changes": changes,
            "stamps": stamped}


@contextlib.contextmanager
def watching_pages(demo, url: str, count: int, stamps: tuple[str, ...] = ()
                   ) -> Iterator[dict[str, Any]]:
    """``count`` simulated browser pages watching the studio served at ``url`` while the
    block runs.

    The pages run in a process of their own (``bench/sse_pages.py``): each joins every
    ``follow_*`` stream event over HTTP as a page load does, holds Gradio's heartbeat, reads
    its server-sent events and sends the State ``change`` events the page's JavaScript would
    (the job selector's refill; ``on_finished``, the Models tab's refresh, with no model
    selected). So the server does for them what it does for real pages: Gradio's queue, the
    diff of each update against the last, JSON, the network stack. Left out: the drawing, the
    page-load event that fills the Train tab's form, and the changes that follow a component
    update (``on_finished``'s new Models-tab values run ``on_model``, ``on_refresh``, ...), which
    come after a job has ended, outside its wall time. The block starts once every stream of
    every page has sent its first update, after a full garbage collection (with or without
    pages), as pages opened long before. Afterwards the pages' process is killed and the
    monitor feed's thread has ended (``_wait_feed_ended``), so nothing overlaps the next run.

    Args:
        demo: The app's Blocks, served at ``url`` (``served``).
        url: Its base URL.
        count: Pages to open (0: none; the block still gets its usage figures).
        stamps: elem_ids of outputs of one stream (the charts): note the
            ``time.perf_counter()`` of each update to a page that changes one of them.

    Yields a dict that holds, after the block: ``server_cpu_s``, the CPU seconds this
    process's serving threads (``serving_threads``, alive at the start or the end: Gradio's
    worker threads end after 10 s idle, so one that worked during a run of a few seconds is
    still there) used during the block; ``pages_cpu_s``, the pages' process's; and with
    ``stamps``, ``stamps``: the arrival times.

    Raises:
        TimeoutError: the pages did not draw within ``DRAW_TIMEOUT_S`` seconds.
    """
    usage: dict[str, Any] = {"pages_cpu_s": 0.0}
    pages = None
    if count:
        plan = _page_plan(demo, url, count, stamps)
        pages = subprocess.Popen([sys.executable, str(Path(__file__).with_name("sse_pages.py")),
                                  json.dumps(plan)], stdout=subprocess.PIPE, text=True)
    try:
        if pages is not None:
            _wait_ready(pages)
        gc.collect()
        before, pages_before = thread_cpu_s(serving_threads()), _process_cpu_s(pages)
        yield usage
        after = thread_cpu_s(serving_threads() | set(before))
        usage["server_cpu_s"] = sum(s - before.get(i, 0.0) for i, s in after.items())
        usage["pages_cpu_s"] = _process_cpu_s(pages) - pages_before
    finally:
        if pages is not None:
            pages.kill()
            out, _ = pages.communicate()
            if stamps:
                usage["stamps"] = [float(line) for line in out.split()]
        _wait_feed_ended()


def _wait_feed_ended() -> None:
    """Wait until the monitor feed's thread has ended. A page that went away is noticed when
    a stream next sends to it: a quiet stream's keep-alive after ``KEEPALIVE_S``; the feed
    then ends within ``RESOURCE_EVERY_S``. Until then the gone pages' streams would still take
    frames in the next run.

    Raises:
        TimeoutError: it still runs 5 s after that.
    """
    from yolo_studio.ui.monitor_feed import KEEPALIVE_S, RESOURCE_EVERY_S

    deadline = time.monotonic() + KEEPALIVE_S + RESOURCE_EVERY_S + 5.0
    for feed in _feed_threads():
        feed.join(timeout=max(0.0, deadline - time.monotonic()))
        if feed.is_alive():
            raise TimeoutError(f"{feed.name} still runs after the pages were closed")


def _wait_ready(pages: subprocess.Popen) -> None:
    ready = threading.Event()

    def read() -> None:
        if pages.stdout.readline().strip() == "READY":
            ready.set()
    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(DRAW_TIMEOUT_S):
        pages.kill()
        raise TimeoutError(f"the pages did not draw within {DRAW_TIMEOUT_S} s "
                           f"(exit code {pages.wait()})")


def _process_cpu_s(process: subprocess.Popen | None) -> float:
    import psutil

    if process is None:
        return 0.0
    times = psutil.Process(process.pid).cpu_times()
    return times.user + times.system


def _feed_threads() -> list[threading.Thread]:
    from yolo_studio.ui.monitor_feed import THREAD_PREFIX

    return [t for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX)]
