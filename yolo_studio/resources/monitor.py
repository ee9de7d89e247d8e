"""The resource monitor: GPU memory, RAM and CPU checks, threshold alerts and a sampler thread."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any, Callable

from yolo_studio.errors import ValidationError
from yolo_studio.resources.gpu import NvmlReader
from yolo_studio.resources.memory import RamReader, RamReading
from yolo_studio.resources.status import GpuReading, ResourceStatus

logger = logging.getLogger(__name__)

StatusCallback = Callable[[ResourceStatus], Any]
_GIB = 1024**3


def _fraction(value: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise ValidationError(
            f"{what} must be a fraction above 0 and at most 1 (0.9 means 90%), got {value!r}.")
    return float(value)


def _alert(label: str, fraction: float, threshold: float, used: int, total: int, where: str) -> str:
    return (f"{label} {fraction:.0%} >= {threshold:.0%} threshold "
            f"({used / _GIB:.1f} of {total / _GIB:.1f} GiB{where})")


class ResourceMonitor:
    """Checks GPU memory, RAM and CPU against thresholds and tells callbacks when constrained.

    Args:
        gpu_threshold: GPU memory alert level, a fraction 0-1 of a GPU's memory (0.9 = 90%).
        ram_threshold: RAM alert level, a fraction 0-1 of the RAM limit (the cgroup's, else the host's).
        nvml: A pynvml-like module (tests pass a fake); ``None`` imports ``pynvml`` on the first check.
        psutil_module: A psutil-like module; ``None`` imports ``psutil``.
        cgroup_root: Where the cgroup filesystem is mounted.
        history_size: How many sampler readings :meth:`history` keeps (3600 = one hour at 1 Hz).
        renotify_s: While constrained, callbacks are told again after this many seconds; ``None``
            tells them only on entering the constrained state or when another resource crosses.
        clock: Returns the time in seconds since the epoch (tests pass a fake).
        proc_cgroup_file: The file naming this process's cgroups.

    Raises:
        ValidationError: A threshold is not in (0, 1], ``history_size`` < 1 or ``renotify_s`` <= 0.

    Callbacks run on the thread that made the check (the sampler's, for sampled checks). They are
    called with a constrained status when the previous check was not constrained, when a resource
    that was not over its threshold now is, or when ``renotify_s`` passed since the last call; and
    once with the first unconstrained status after a constrained one (``status.constrained`` is
    ``False``: the alert cleared). A callback that raises is logged and the others still run.
    """

    def __init__(self, gpu_threshold: float = 0.9, ram_threshold: float = 0.85, *, nvml: Any = None,
                 psutil_module: Any = None, cgroup_root: str | Path = "/sys/fs/cgroup",
                 history_size: int = 3600, renotify_s: float | None = 60.0,
                 clock: Callable[[], float] = time.time,
                 proc_cgroup_file: str | Path = "/proc/self/cgroup") -> None:
        self.gpu_threshold = _fraction(gpu_threshold, "gpu_threshold")
        self.ram_threshold = _fraction(ram_threshold, "ram_threshold")
        if isinstance(history_size, bool) or not isinstance(history_size, int) or history_size < 1:
            raise ValidationError(f"history_size must be a whole number >= 1, got {history_size!r}.")
        if renotify_s is not None and not renotify_s > 0:
            raise ValidationError(f"renotify_s must be above 0 seconds or None, got {renotify_s!r}.")
        if psutil_module is None:
            import psutil as psutil_module  # noqa: PLC0415 - only when a monitor is made
        self._psutil = psutil_module
        self._gpu = NvmlReader(nvml)
        self._ram = RamReader(psutil_module, cgroup_root, proc_cgroup_file)
        self._renotify_s = renotify_s
        self._clock = clock
        self._lock = threading.Lock()
        self._callbacks: list[StatusCallback] = []
        self._history: deque[ResourceStatus] = deque(maxlen=history_size)
        self._latest: ResourceStatus | None = None
        self._over: frozenset[str] = frozenset()
        self._last_notified: float | None = None
        self._cpu_threads: set[int] = set()
        self._thread: threading.Thread | None = None
        self._stop_event = threading.Event()

    # -- one check ------------------------------------------------------------------------------

    def check(self) -> ResourceStatus:
        """Reads GPU, RAM and CPU once, updates :meth:`latest` and tells callbacks (see the class).

        Must stay cheap (target: under 1 ms with NVML started, ``bench/monitoring_check.py``):
        NVML queries and a few small cgroup files, no subprocess. Never raises for a missing or failing GPU; see ``ResourceStatus.gpu_error``.

        Returns:
            The new :class:`ResourceStatus`.
        """
        timestamp = self._clock()
        gpus, gpu_error = self._read_gpus()
        ram = self._ram.read()
        cpu = self._read_cpu()
        alerts, over = self._alerts(gpus, ram)
        fractions = [g.memory_fraction for g in gpus if g.memory_fraction is not None]
        status = ResourceStatus(
            timestamp=timestamp, gpu_percent=max(fractions) if fractions else None,
            ram_percent=ram.fraction, ram_used_bytes=ram.used_bytes, ram_total_bytes=ram.total_bytes,
            cpu_percent=cpu, constrained=bool(over), alerts=tuple(alerts), gpus=gpus,
            gpu_error=gpu_error, ram_source=ram.source)
        with self._lock:
            self._latest = status
            notify = self._should_notify(over, timestamp)
            callbacks = list(self._callbacks) if notify else []
        for callback in callbacks:
            try:
                callback(status)
            except Exception:  # noqa: BLE001 - a broken callback must not stop monitoring
                logger.exception("Resource monitor callback %r failed", callback)
        return status

    def _read_gpus(self) -> tuple[tuple[GpuReading, ...], str | None]:
        try:
            return self._gpu.read()
        except Exception as exc:  # noqa: BLE001 - last line of defence; the reader should not raise
            logger.exception("GPU reading failed")
            return (), f"GPU metrics unavailable: {exc}"

    def _read_cpu(self) -> float | None:
        """System-wide CPU percent 0-100 since this thread's last call; ``None`` on its first."""
        value = float(self._psutil.cpu_percent(interval=None))
        ident = threading.get_ident()
        if ident in self._cpu_threads:
            return value
        self._cpu_threads.add(ident)
        return None

    def _alerts(self, gpus: tuple[GpuReading, ...], ram: RamReading) -> tuple[list[str], frozenset[str]]:
        alerts, over = [], set()
        for gpu in gpus:
            fraction = gpu.memory_fraction
            if fraction is not None and fraction >= self.gpu_threshold:
                over.add(gpu.label)
                alerts.append(_alert(f"{gpu.label} memory", fraction, self.gpu_threshold,
                                     gpu.memory_used_bytes or 0, gpu.memory_total_bytes or 0, ""))
        if ram.fraction >= self.ram_threshold:
            over.add("RAM")
            where = ", host RAM" if ram.source == "host" else f", container limit ({ram.source})"
            alerts.append(_alert("RAM", ram.fraction, self.ram_threshold, ram.used_bytes,
                                 ram.total_bytes, where))
        return alerts, frozenset(over)

    def _should_notify(self, over: frozenset[str], now: float) -> bool:
        """Called under the lock: decides and records whether callbacks hear about this check."""
        previous, self._over = self._over, over
        if not over:
            self._last_notified = None
            return bool(previous)  # tell once that the alert cleared
        due = (self._last_notified is None or bool(over - previous)
               or (self._renotify_s is not None and now - self._last_notified >= self._renotify_s))
        if due:
            self._last_notified = now
        return due

    # -- callbacks ------------------------------------------------------------------------------

    def add_callback(self, callback: StatusCallback) -> StatusCallback:
        """Registers ``callback(status)``, called as described in the class docstring.

        Returns:
            ``callback``, so this can be used as a decorator.
        """
        with self._lock:
            self._callbacks.append(callback)
        return callback

    def remove_callback(self, callback: StatusCallback) -> None:
        """Unregisters a callback; does nothing if it was not registered."""
        with self._lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

    # -- sampler --------------------------------------------------------------------------------

    def start(self, interval_s: float = 1.0) -> None:
        """Starts a daemon thread that checks every ``interval_s`` seconds into :meth:`history`.

        Calling it while the sampler runs does nothing.

        Raises:
            ValidationError: ``interval_s`` is not above 0.
        """
        if isinstance(interval_s, bool) or not isinstance(interval_s, (int, float)) or not interval_s > 0:
            raise ValidationError(f"interval_s must be above 0 seconds, got {interval_s!r}.")
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop_event = threading.Event()
            self._thread = threading.Thread(target=self._run, args=(float(interval_s), self._stop_event),
                                            name="yolo-studio-resource-monitor", daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stops the sampler and waits up to ``timeout_s`` seconds for its thread to end."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._stop_event.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)

    def close(self) -> None:
        """Stops the sampler and shuts NVML down."""
        self.stop()
        self._gpu.close()

    @property
    def running(self) -> bool:
        """Whether the sampler thread is alive."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def history(self) -> tuple[ResourceStatus, ...]:
        """The sampler's readings, oldest first, at most ``history_size`` of them."""
        with self._lock:
            return tuple(self._history)

    def latest(self) -> ResourceStatus | None:
        """The most recent check (sampled or direct), or ``None`` before the first."""
        return self._latest

    def _run(self, interval_s: float, stop: threading.Event) -> None:
        self._read_cpu()  # prime psutil's CPU counter on this thread
        next_at = time.monotonic() + interval_s
        while not stop.wait(max(0.0, next_at - time.monotonic())):
            next_at = max(next_at + interval_s, time.monotonic())
            try:
                status = self.check()
            except Exception:  # noqa: BLE001 - keep sampling whatever one check does
                logger.exception("Resource check failed")
                continue
            with self._lock:
                self._history.append(status)
