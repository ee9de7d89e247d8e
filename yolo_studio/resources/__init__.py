"""Resource monitor: GPU memory (NVML), CPU and RAM (psutil, cgroup-aware), threshold alerts.

Importing this package loads neither NVML nor psutil; a :class:`ResourceMonitor` does, when made
(psutil) and on its first check (NVML).
"""

from yolo_studio.resources.monitor import ResourceMonitor
from yolo_studio.resources.status import GpuReading, ResourceStatus

__all__ = ["GpuReading", "ResourceMonitor", "ResourceStatus"]
