"""RAM use measured against the container's cgroup memory limit when there is one.

cgroup v2: ``memory.max`` (``"max"`` = no limit), ``memory.current``, ``memory.stat``.
cgroup v1: ``memory/memory.limit_in_bytes`` (a number near 2**63 = no limit),
``memory/memory.usage_in_bytes``, ``memory/memory.stat``.

The process's own cgroup (from ``/proc/self/cgroup``) and its ancestors up to the mount are
considered, so a limit set on a parent slice counts too; the smallest limit below the host's RAM
wins. Like ``docker stats``, the page cache the kernel can drop at once (``inactive_file`` in v2,
``total_inactive_file`` in v1) is not counted as used. Which files exist is found once, when the
reader is made; each read opens only those files.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# cgroup v1 writes "no limit" as the largest page-aligned signed 64-bit number; anything this large
# (2**62 bytes = 4 EiB) cannot be a real limit.
_V1_NO_LIMIT = 2**62

_FILES = {
    2: ("memory.max", "memory.current", "inactive_file"),
    1: ("memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file"),
}


@dataclass(frozen=True)
class RamReading:
    """RAM in use against a limit.

    Attributes:
        used_bytes: Bytes in use (cgroup usage minus inactive file cache, or the host's
            ``total - available`` from psutil).
        total_bytes: The limit, bytes: the cgroup's memory limit or the host's total RAM.
        source: ``"cgroup v2"``, ``"cgroup v1"`` or ``"host"``.
    """

    used_bytes: int
    total_bytes: int
    source: str

    @property
    def fraction(self) -> float:
        """``used_bytes / total_bytes``, a fraction 0-1 (may pass 1 briefly under a cgroup)."""
        return self.used_bytes / self.total_bytes if self.total_bytes else 0.0


@dataclass(frozen=True)
class _CgroupDir:
    version: int
    limit: Path
    usage: Path
    stat: Path
    stat_key: str


def _read_text(path: Path) -> str:
    with open(path, encoding="ascii") as handle:
        return handle.read().strip()


def _parse_limit(text: str, version: int) -> int | None:
    """A limit in bytes, or ``None`` for "no limit"."""
    if text == "max":
        return None
    value = int(text)
    return None if version == 1 and value >= _V1_NO_LIMIT else value


def _stat_value(path: Path, key: str) -> int:
    """One counter from a ``memory.stat`` file (bytes); 0 when absent or unreadable."""
    try:
        with open(path, encoding="ascii") as handle:
            for line in handle:
                name, _, value = line.partition(" ")
                if name == key:
                    return int(value)
    except (OSError, ValueError):
        pass
    return 0


def _own_cgroup_paths(proc_cgroup_file: str | Path) -> dict[int, str]:
    """The process's cgroup path per version, from ``/proc/self/cgroup``; ``"/"`` when unknown."""
    paths = {1: "/", 2: "/"}
    try:
        lines = _read_text(Path(proc_cgroup_file)).splitlines()
    except OSError:
        return paths
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if parts[0] == "0" and parts[1] == "":
            paths[2] = parts[2]
        elif "memory" in parts[1].split(","):
            paths[1] = parts[2]
    return paths


def _dir_and_ancestors(base: Path, relative: str) -> list[Path]:
    """``base/relative`` and its parents up to ``base``; only ``base`` when that path is absent
    (a container whose cgroup is mounted as the root)."""
    leaf = base / relative.strip("/")
    if not leaf.is_dir() or leaf == base:
        return [base]
    chain = [leaf]
    while chain[-1] != base and base in chain[-1].parents:
        chain.append(chain[-1].parent)
    return chain


def find_cgroup_dirs(cgroup_root: str | Path, proc_cgroup_file: str | Path) -> list[_CgroupDir]:
    """The cgroup folders with memory files that apply to this process, leaf first.

    cgroup v2 is preferred; v1's ``memory`` controller is used when v2 has no memory files.
    """
    root = Path(cgroup_root)
    own = _own_cgroup_paths(proc_cgroup_file)
    for version, base in ((2, root), (1, root / "memory")):
        limit_name, usage_name, stat_key = _FILES[version]
        found = [
            _CgroupDir(version, folder / limit_name, folder / usage_name, folder / "memory.stat", stat_key)
            for folder in _dir_and_ancestors(base, own[version])
            if (folder / limit_name).is_file() and (folder / usage_name).is_file()
        ]
        if found:
            return found
    return []


class RamReader:
    """Reads RAM use against the tightest limit: the cgroup's when below the host's RAM.

    Args:
        psutil_module: ``psutil`` or a fake with ``virtual_memory()``.
        cgroup_root: Where the cgroup filesystem is mounted.
        proc_cgroup_file: The file naming this process's cgroups.
    """

    def __init__(self, psutil_module: Any, cgroup_root: str | Path = "/sys/fs/cgroup",
                 proc_cgroup_file: str | Path = "/proc/self/cgroup") -> None:
        self._psutil = psutil_module
        self._dirs = find_cgroup_dirs(cgroup_root, proc_cgroup_file)

    def read(self) -> RamReading:
        """Returns the current RAM use; falls back to the host's figures if no cgroup limit applies."""
        memory = self._psutil.virtual_memory()
        host_total = int(memory.total)
        limited = self._tightest_limit(host_total)
        if limited is None:
            return RamReading(host_total - int(memory.available), host_total, "host")
        folder, limit = limited
        try:
            usage = int(_read_text(folder.usage))
        except (OSError, ValueError) as exc:
            logger.warning("Cannot read %s (%s); using the host's RAM figures", folder.usage, exc)
            return RamReading(host_total - int(memory.available), host_total, "host")
        used = max(0, usage - _stat_value(folder.stat, folder.stat_key))
        return RamReading(used, limit, f"cgroup v{folder.version}")

    def _tightest_limit(self, host_total: int) -> tuple[_CgroupDir, int] | None:
        best: tuple[_CgroupDir, int] | None = None
        for folder in self._dirs:
            try:
                limit = _parse_limit(_read_text(folder.limit), folder.version)
            except (OSError, ValueError):
                continue
            if limit is not None and 0 < limit < host_total and (best is None or limit < best[1]):
                best = (folder, limit)
        return best


def oom_kill_count(cgroup_root: str | Path = "/sys/fs/cgroup",
                   proc_cgroup_file: str | Path = "/proc/self/cgroup",
                   vmstat_file: str | Path = "/proc/vmstat") -> int:
    """How many processes the kernel's OOM killer has ended so far, as far as this process can
    see: the machine's count (``oom_kill`` in ``/proc/vmstat``) plus its cgroup's (``oom_kill``
    in v2's ``memory.events`` or v1's ``memory.oom_control``), which counts kills for reaching
    the container's own memory limit. A count that grew while a process died of SIGKILL means
    the system ran out of memory. Unreadable files count 0.
    """
    files = [Path(vmstat_file)]
    dirs = find_cgroup_dirs(cgroup_root, proc_cgroup_file)
    if dirs:
        folder = dirs[0].limit.parent
        files.append(folder / ("memory.events" if dirs[0].version == 2 else "memory.oom_control"))
    total = 0
    for path in files:
        try:
            text = _read_text(path)
        except (OSError, UnicodeDecodeError):
            continue
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit():
                total += int(value)
    return total
