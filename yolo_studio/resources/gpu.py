"""GPU readings through NVML (the ``nvidia-ml-py`` package, imported as ``pynvml``).

NVML is imported and initialised once, on the first read, and the device handles are kept; later
reads only query memory, utilisation and temperature (a few microseconds each, no subprocess).
Nothing here raises: a missing library, a missing driver, no GPU, a MIG device or a field the GPU
does not support leaves that figure ``None`` and says why in a ``"GPU metrics unavailable: ..."``
message, so CPU and RAM monitoring go on.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from yolo_studio.resources.status import GpuReading, gpu_label

logger = logging.getLogger(__name__)

GPU_UNAVAILABLE = "GPU metrics unavailable"

# Why NVML could not start, by the name of the pynvml error class.
_START_FAILURES = {
    "NVMLError_LibraryNotFound": "NVIDIA driver not found (libnvidia-ml.so.1 is missing)",
    "NVMLError_DriverNotLoaded": "NVIDIA driver not loaded",
    "NVMLError_NoPermission": "no permission to query the NVIDIA driver",
    "NVMLError_LibRmVersionMismatch": "NVIDIA driver and library versions do not match",
}


@dataclass
class _Device:
    index: int
    name: str
    handle: Any
    mig_instance: int | None = None
    unsupported: set[str] = field(default_factory=set)

    @property
    def label(self) -> str:
        return gpu_label(self.index, self.mig_instance)


def _is_error(nvml: Any, exc: BaseException, class_name: str) -> bool:
    cls = getattr(nvml, class_name, None)
    return isinstance(cls, type) and isinstance(exc, cls)


def _value(obj: Any) -> Any:
    """pynvml returns some results as ctypes scalars (``c_uint``); unwrap them."""
    return getattr(obj, "value", obj)


class NvmlReader:
    """Reads every GPU (or MIG instance) that NVML shows.

    Args:
        nvml: A module with pynvml's functions and ``NVMLError_*`` classes; ``None`` imports
            ``pynvml`` on the first read. Tests pass a fake.

    MIG: on a GPU with MIG mode enabled, each MIG instance is read on its own (its memory size is
    the instance's, so a full slice is seen even when the whole GPU is not); NVML does not report
    utilisation or temperature for MIG instances, so those are ``None``. When the instances cannot be
    listed, the whole GPU is read instead.
    """

    def __init__(self, nvml: Any = None) -> None:
        self._nvml = nvml
        self._lock = threading.Lock()
        self._started = False
        self._devices: list[_Device] = []
        self._error: str | None = None
        self._skipped: list[str] = []
        self._initialised = False

    def read(self) -> tuple[tuple[GpuReading, ...], str | None]:
        """Reads all devices.

        Returns:
            ``(readings, error)``: one :class:`GpuReading` per device, and ``None`` or a message
            starting with ``"GPU metrics unavailable: "`` naming what could not be read.
        """
        if not self._started:
            self._start()
        if self._error is not None:
            return (), self._error
        notes = list(self._skipped)
        readings = tuple(self._read_device(device, notes) for device in self._devices)
        return readings, (f"{GPU_UNAVAILABLE}: " + "; ".join(notes)) if notes else None

    def close(self) -> None:
        """Shuts NVML down if this reader initialised it; a later read starts it again."""
        with self._lock:
            self._shutdown_quietly()
            self._started = False
            self._devices = []
            self._skipped = []
            self._error = None

    def _shutdown_quietly(self) -> None:
        if self._initialised:
            try:
                self._nvml.nvmlShutdown()
            except Exception as exc:  # noqa: BLE001 - shutting down must not fail the caller
                logger.debug("nvmlShutdown failed: %s", exc)
        self._initialised = False

    # -- start-up, once -------------------------------------------------------------------------

    def _start(self) -> None:
        with self._lock:
            if self._started:
                return
            try:
                devices = self._discover()
                if not devices:
                    self._error = f"{GPU_UNAVAILABLE}: no NVIDIA GPU found"
                self._devices = devices
            except Exception as exc:  # noqa: BLE001 - any NVML failure only disables GPU figures
                self._error = self._describe_start_failure(exc)
                logger.info("%s", self._error)
                self._shutdown_quietly()
            self._started = True

    def _describe_start_failure(self, exc: BaseException) -> str:
        if isinstance(exc, ImportError):
            return f"{GPU_UNAVAILABLE}: nvidia-ml-py is not installed (pip install nvidia-ml-py)"
        for class_name, reason in _START_FAILURES.items():
            if _is_error(self._nvml, exc, class_name):
                return f"{GPU_UNAVAILABLE}: {reason}"
        return f"{GPU_UNAVAILABLE}: NVML failed to start ({type(exc).__name__}: {exc})"

    def _discover(self) -> list[_Device]:
        if self._nvml is None:
            import pynvml  # noqa: PLC0415 - lazily, so that importing the studio never loads NVML

            self._nvml = pynvml
        nvml = self._nvml
        nvml.nvmlInit()
        self._initialised = True
        devices: list[_Device] = []
        for index in range(int(nvml.nvmlDeviceGetCount())):
            try:
                handle = nvml.nvmlDeviceGetHandleByIndex(index)
            except Exception as exc:  # noqa: BLE001 - skip this GPU, keep the others
                self._skipped.append(f"GPU {index} cannot be opened ({exc})")
                continue
            name = self._name(handle, f"GPU {index}")
            devices.extend(self._mig_instances(index, handle, name) or [_Device(index, name, handle)])
        return devices

    def _name(self, handle: Any, default: str) -> str:
        try:
            name = self._nvml.nvmlDeviceGetName(handle)
        except Exception:  # noqa: BLE001 - a name is cosmetic
            return default
        return name.decode(errors="replace") if isinstance(name, bytes) else str(name)

    def _mig_instances(self, index: int, handle: Any, name: str) -> list[_Device]:
        """The MIG instances of a GPU in MIG mode; ``[]`` when not in MIG mode or not listable."""
        nvml = self._nvml
        try:
            current_mode = _value(nvml.nvmlDeviceGetMigMode(handle)[0])
            if current_mode != getattr(nvml, "NVML_DEVICE_MIG_ENABLE", 1):
                return []
            slots = int(_value(nvml.nvmlDeviceGetMaxMigDeviceCount(handle)))
        except Exception:  # noqa: BLE001 - NotSupported on GPUs without MIG
            return []
        instances = []
        for slot in range(slots):
            try:
                mig_handle = nvml.nvmlDeviceGetMigDeviceHandleByIndex(handle, slot)
            except Exception:  # noqa: BLE001 - NotFound: this slot holds no instance
                continue
            instances.append(_Device(index, self._name(mig_handle, f"{name} MIG {slot}"), mig_handle, slot))
        return instances

    # -- every read -----------------------------------------------------------------------------

    def _read_device(self, device: _Device, notes: list[str]) -> GpuReading:
        nvml = self._nvml
        memory = self._field(device, "memory", nvml.nvmlDeviceGetMemoryInfo, notes)
        utilization = self._field(device, "utilisation", nvml.nvmlDeviceGetUtilizationRates, notes)
        sensor = getattr(nvml, "NVML_TEMPERATURE_GPU", 0)
        temperature = self._field(device, "temperature", lambda h: nvml.nvmlDeviceGetTemperature(h, sensor), notes)
        return GpuReading(
            index=device.index,
            name=device.name,
            memory_used_bytes=None if memory is None else int(memory.used),
            memory_total_bytes=None if memory is None else int(memory.total),
            utilization_percent=None if utilization is None else float(utilization.gpu),
            temperature_c=None if temperature is None else float(_value(temperature)),
            mig_instance=device.mig_instance,
        )

    def _field(self, device: _Device, what: str, query: Callable[[Any], Any], notes: list[str]) -> Any:
        """One NVML query; ``None`` and a note when it fails. NotSupported is remembered."""
        if what in device.unsupported:
            notes.append(f"{device.label} {what} not supported")
            return None
        try:
            return query(device.handle)
        except Exception as exc:  # noqa: BLE001 - one field failing must not stop the others
            if _is_error(self._nvml, exc, "NVMLError_NotSupported"):
                device.unsupported.add(what)
                notes.append(f"{device.label} {what} not supported")
            else:
                notes.append(f"{device.label} {what} unreadable ({exc})")
            return None
