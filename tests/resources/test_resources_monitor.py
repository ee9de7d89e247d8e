"""ResourceMonitor: thresholds, alerts, callbacks, the sampler thread, and the real NVML/psutil."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from yolo_studio.errors import ValidationError
from yolo_studio.resources import GpuReading, ResourceMonitor, ResourceStatus


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _monitor(fakes, no_cgroup, gpus=(), **kwargs) -> tuple[ResourceMonitor, object, object]:
    nvml = fakes.FakeNvml(list(gpus))
    psutil_fake = kwargs.pop("psutil_module", None) or fakes.FakePsutil()
    monitor = ResourceMonitor(nvml=nvml, psutil_module=psutil_fake, **no_cgroup, **kwargs)
    return monitor, nvml, psutil_fake


def _wait_until(predicate, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.005)


@pytest.mark.parametrize("kwargs", [{"gpu_threshold": 90}, {"gpu_threshold": 0}, {"ram_threshold": 1.5},
                                    {"ram_threshold": "0.8"}, {"history_size": 0}, {"renotify_s": 0}])
def test_bad_settings_are_refused_with_a_clear_message(fakes, no_cgroup, kwargs):
    with pytest.raises(ValidationError, match="must be"):
        _monitor(fakes, no_cgroup, **kwargs)


def test_calm_check_reports_every_figure(fakes, no_cgroup):
    g = fakes.GIB
    monitor, _, _ = _monitor(fakes, no_cgroup, [fakes.FakeGpu("a", 4 * g, 16 * g), fakes.FakeGpu("b", 8 * g, 16 * g)],
                             clock=FakeClock(123.0))
    assert monitor.latest() is None
    status = monitor.check()
    assert isinstance(status, ResourceStatus) and monitor.latest() is status
    assert status.timestamp == 123.0
    assert status.gpu_percent == 0.5  # the highest GPU, as a fraction
    assert status.ram_percent == 0.25 and status.ram_used_bytes == 4 * g and status.ram_total_bytes == 16 * g
    assert status.ram_source == "host"
    assert status.cpu_percent is None  # first check on this thread: nothing to measure over yet
    assert monitor.check().cpu_percent == 37.5
    assert not status.constrained and status.alerts == () and status.gpu_error is None
    assert all(isinstance(g, GpuReading) for g in status.gpus) and len(status.gpus) == 2


def test_gpu_over_threshold_is_constrained_with_an_alert(fakes, no_cgroup):
    g = fakes.GIB
    monitor, _, _ = _monitor(fakes, no_cgroup, [fakes.FakeGpu("a", 1 * g, 80 * g), fakes.FakeGpu("b", 74 * g, 80 * g)])
    status = monitor.check()
    assert status.constrained and status.gpu_percent == pytest.approx(0.925)
    assert status.alerts == ("GPU 1 memory 92% >= 90% threshold (74.0 of 80.0 GiB)",)


def test_ram_over_threshold_names_the_container_limit(fakes, tmp_path):
    g = fakes.GIB
    (tmp_path / "memory.max").write_text(str(4 * g))
    (tmp_path / "memory.current").write_text(str(int(3.6 * g)))
    (tmp_path / "proc").write_text("0::/\n")
    monitor = ResourceMonitor(nvml=fakes.FakeNvml([]), psutil_module=fakes.FakePsutil(),
                              cgroup_root=tmp_path, proc_cgroup_file=tmp_path / "proc")
    status = monitor.check()
    assert status.constrained and status.gpu_percent is None
    assert status.gpu_error == "GPU metrics unavailable: no NVIDIA GPU found"
    assert status.ram_total_bytes == 4 * g and status.ram_source == "cgroup v2"
    assert status.alerts == ("RAM 90% >= 85% threshold (3.6 of 4.0 GiB, container limit (cgroup v2))",)


def test_thresholds_are_honoured(fakes, no_cgroup):
    g = fakes.GIB
    gpu = fakes.FakeGpu("a", 6 * g, 10 * g)
    assert not _monitor(fakes, no_cgroup, [gpu], gpu_threshold=0.7)[0].check().constrained
    assert _monitor(fakes, no_cgroup, [gpu], gpu_threshold=0.6)[0].check().constrained
    assert _monitor(fakes, no_cgroup, [gpu], ram_threshold=0.25)[0].check().alerts[0].startswith("RAM 25% >= 25%")


def test_callbacks_on_entering_new_resource_renotify_and_clearing(fakes, no_cgroup):
    g = fakes.GIB
    gpus = [fakes.FakeGpu("a", 95 * g, 100 * g), fakes.FakeGpu("b", 1 * g, 100 * g)]
    clock = FakeClock()
    monitor, _, psutil_fake = _monitor(fakes, no_cgroup, gpus, clock=clock, renotify_s=60.0)
    seen: list[ResourceStatus] = []
    monitor.add_callback(seen.append)
    monitor.check()
    assert len(seen) == 1 and seen[0].constrained  # entering the constrained state
    clock.now += 10
    monitor.check()
    assert len(seen) == 1  # still the same alert, too soon to repeat
    gpus[1].used = 99 * g
    monitor.check()
    assert len(seen) == 2 and len(seen[1].alerts) == 2  # a second GPU crossed
    clock.now += 60
    monitor.check()
    assert len(seen) == 3  # reminder after renotify_s
    gpus[0].used = gpus[1].used = 0
    monitor.check()
    assert len(seen) == 4 and not seen[3].constrained and seen[3].alerts == ()  # told once: cleared
    clock.now += 600
    monitor.check()
    assert len(seen) == 4  # calm: nobody told again
    gpus[0].used = 95 * g
    clock.now += 1
    monitor.check()
    assert len(seen) == 5 and seen[4].constrained  # constrained again


def test_a_raising_callback_is_logged_and_the_others_still_run(fakes, no_cgroup, caplog):
    monitor, _, _ = _monitor(fakes, no_cgroup, [fakes.FakeGpu("a", 99, 100)])
    seen = []

    def broken(status):
        raise RuntimeError("callback bug")

    monitor.add_callback(broken)
    monitor.add_callback(seen.append)
    with caplog.at_level(logging.ERROR, logger="yolo_studio.resources.monitor"):
        status = monitor.check()
    assert status.constrained and seen == [status]
    assert "callback" in caplog.text and "callback bug" in caplog.text
    monitor.remove_callback(broken)
    monitor.remove_callback(broken)  # harmless when already gone


def test_sampler_keeps_a_bounded_history_and_stops(fakes, no_cgroup):
    monitor, nvml, psutil_fake = _monitor(fakes, no_cgroup, [fakes.FakeGpu("a", 1, 2)], history_size=3)
    assert monitor.history() == ()
    monitor.start(interval_s=0.01)
    thread = monitor._thread
    monitor.start(interval_s=0.01)  # a second start is harmless: same thread
    assert monitor._thread is thread and monitor.running
    _wait_until(lambda: nvml.calls["nvmlDeviceGetMemoryInfo"] >= 6)
    monitor.stop()
    assert not thread.is_alive() and not monitor.running
    history = monitor.history()
    assert len(history) == 3  # more checks ran than the history keeps
    assert [s.timestamp for s in history] == sorted(s.timestamp for s in history)
    assert all(s.cpu_percent == 37.5 for s in history)  # the sampler primed psutil first
    assert monitor.latest() is history[-1]
    calls = nvml.calls["nvmlDeviceGetMemoryInfo"]
    time.sleep(0.05)
    assert nvml.calls["nvmlDeviceGetMemoryInfo"] == calls  # no more sampling after stop()
    monitor.start(interval_s=0.01)  # restartable
    _wait_until(lambda: nvml.calls["nvmlDeviceGetMemoryInfo"] > calls)
    monitor.close()
    assert not monitor.running and nvml.calls["nvmlShutdown"] == 1


def test_sampler_survives_a_failing_check_and_works_without_gpu(fakes, no_cgroup, caplog):
    psutil_fake = fakes.FakePsutil()
    psutil_fake.fail_next = 2
    monitor, _, _ = _monitor(fakes, no_cgroup, [], psutil_module=psutil_fake)
    with caplog.at_level(logging.ERROR):
        monitor.start(interval_s=0.01)
        _wait_until(lambda: len(monitor.history()) >= 2)
        monitor.stop()
    assert "Resource check failed" in caplog.text
    assert all(s.gpus == () and s.gpu_error for s in monitor.history())


def test_a_callback_may_stop_the_sampler_from_its_own_thread(fakes, no_cgroup):
    monitor, _, _ = _monitor(fakes, no_cgroup, [fakes.FakeGpu("a", 99, 100)])
    stopped = threading.Event()
    monitor.add_callback(lambda status: (monitor.stop(), stopped.set()))
    monitor.start(interval_s=0.01)
    assert stopped.wait(20)
    _wait_until(lambda: not monitor.running)


def test_real_nvml_and_psutil_on_this_machine():
    monitor = ResourceMonitor()
    try:
        first, status = monitor.check(), monitor.check()
    finally:
        monitor.close()
    assert first.cpu_percent is None and 0.0 <= status.cpu_percent <= 100.0
    assert 0 < status.ram_percent < 1.5 and 0 < status.ram_used_bytes and 0 < status.ram_total_bytes
    if status.gpus:  # a machine with an NVIDIA GPU
        assert status.gpu_percent is not None and all(g.memory_total_bytes for g in status.gpus)
    else:
        assert status.gpu_percent is None
        assert status.gpu_error.startswith("GPU metrics unavailable: ")
