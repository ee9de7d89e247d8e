"""Ray clusters, for real, inside network namespaces that keep every packet on this machine.

Ray binds the machine's own network address by default, so each scenario runs in a fresh
network namespace (``unshare --net``, as root) whose only interface is loopback:
``cluster_cases.py`` (a two-node cluster, with its own pytest run) and ``loopback_probe.py``
(what a ``--ray local`` instance listens on). Without Ray, root or ``unshare`` the tests skip
with the reason, except under ``YOLO_STUDIO_REQUIRE_CLUSTER=1`` (set by ``.ci/run``), where
they fail.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
REQUIRE_ENV = "YOLO_STUDIO_REQUIRE_CLUSTER"
#: Inside the namespace: loopback up; with ``FAKE_ADDRESS`` set, that address added to
#: loopback and this machine's name resolving to it (a private /etc/hosts in a mount
#: namespace), so that Ray sees a non-loopback "own address" as on a real network.
SETUP = """set -e
ip link set lo up
if [ -n "$FAKE_ADDRESS" ]; then
  ip addr add "$FAKE_ADDRESS/32" dev lo
  printf '127.0.0.1 localhost\\n%s %s\\n' "$FAKE_ADDRESS" "$(hostname)" > "$HOSTS_FILE"
  mount --bind "$HOSTS_FILE" /etc/hosts
fi
exec "$@"
"""


def _unavailable() -> str | None:
    if importlib.util.find_spec("ray") is None:
        return 'Ray is not installed (pip install -e ".[ray]")'
    if os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("ip") is None:
        return "network namespaces need root, unshare and ip"
    return None


@pytest.fixture(autouse=True)
def _namespaces() -> None:
    reason = _unavailable()
    if reason and os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but {reason}")
    if reason:
        pytest.skip(reason)


def _in_namespace(command: list[str], tmp_path: Path, fake_address: str = "",
                  timeout_s: float = 1100) -> subprocess.CompletedProcess:
    """Run ``command`` in a fresh namespace, with a Ray temp folder of its own
    (``RAY_TMPDIR``): a plain ``ray.init()`` there never joins a cluster that another run
    on this machine named in ``/tmp/ray/ray_current_cluster``, and none of its files
    outlive it (a short path: Ray's socket paths must fit in 107 bytes)."""
    ray_tmp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")
    env = dict(os.environ, PYTHONPATH=str(REPO), YOLO_STUDIO_IN_NETNS="1",
               FAKE_ADDRESS=fake_address, HOSTS_FILE=str(tmp_path / "hosts"),
               RAY_TMPDIR=ray_tmp)
    flags = ["--net", "--mount"] if fake_address else ["--net"]
    try:
        return subprocess.run(["unshare", *flags, "bash", "-c", SETUP, "netns", *command],
                              env=env, cwd=REPO, capture_output=True, text=True,
                              timeout=timeout_s)
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.timeout(1200)  # the cases' own timeout fires first, with every thread's stack
def test_two_node_cluster_cases(tmp_path):
    """Two jobs at once on two nodes, a cancel, a studio killed mid-job, a node killed
    mid-job: ``cluster_cases.py``, every case run (none skipped)."""
    result = _in_namespace([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            "-o", "addopts=",  # one process: the cases share one cluster
                            "-x", str(HERE / "cluster_cases.py"), "--timeout", "300"],
                           tmp_path)
    print(result.stdout[-6000:], result.stderr[-3000:])
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-3000:]
    assert "4 passed" in result.stdout and "skipped" not in result.stdout


@pytest.mark.slow
def test_ray_local_listens_on_loopback_only(tmp_path):
    """``--ray local`` binds 127.0.0.1 alone where Ray's own default binds the machine's
    address (the same namespace setup shows both, so the check can fail)."""
    probe = [sys.executable, str(HERE / "loopback_probe.py")]
    studio = _in_namespace(probe + ["studio"], tmp_path, "10.99.0.1", 300)
    default = _in_namespace(probe + ["ray-default"], tmp_path, "10.99.0.1", 300)
    assert studio.returncode == 0 and default.returncode == 0, studio.stderr + default.stderr
    ours = json.loads(studio.stdout.strip().splitlines()[-1])
    theirs = json.loads(default.stdout.strip().splitlines()[-1])
    loopback = {"127.0.0.1", "::ffff:127.0.0.1", "::1"}
    assert ours["bound"] and set(ours["bound"]) <= loopback, ours
    assert ours["node_ip"] == "127.0.0.1"
    assert theirs["node_ip"] == "10.99.0.1" and not set(theirs["bound"]) <= loopback, theirs
