"""RAM against fake cgroup v1 / v2 trees in tmp_path."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from yolo_studio.resources.memory import RamReader, oom_kill_count

GIB = 1024**3
V1_UNLIMITED = "9223372036854771712"


def _write(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text + "\n")


def _reader(fakes, tmp_path: Path, proc: str = "0::/\n", **psutil_kwargs) -> RamReader:
    (tmp_path / "proc_cgroup").write_text(proc)
    return RamReader(fakes.FakePsutil(**psutil_kwargs), tmp_path / "cg", tmp_path / "proc_cgroup")


def test_v2_limit_is_used_minus_inactive_file(fakes, tmp_path):
    _write(tmp_path / "cg", {"memory.max": str(4 * GIB), "memory.current": str(3 * GIB),
                             "memory.stat": f"anon {GIB}\nfile {2 * GIB}\ninactive_file {GIB}\nactive_file 5"})
    ram = _reader(fakes, tmp_path).read()
    assert (ram.used_bytes, ram.total_bytes, ram.source) == (2 * GIB, 4 * GIB, "cgroup v2")
    assert ram.fraction == 0.5


def test_v2_max_means_host_ram(fakes, tmp_path):
    _write(tmp_path / "cg", {"memory.max": "max", "memory.current": str(3 * GIB)})
    ram = _reader(fakes, tmp_path, total=16 * GIB, available=12 * GIB).read()
    assert (ram.used_bytes, ram.total_bytes, ram.source) == (4 * GIB, 16 * GIB, "host")


def test_v1_limit(fakes, tmp_path):
    _write(tmp_path / "cg" / "memory", {
        "memory.limit_in_bytes": str(8 * GIB), "memory.usage_in_bytes": str(7 * GIB),
        "memory.stat": f"cache {3 * GIB}\ninactive_file 5\ntotal_inactive_file {GIB}"})
    ram = _reader(fakes, tmp_path, proc="4:memory:/\n0::/\n").read()
    assert (ram.used_bytes, ram.total_bytes, ram.source) == (6 * GIB, 8 * GIB, "cgroup v1")
    assert ram.fraction == 0.75


def test_v1_unlimited_sentinel_means_host_ram(fakes, tmp_path):
    _write(tmp_path / "cg" / "memory", {"memory.limit_in_bytes": V1_UNLIMITED,
                                        "memory.usage_in_bytes": str(9 * GIB)})
    ram = _reader(fakes, tmp_path, total=16 * GIB, available=15 * GIB).read()
    assert (ram.used_bytes, ram.total_bytes, ram.source) == (GIB, 16 * GIB, "host")


def test_no_cgroup_files_means_host_ram(fakes, tmp_path):
    (tmp_path / "cg").mkdir()
    ram = _reader(fakes, tmp_path, total=10 * GIB, available=5 * GIB).read()
    assert (ram.used_bytes, ram.total_bytes, ram.source) == (5 * GIB, 10 * GIB, "host")
    no_mount = RamReader(fakes.FakePsutil(), tmp_path / "absent", tmp_path / "absent_proc").read()
    assert no_mount.source == "host"  # no cgroup mount and no /proc/self/cgroup at all


def test_a_limit_above_the_host_ram_is_ignored(fakes, tmp_path):
    _write(tmp_path / "cg", {"memory.max": str(64 * GIB), "memory.current": str(3 * GIB)})
    assert _reader(fakes, tmp_path, total=16 * GIB).read().source == "host"


def test_limit_on_a_parent_cgroup_counts(fakes, tmp_path):
    """systemd slices: the leaf says "max", its parent holds the limit and the usage that counts."""
    cg = tmp_path / "cg"
    _write(cg / "job.slice", {"memory.max": str(2 * GIB), "memory.current": str(GIB)})
    _write(cg / "job.slice" / "run.scope", {"memory.max": "max", "memory.current": str(GIB // 2)})
    ram = _reader(fakes, tmp_path, proc="0::/job.slice/run.scope\n").read()
    assert (ram.used_bytes, ram.total_bytes) == (GIB, 2 * GIB)


def test_tightest_limit_wins_and_v1_paths_come_from_proc(fakes, tmp_path):
    memory = tmp_path / "cg" / "memory"
    _write(memory, {"memory.limit_in_bytes": V1_UNLIMITED, "memory.usage_in_bytes": str(9 * GIB)})
    _write(memory / "docker", {"memory.limit_in_bytes": str(6 * GIB), "memory.usage_in_bytes": str(5 * GIB)})
    _write(memory / "docker" / "abc", {"memory.limit_in_bytes": str(4 * GIB),
                                       "memory.usage_in_bytes": str(3 * GIB)})
    ram = _reader(fakes, tmp_path, proc="5:cpu:/x\n4:memory:/docker/abc\n0::/\n").read()
    assert (ram.used_bytes, ram.total_bytes, ram.source) == (3 * GIB, 4 * GIB, "cgroup v1")


def test_a_namespaced_container_uses_the_mount_root(fakes, tmp_path):
    """/proc/self/cgroup names a host path that is not under this mount: the mount is our cgroup."""
    _write(tmp_path / "cg", {"memory.max": str(4 * GIB), "memory.current": str(GIB)})
    ram = _reader(fakes, tmp_path, proc="0::/kubepods/pod1/ctr\n").read()
    assert (ram.used_bytes, ram.total_bytes) == (GIB, 4 * GIB)


def test_unreadable_limit_falls_back_to_host(fakes, tmp_path):
    _write(tmp_path / "cg", {"memory.max": "garbage", "memory.current": str(GIB)})
    assert _reader(fakes, tmp_path).read().source == "host"


def test_real_machine_reading_is_sane():
    ram = RamReader(psutil).read()
    assert 0 < ram.used_bytes <= ram.total_bytes * 1.05
    assert ram.total_bytes <= psutil.virtual_memory().total
    assert ram.source in {"host", "cgroup v1", "cgroup v2"}
    assert 0 < ram.fraction == pytest.approx(ram.used_bytes / ram.total_bytes)


@pytest.mark.parametrize("version, files", [
    (2, {"memory.max": "max", "memory.current": "1", "memory.stat": "inactive_file 0",
         "memory.events": "low 0\nhigh 0\nmax 4\noom 2\noom_kill 2\noom_group_kill 0"}),
    (1, {"memory.limit_in_bytes": V1_UNLIMITED, "memory.usage_in_bytes": "1",
         "memory.stat": "total_inactive_file 0",
         "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 2"}),
])
def test_oom_kill_count_adds_the_machine_and_the_cgroup(tmp_path, version, files):
    root = tmp_path / "cg"
    _write(root if version == 2 else root / "memory", files)
    (tmp_path / "proc_cgroup").write_text("0::/\n" if version == 2 else "4:memory:/\n")
    (tmp_path / "vmstat").write_text("pgfault 10\noom_kill 3\n")
    assert oom_kill_count(root, tmp_path / "proc_cgroup", tmp_path / "vmstat") == 5
    assert oom_kill_count(tmp_path / "none", tmp_path / "none", tmp_path / "none") == 0
