"""NvmlReader against a fake NVML that raises pynvml's real error classes."""

from __future__ import annotations

import sys

import pynvml
import pytest

from yolo_studio.resources.gpu import NvmlReader


def test_two_gpus_are_read_in_bytes_and_fractions(fakes):
    g = fakes.GIB
    nvml = fakes.FakeNvml([fakes.FakeGpu("NVIDIA A100", 30 * g, 40 * g, util=87, temp=61),
                           fakes.FakeGpu(b"NVIDIA H200", 10 * g, 140 * g, util=3, temp=35)])
    readings, error = NvmlReader(nvml).read()
    assert error is None
    first, second = readings
    assert (first.index, first.name, first.memory_used_bytes, first.memory_total_bytes) == (0, "NVIDIA A100", 30 * g, 40 * g)
    assert first.memory_fraction == pytest.approx(0.75)
    assert (first.utilization_percent, first.temperature_c, first.mig_instance) == (87.0, 61.0, None)
    assert second.name == "NVIDIA H200"  # bytes names (older pynvml) are decoded
    assert second.memory_fraction == pytest.approx(10 / 140)
    assert first.label == "GPU 0" and second.label == "GPU 1"


def test_nvml_is_initialised_once_and_handles_are_cached(fakes):
    nvml = fakes.FakeNvml([fakes.FakeGpu("a", 1, 2), fakes.FakeGpu("b", 1, 2)])
    reader = NvmlReader(nvml)
    for _ in range(5):
        reader.read()
    assert nvml.calls["nvmlInit"] == 1
    assert nvml.calls["nvmlDeviceGetHandleByIndex"] == 2
    assert nvml.calls["nvmlDeviceGetMemoryInfo"] == 10


@pytest.mark.parametrize(("code", "words"), [
    (pynvml.NVML_ERROR_LIBRARY_NOT_FOUND, "NVIDIA driver not found"),
    (pynvml.NVML_ERROR_DRIVER_NOT_LOADED, "NVIDIA driver not loaded"),
    (pynvml.NVML_ERROR_NO_PERMISSION, "no permission"),
    (pynvml.NVML_ERROR_LIB_RM_VERSION_MISMATCH, "driver and library versions do not match"),
    (pynvml.NVML_ERROR_UNKNOWN, "NVML failed to start"),
])
def test_nvml_start_failures_are_reported_not_raised(fakes, code, words):
    nvml = fakes.FakeNvml([fakes.FakeGpu("a", 1, 2)], init_error=code)
    reader = NvmlReader(nvml)
    readings, error = reader.read()
    assert readings == ()
    assert error.startswith("GPU metrics unavailable: ") and words in error
    assert reader.read() == ((), error)
    assert nvml.calls["nvmlInit"] == 1  # not retried on every check


def test_missing_nvidia_ml_py_is_reported(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # makes "import pynvml" raise ImportError
    readings, error = NvmlReader().read()
    assert readings == ()
    assert error == "GPU metrics unavailable: nvidia-ml-py is not installed (pip install nvidia-ml-py)"


def test_zero_devices(fakes):
    assert NvmlReader(fakes.FakeNvml([])).read() == ((), "GPU metrics unavailable: no NVIDIA GPU found")


def test_unsupported_utilisation_is_none_while_memory_works(fakes):
    g = fakes.GIB
    gpu = fakes.FakeGpu("T4", 3 * g, 16 * g, unsupported={"nvmlDeviceGetUtilizationRates"})
    nvml = fakes.FakeNvml([gpu])
    reader = NvmlReader(nvml)
    for _ in range(3):
        (reading,), error = reader.read()
        assert reading.utilization_percent is None
        assert reading.memory_used_bytes == 3 * g and reading.temperature_c == 55.0
        assert error == "GPU metrics unavailable: GPU 0 utilisation not supported"
    assert nvml.calls["nvmlDeviceGetUtilizationRates"] == 1  # NotSupported is remembered


def test_a_failing_field_on_one_gpu_leaves_the_other_gpu_whole(fakes):
    lost = fakes.FakeGpu("lost", 1, 2, errors={"nvmlDeviceGetMemoryInfo": pynvml.NVML_ERROR_GPU_IS_LOST})
    nvml = fakes.FakeNvml([lost, fakes.FakeGpu("fine", 1, 4)])
    (first, second), error = NvmlReader(nvml).read()
    assert first.memory_used_bytes is None and first.memory_fraction is None
    assert first.utilization_percent == 40.0
    assert second.memory_fraction == 0.25
    assert error == "GPU metrics unavailable: GPU 0 memory unreadable (GPU is lost)"


def test_a_gpu_that_cannot_be_opened_is_skipped(fakes):
    nvml = fakes.FakeNvml([fakes.FakeGpu("a", 1, 2), fakes.FakeGpu("b", 1, 4)],
                          handle_errors={0: pynvml.NVML_ERROR_NO_PERMISSION})
    readings, error = NvmlReader(nvml).read()
    assert [r.index for r in readings] == [1]
    assert error == "GPU metrics unavailable: GPU 0 cannot be opened (Insufficient Permissions)"


def _mig_gpu(fakes):
    g = fakes.GIB
    no_util = {"nvmlDeviceGetUtilizationRates", "nvmlDeviceGetTemperature"}
    slots = [fakes.FakeGpu("A100 MIG 3g.20gb", 18 * g, 20 * g, unsupported=set(no_util)), None,
             fakes.FakeGpu("A100 MIG 1g.10gb", 1 * g, 10 * g, unsupported=set(no_util))]
    return fakes.FakeGpu("NVIDIA A100", 19 * g, 80 * g, unsupported={"nvmlDeviceGetUtilizationRates"}, mig=slots)


def test_mig_instances_are_read_one_by_one(fakes):
    nvml = fakes.FakeNvml([_mig_gpu(fakes), fakes.FakeGpu("plain", 1, 2)])
    readings, error = NvmlReader(nvml).read()
    assert [(r.index, r.mig_instance, r.name) for r in readings] == [
        (0, 0, "A100 MIG 3g.20gb"), (0, 2, "A100 MIG 1g.10gb"), (1, None, "plain")]
    assert readings[0].memory_fraction == pytest.approx(0.9)  # the slice is full, the GPU is not
    assert readings[0].utilization_percent is None and readings[0].temperature_c is None
    assert readings[0].label == "GPU 0 MIG 0"
    assert error.startswith("GPU metrics unavailable: GPU 0 MIG 0 utilisation not supported")
    assert "GPU 0 MIG 2 temperature not supported" in error


def test_mig_gpu_whose_instances_cannot_be_listed_is_read_whole(fakes):
    nvml = fakes.FakeNvml([_mig_gpu(fakes)], max_mig_error=pynvml.NVML_ERROR_NO_PERMISSION)
    (reading,), error = NvmlReader(nvml).read()
    assert (reading.mig_instance, reading.memory_total_bytes) == (None, 80 * fakes.GIB)
    assert reading.utilization_percent is None
    assert error == "GPU metrics unavailable: GPU 0 utilisation not supported"


def test_close_shuts_nvml_down_and_a_later_read_starts_again(fakes):
    nvml = fakes.FakeNvml([fakes.FakeGpu("a", 1, 2)])
    reader = NvmlReader(nvml)
    reader.read()
    reader.close()
    assert nvml.calls["nvmlShutdown"] == 1
    assert len(reader.read()[0]) == 1
    assert nvml.calls["nvmlInit"] == 2
