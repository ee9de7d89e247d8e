"""Immutable readings produced by the resource monitor.

Units are part of every field name or docstring: ``*_bytes`` are bytes, ``*_fraction`` and the
``gpu_percent`` / ``ram_percent`` fields of :class:`ResourceStatus` are fractions 0-1 despite
their names, ``*_percent`` of utilisation and CPU are percentages 0-100.
"""

from __future__ import annotations

import dataclasses

from dataclasses import dataclass


def gpu_label(index: int, mig_instance: int | None = None) -> str:
    """``"GPU 0"``, or ``"GPU 0 MIG 1"`` for a MIG instance."""
    return f"GPU {index}" if mig_instance is None else f"GPU {index} MIG {mig_instance}"


@dataclass(frozen=True)
class GpuReading:
    """One GPU (or one MIG instance) as NVML reported it at one moment.

    Attributes:
        index: NVML index of the physical GPU (the one ``nvidia-smi`` shows).
        name: Device name from ``nvmlDeviceGetName``, e.g. ``"NVIDIA H200"``.
        memory_used_bytes: Device memory in use, bytes (``nvmlDeviceGetMemoryInfo().used``); ``None``
            when NVML could not report it.
        memory_total_bytes: Device memory size, bytes; for a MIG instance the instance's own size.
        utilization_percent: GPU busy percentage 0-100 over NVML's last sample period
            (``nvmlDeviceGetUtilizationRates().gpu``); ``None`` where unsupported (MIG).
        temperature_c: GPU core temperature in degrees Celsius; ``None`` where unsupported.
        mig_instance: Position of the MIG instance on its GPU, or ``None`` for a whole GPU.
    """

    index: int
    name: str
    memory_used_bytes: int | None
    memory_total_bytes: int | None
    utilization_percent: float | None = None
    temperature_c: float | None = None
    mig_instance: int | None = None

    @property
    def memory_fraction(self) -> float | None:
        """Memory used as a fraction 0-1 of the total, or ``None`` when unknown."""
        if self.memory_used_bytes is None or not self.memory_total_bytes:
            return None
        return self.memory_used_bytes / self.memory_total_bytes

    @property
    def label(self) -> str:
        """Short user-facing name: ``"GPU 0"`` or ``"GPU 0 MIG 1"``."""
        return gpu_label(self.index, self.mig_instance)


@dataclass(frozen=True)
class ResourceStatus:
    """One check of GPU memory, RAM and CPU, and whether a threshold is exceeded.

    Attributes:
        timestamp: When the check ran, seconds since the epoch (``time.time()``).
        gpu_percent: GPU memory used as a FRACTION 0-1 (not 0-100, despite the name), the
            highest over all GPUs / MIG instances; ``None`` when no GPU reading is available.
        ram_percent: RAM used as a FRACTION 0-1 of the RAM limit: the container's cgroup memory
            limit when there is one below the host's RAM, else the host's total RAM.
        ram_used_bytes: RAM in use, bytes (see :class:`~yolo_studio.resources.memory.RamReader`).
        ram_total_bytes: The limit ``ram_percent`` is measured against, bytes.
        cpu_percent: System-wide CPU use, percent 0-100 averaged over all cores since the previous
            check on the same thread (``psutil.cpu_percent(interval=None)``); ``None`` on a
            thread's first check, which has no interval to measure over.
        constrained: ``True`` when GPU memory or RAM is at or above its threshold.
        alerts: User-facing alert lines, one per exceeded threshold, e.g.
            ``"GPU 0 memory 93% >= 90% threshold"``; empty when not constrained.
        gpus: Per-GPU readings, in NVML order.
        gpu_error: Why some or all GPU figures are missing, starting with
            ``"GPU metrics unavailable: "``; ``None`` when every GPU field was read.
        ram_source: Where the RAM limit comes from: ``"cgroup v2"``, ``"cgroup v1"`` or ``"host"``.
    """

    timestamp: float
    gpu_percent: float | None
    ram_percent: float
    ram_used_bytes: int
    ram_total_bytes: int
    cpu_percent: float | None
    constrained: bool
    alerts: tuple[str, ...] = ()
    gpus: tuple[GpuReading, ...] = ()
    gpu_error: str | None = None
    ram_source: str = "host"


def status_to_dict(status: ResourceStatus) -> dict:
    """``status`` as plain data (for another process: a Ray node's readings)."""
    return dataclasses.asdict(status)


def status_from_dict(data: dict) -> ResourceStatus:
    """The ``ResourceStatus`` that ``status_to_dict`` gave."""
    gpus = tuple(GpuReading(**gpu) for gpu in data.get("gpus") or ())
    return ResourceStatus(**{**data, "gpus": gpus, "alerts": tuple(data.get("alerts") or ())})
