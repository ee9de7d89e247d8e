"""What the benchmarks share: the repository on ``sys.path`` (importing this module puts it
there, so import it before ``yolo_studio``; the scripts run as ``python bench/<name>.py``),
tests/data/bccd-tiny, a throwaway studio root with a copy of it as dataset "tiny"
(``tiny_studio``, ``monitored_studio``), the app over it (``studio_app``) and simulated
browser tabs watching it (``watching_tabs``)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

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
def monitored_studio(prefix: str, backend: object) -> Iterator[tuple[object, object]]:
    """(started TrainingManager with ``backend``, started ResourceMonitor) over
    ``tiny_studio(prefix)``; both are closed and the folder removed afterwards."""
    from yolo_studio.resources import ResourceMonitor
    from yolo_studio.training.manager import TrainingManager

    with tiny_studio(prefix) as settings:
        monitor = ResourceMonitor()
        monitor.start()
        try:
            manager = TrainingManager(settings, backend=backend, monitor=monitor)
            manager.start()
            try:
                yield manager, monitor
            finally:
                manager.close()
        finally:
            monitor.close()


def studio_app(manager, monitor) -> object:
    """The studio's Gradio Blocks over ``manager`` (the real one, or a stand-in with its
    API), as ``app.py`` builds them; not launched."""
    from yolo_studio.ui.app import build_app

    return build_app(manager, monitor)


def thread_cpu_s(native_ids: set[int]) -> float:
    """CPU seconds (user + system) the threads with these native ids used so far (psutil)."""
    import psutil

    return sum(t.user_time + t.system_time for t in psutil.Process().threads()
               if t.id in native_ids)


#: Seconds a simulated tab may take to draw its first update before the bench gives up.
DRAW_TIMEOUT_S = 60.0


async def _follow(demo, stream, state, drawn: threading.Semaphore,
                  arrivals: dict[str, list[float]] | None) -> None:
    """Step one stream event of one tab as Gradio's queue does, until it ends; ``drawn`` is
    released after its first update; ``arrivals[stream name]`` (if given) gets the
    ``time.perf_counter()`` of every update."""
    steps, first = None, True
    try:
        while True:
            out = await demo.process_api(stream, [], state=state, iterator=steps,
                                         in_event_listener=True)
            if not out["is_generating"]:
                return
            steps = out["iterator"]
            json.dumps(out["data"])
            if arrivals is not None:
                arrivals.setdefault(stream.name, []).append(time.perf_counter())
            if first:
                drawn.release()
                first = False
    finally:
        if steps is not None:
            await steps.aclose()


async def _tab(demo, drawn: threading.Semaphore, arrivals) -> None:
    """One simulated tab: its own session state, every ``follow_*`` stream of ``demo``."""
    from gradio.state_holder import SessionState

    state = SessionState(demo)
    await asyncio.gather(*(_follow(demo, fn, state, drawn, arrivals)
                           for fn in _streams(demo)))


def _streams(demo) -> list:
    return [fn for fn in demo.fns.values() if fn.name.startswith("follow_")]


async def _close_tabs() -> None:
    tabs = asyncio.all_tasks() - {asyncio.current_task()}
    for task in tabs:
        task.cancel()
    await asyncio.gather(*tabs, return_exceptions=True)


def _feed_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("monitor-feed")]


@contextlib.contextmanager
def watching_tabs(demo, count: int,
                  arrivals: dict[str, list[float]] | None = None) -> Iterator[dict[str, float]]:
    """``count`` simulated browser tabs following ``demo``'s Monitor stream while the block
    runs.

    Each tab steps the app's own stream events (``follow_<stream>``: async generators over
    the app's one ``MonitorFeed``) through ``Blocks.process_api``, as Gradio's queue does for
    an open page: the same processing of every output, then each update is serialised to
    JSON, as the server does before sending it. All tabs run on one event loop, in a thread of
    its own, as Gradio's server runs them; only the network is left out. The block starts once
    every stream of every tab has sent its first update, and after a full garbage collection
    (with or without tabs): the objects the tabs' setup left would otherwise be traversed by
    an extra full collection inside the timed run, about 0.4 s here (some 600,000 objects
    live in the process), as tabs opened long before would not be. After the block the tabs
    are closed and the feed's thread has ended, so it cannot overlap the next run.

    Args:
        demo: The app's Blocks (``studio_app``).
        count: Tabs to open.
        arrivals: If given, ``{stream event name: [perf_counter() of each update]}`` is
            filled in (all tabs together).

    Yields a dict that holds, after the block, ``cpu_s``: the CPU seconds the tabs' event loop
    thread and the app's monitor-feed thread used during the block.

    Raises:
        TimeoutError: the tabs did not draw within ``DRAW_TIMEOUT_S`` seconds.
    """
    drawn = threading.Semaphore(0)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="bench-tabs", daemon=True)
    thread.start()
    tabs = [asyncio.run_coroutine_threadsafe(_tab(demo, drawn, arrivals), loop)
            for _ in range(count)]
    usage: dict[str, float] = {}
    try:
        for _ in range(count * len(_streams(demo))):
            if not drawn.acquire(timeout=DRAW_TIMEOUT_S):
                failed = [t.exception() for t in tabs if t.done() and t.exception()]
                raise TimeoutError(f"the tabs did not draw within {DRAW_TIMEOUT_S} s: {failed}")
        ids = {t.native_id for t in [thread, *_feed_threads()]}
        gc.collect()  # the tabs' setup (a SessionState each) is garbage-collected now
        start = thread_cpu_s(ids)
        yield usage
        usage["cpu_s"] = thread_cpu_s(ids) - start
    finally:
        try:
            asyncio.run_coroutine_threadsafe(_close_tabs(), loop).result(timeout=60)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            loop.close()
            for feed in _feed_threads():  # ends within RESOURCE_EVERY_S of the last tab
                feed.join(timeout=10)
