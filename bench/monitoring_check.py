"""Cost of one ResourceMonitor.check() with NVML already started (a warm handle).

Run: ``python bench/monitoring_check.py [--checks 2000]``. Uses the real pynvml and psutil of this
machine; without an NVIDIA GPU the GPU part is the cached "GPU metrics unavailable" answer.
Last line: ``check_ms=<median milliseconds of one check()>``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import common  # noqa: F401 (puts the repository on sys.path)
from yolo_studio.resources import ResourceMonitor


def measure_check_ms(checks: int) -> tuple[float, float, object]:
    """Times ``checks`` calls of check() after a warm-up; returns (median ms, p90 ms, last status)."""
    monitor = ResourceMonitor()
    try:
        status = monitor.check()  # starts NVML and primes psutil: not timed
        monitor.check()
        times = []
        for _ in range(checks):
            start = time.perf_counter()
            status = monitor.check()
            times.append((time.perf_counter() - start) * 1000.0)
    finally:
        monitor.close()
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9)], status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=2000, help="timed check() calls (default 2000)")
    args = parser.parse_args()
    median_ms, p90_ms, status = measure_check_ms(args.checks)
    print(f"gpus={len(status.gpus)} gpu_error={status.gpu_error!r} ram_source={status.ram_source} "
          f"ram_percent={status.ram_percent:.3f} cpu_percent={status.cpu_percent}")
    print(f"checks={args.checks} p90_ms={p90_ms:.4f}")
    print(f"check_ms={median_ms:.4f}")


if __name__ == "__main__":
    main()
