"""The Monitor tab's resource chart draws one memory line per GPU of the running job (every GPU
when its device names none), from ResourceMonitor checks over the fake NVML."""

from __future__ import annotations

import itertools
import json
from types import SimpleNamespace

import plotly.graph_objects as go
import pytest

from yolo_studio.resources import ResourceMonitor
from yolo_studio.training.snapshot import JobState, TrainingSnapshot
from yolo_studio.ui import charts, monitor_tab


@pytest.fixture
def statuses(fakes, no_cgroup):
    """Two checks of three 80 GiB GPUs using 10/40/70 GiB, then 20/40/70 GiB."""
    g = fakes.GIB
    gpus = [fakes.FakeGpu("NVIDIA H100", used * g, 80 * g) for used in (10, 40, 70)]
    clock = itertools.count(1000.0)
    monitor = ResourceMonitor(nvml=fakes.FakeNvml(gpus), psutil_module=fakes.FakePsutil(),
                              clock=lambda: next(clock), **no_cgroup)
    first = monitor.check()
    gpus[0].used = 20 * g
    return (first, monitor.check())


def _memory_lines(fig: dict) -> dict[str, list]:
    figure = go.Figure(fig)  # Plotly validates the spec
    return {t.name: list(t.y) for t in figure.data if t.name.endswith("memory")}


def test_one_memory_line_per_gpu_of_the_job(statuses):
    lines = _memory_lines(charts.resource_figure(statuses, 0.9, 0.85, gpus=(0, 2)))
    assert lines == {"GPU 0 memory": [12.5, 25.0], "GPU 2 memory": [87.5, 87.5]}


def test_every_gpu_when_the_device_names_none(statuses):
    lines = _memory_lines(charts.resource_figure(statuses, 0.9, 0.85))
    assert list(lines) == ["GPU 0 memory", "GPU 1 memory", "GPU 2 memory"]
    # a job's GPU that NVML does not list (another numbering): every GPU rather than none
    assert list(_memory_lines(charts.resource_figure(statuses, gpus=(7,)))) == list(lines)


@pytest.mark.parametrize("state,device,drawn", [
    (JobState.TRAINING, "0,1", ["GPU 0 memory", "GPU 1 memory"]),
    (JobState.TRAINING, "cuda:2", ["GPU 2 memory"]),
    (JobState.TRAINING, "", ["GPU 0 memory", "GPU 1 memory", "GPU 2 memory"]),
    (JobState.COMPLETED, "1", ["GPU 0 memory", "GPU 1 memory", "GPU 2 memory"])])
def test_the_monitor_tab_follows_the_running_jobs_device(statuses, state, device, drawn):
    monitor = SimpleNamespace(history=lambda: statuses, gpu_threshold=0.9, ram_threshold=0.85)
    snap = TrainingSnapshot(job_id="j1", state=state, device=device)
    # groups: progress, charts, resources, node note
    key, make = monitor_tab.feed_groups(monitor)(snap, 3)[monitor_tab.STREAM][2]
    assert key == (3, device if state is JobState.TRAINING else "")
    chart, alert = make()
    assert list(_memory_lines(json.loads(chart))) == drawn and alert == ""
