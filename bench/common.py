"""What the benchmarks share: the repository on ``sys.path`` (importing this module puts it
there, so import it before ``yolo_studio``), tests/data/bccd-tiny, and a throwaway studio root
with a copy of it as dataset "tiny"."""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
import threading
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
        manager = TrainingManager(settings, backend=backend, monitor=monitor)
        manager.start()
        try:
            yield manager, monitor
        finally:
            manager.close()
            monitor.close()


def watch_tab(manager, monitor, stop: threading.Event,
              figures: object = None) -> None:
    """A simulated browser tab: the Monitor tab's own stream generator (``figures``: the app's
    shared figure cache), with every plot value it yields passed through
    ``gr.Plot.postprocess``, as Gradio does before sending it. Ends after ``stop`` is set."""
    import gradio as gr
    from gradio.components.plot import PlotData

    from yolo_studio.ui import monitor_tab

    steps = monitor_tab.stream(manager, monitor, cache=figures)
    plot = gr.Plot()
    for values in steps:
        for value in values:
            if isinstance(value, PlotData):
                plot.postprocess(value)
        if stop.is_set():
            steps.close()
            return
