"""Fakes for the resource monitor tests: an NVML module and a psutil module.

The fake NVML raises pynvml's own error classes (``pynvml.NVMLError(code)`` maps the code to its
``NVMLError_*`` subclass, as the real bindings do), so the monitor is tested against the real
exception hierarchy; only the C library is faked.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from types import SimpleNamespace

import pynvml
import pytest

GIB = 1024**3


@dataclass
class FakeGpu:
    name: str | bytes
    used: int
    total: int
    util: int = 40
    temp: int = 55
    unsupported: set[str] = field(default_factory=set)  # NVML function names raising NotSupported
    errors: dict[str, int] = field(default_factory=dict)  # function name -> NVML error code
    mig: list | None = None  # MIG slots (FakeGpu or None) when MIG mode is enabled


class FakeNvml:
    """Exposes the pynvml functions the monitor uses, over a list of FakeGpu."""

    NVML_TEMPERATURE_GPU = pynvml.NVML_TEMPERATURE_GPU
    NVML_DEVICE_MIG_ENABLE = pynvml.NVML_DEVICE_MIG_ENABLE
    NVMLError = pynvml.NVMLError
    NVMLError_LibraryNotFound = pynvml.NVMLError_LibraryNotFound
    NVMLError_DriverNotLoaded = pynvml.NVMLError_DriverNotLoaded
    NVMLError_NoPermission = pynvml.NVMLError_NoPermission
    NVMLError_LibRmVersionMismatch = pynvml.NVMLError_LibRmVersionMismatch
    NVMLError_NotSupported = pynvml.NVMLError_NotSupported
    NVMLError_NotFound = pynvml.NVMLError_NotFound

    def __init__(self, gpus: list[FakeGpu], init_error: int | None = None,
                 handle_errors: dict[int, int] | None = None, max_mig_error: int | None = None) -> None:
        self.gpus = gpus
        self.init_error = init_error
        self.handle_errors = handle_errors or {}
        self.max_mig_error = max_mig_error
        self.calls: Counter[str] = Counter()

    def _call(self, name: str, handle: FakeGpu | None = None) -> None:
        self.calls[name] += 1
        if handle is not None and name in handle.unsupported:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_NOT_SUPPORTED)
        if handle is not None and name in handle.errors:
            raise pynvml.NVMLError(handle.errors[name])

    def nvmlInit(self) -> None:
        self._call("nvmlInit")
        if self.init_error is not None:
            raise pynvml.NVMLError(self.init_error)

    def nvmlShutdown(self) -> None:
        self._call("nvmlShutdown")

    def nvmlDeviceGetCount(self) -> int:
        self._call("nvmlDeviceGetCount")
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> FakeGpu:
        self._call("nvmlDeviceGetHandleByIndex")
        if index in self.handle_errors:
            raise pynvml.NVMLError(self.handle_errors[index])
        return self.gpus[index]

    def nvmlDeviceGetName(self, handle: FakeGpu) -> str | bytes:
        self._call("nvmlDeviceGetName", handle)
        return handle.name

    def nvmlDeviceGetMemoryInfo(self, handle: FakeGpu) -> SimpleNamespace:
        self._call("nvmlDeviceGetMemoryInfo", handle)
        return SimpleNamespace(total=handle.total, used=handle.used, free=handle.total - handle.used)

    def nvmlDeviceGetUtilizationRates(self, handle: FakeGpu) -> SimpleNamespace:
        self._call("nvmlDeviceGetUtilizationRates", handle)
        return SimpleNamespace(gpu=handle.util, memory=10)

    def nvmlDeviceGetTemperature(self, handle: FakeGpu, sensor: int) -> int:
        self._call("nvmlDeviceGetTemperature", handle)
        assert sensor == pynvml.NVML_TEMPERATURE_GPU
        return handle.temp

    def nvmlDeviceGetMigMode(self, handle: FakeGpu) -> list[int]:
        self._call("nvmlDeviceGetMigMode", handle)
        if handle.mig is None:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_NOT_SUPPORTED)
        return [pynvml.NVML_DEVICE_MIG_ENABLE, pynvml.NVML_DEVICE_MIG_ENABLE]

    def nvmlDeviceGetMaxMigDeviceCount(self, handle: FakeGpu) -> int:
        self._call("nvmlDeviceGetMaxMigDeviceCount", handle)
        if self.max_mig_error is not None:
            raise pynvml.NVMLError(self.max_mig_error)
        return len(handle.mig or [])

    def nvmlDeviceGetMigDeviceHandleByIndex(self, handle: FakeGpu, index: int) -> FakeGpu:
        self._call("nvmlDeviceGetMigDeviceHandleByIndex", handle)
        instance = (handle.mig or [])[index]
        if instance is None:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_NOT_FOUND)
        return instance


class FakePsutil:
    """``virtual_memory()`` and ``cpu_percent()`` with values the test sets."""

    def __init__(self, total: int = 16 * GIB, available: int = 12 * GIB, cpu: float = 37.5) -> None:
        self.total, self.available, self.cpu = total, available, cpu
        self.fail_next = 0

    def virtual_memory(self) -> SimpleNamespace:
        if self.fail_next:
            self.fail_next -= 1
            raise OSError("simulated /proc/meminfo read failure")
        return SimpleNamespace(total=self.total, available=self.available,
                               percent=100 * (self.total - self.available) / self.total)

    def cpu_percent(self, interval: float | None = None) -> float:
        assert interval is None, "check() must not block on a CPU interval"
        return self.cpu


@pytest.fixture
def no_cgroup(tmp_path):
    """A cgroup root with no memory files, and a /proc/self/cgroup naming the root cgroup."""
    root = tmp_path / "cgroup"
    root.mkdir()
    proc = tmp_path / "proc_self_cgroup"
    proc.write_text("0::/\n")
    return {"cgroup_root": root, "proc_cgroup_file": proc}


@pytest.fixture
def fakes():
    """The fake classes, for tests to build their own GPUs and modules."""
    return SimpleNamespace(FakeGpu=FakeGpu, FakeNvml=FakeNvml, FakePsutil=FakePsutil, GIB=GIB)
