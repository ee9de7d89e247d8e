"""Following one job of several running at once (issue 15): a page that picks a job in the
Monitor's Follow list gets that job's own status, log and charts on its one stream, other
pages keep the newest running job, one feed thread serves each followed job, and the
Monitor's Cancel cancels the followed job while the other goes on to COMPLETED.

Two jobs train at once on a fake cluster (``cluster_double.ClusterExecutor``: each job in a
thread of its own, on a node of its own) over the fake Ultralytics; gates hold each job at a
known epoch so every check sees a fixed state.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from dataset_files import TINY
from feed_tabs import Tab
from plot_figures import figure

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))
from cluster_double import NODES, cluster_manager, fake_backend  # noqa: E402
from fake_ultralytics import Gate  # noqa: E402
from training_helpers import fake_config  # noqa: E402

from yolo_studio.config import StudioSettings  # noqa: E402
from yolo_studio.training.snapshot import JobState  # noqa: E402
from yolo_studio.ui import formatting as fmt  # noqa: E402
from yolo_studio.ui import jobs_panel, monitor_tab, train_tab  # noqa: E402
from yolo_studio.ui.monitor_feed import THREAD_PREFIX, MonitorFeed  # noqa: E402
from yolo_studio.ui.monitor_follow import (NEWEST, NEWEST_LABEL, Follows,  # noqa: E402
                                           JobView, follow_choices, job_of)

STATUS, LOG, METRICS, NOTE = 0, 3, 5, 9  # positions in a Monitor update (MonitorTab.outputs)
WAIT_S = 30.0


@pytest.fixture
def cluster(tmp_path: Path):
    """A started manager over a two-node fake cluster: job "older" waits at its 2nd epoch's
    first batch, "newer" (started after it) at its 3rd; any other job trains at once."""
    settings = StudioSettings(root=tmp_path / "root")
    shutil.copytree(TINY, settings.datasets_dir / "tiny")
    gates = {"older": Gate(1, 0), "newer": Gate(2, 0)}
    manager = cluster_manager(settings, lambda config: fake_backend(
        gate=gates.get(config.model_name)))
    manager.start()
    ids = {}
    for name in ("older", "newer"):
        ids[name] = manager.start_training(fake_config(model_name=name, epochs=3, device="cpu"))
        assert gates[name].reached.wait(WAIT_S), f"{name} did not start"
    try:
        yield SimpleNamespace(manager=manager, gates=gates, ids=ids)
    finally:
        for gate in gates.values():
            gate.release()
        manager.close()


def _page(follows: Follows, session: str) -> Tab:
    """A browser page whose Monitor stream is ``follows.updates(session, ...)``."""
    return Tab(SimpleNamespace(updates=lambda stream: follows.updates(session, stream)))


def _until(tab: Tab, predicate, what: str) -> list:
    """The page's next updates until one satisfies ``predicate``."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        update = tab.next(timeout_s=WAIT_S)
        if predicate(update):
            return update
    raise AssertionError(f"no update with {what}")


def _feed_threads() -> int:
    return sum(t.name.startswith(THREAD_PREFIX) for t in threading.enumerate())


def _epochs_drawn(update: list) -> list:
    return list(figure(update[METRICS]).data[0].x)


def test_a_page_follows_the_job_it_picks_and_cancels_it(cluster) -> None:
    manager, older, newer = cluster.manager, cluster.ids["older"], cluster.ids["newer"]
    groups = monitor_tab.feed_groups(None)
    main = MonitorFeed(manager, groups, min_interval_s=0)
    follows = Follows(manager, main, groups, min_interval_s=0)
    picking, watching = _page(follows, "picking"), _page(follows, "watching")
    threads_before = _feed_threads()
    try:
        # the Follow list: the newest job first, each with its state and node
        assert follow_choices(manager) == [
            (NEWEST_LABEL, NEWEST), (f"tiny / newer · TRAINING · {NODES[1]}", newer),
            (f"tiny / older · TRAINING · {NODES[0]}", older)]
        for page in (picking, watching):  # both start on the newest running job
            first = page.next()
            assert f"newer · on {NODES[1]}" in first[STATUS] and _epochs_drawn(first) == [1, 2]
        follows.pick("picking", job_of(older))
        update = _until(picking, lambda u: "older" in u[STATUS], "older's status")
        assert "TRAINING" in update[STATUS] and f"on {NODES[0]}" in update[STATUS]
        assert "-> model older" in update[LOG] and "-> model newer" not in update[LOG]
        assert _epochs_drawn(update) == [1]  # older's own history
        assert NODES[0] in update[NOTE] and "this machine's readings" in update[NOTE]
        assert watching.quiet(monitor_tab.STREAM)  # the other page is not moved
        assert follows.picked("picking") == older and follows.picked("watching") is None
        # a third page on the same job shares its feed: one thread per followed job
        third = _page(follows, "third")
        follows.pick("third", older)
        assert "older" in _until(third, lambda u: "older" in u[STATUS], "older")[STATUS]
        assert _feed_threads() == threads_before + 2  # the main feed's and older's
        third.close()

        # the Monitor's Cancel with the Follow value cancels the followed job
        rows = train_tab.cancel_handler(manager)(older)
        assert {row[0]: row[2] for row in rows} == {older: NODES[0], newer: NODES[1]}
        cluster.gates["older"].release()
        _until(picking, lambda u: "CANCELLED" in u[STATUS], "older cancelled")
        assert manager.wait_for_job(older, WAIT_S).state is JobState.CANCELLED
        assert manager.snapshot(newer).state is JobState.TRAINING
        assert manager.snapshot().job_id == newer  # the newest is still newer

        cluster.gates["newer"].release()
        assert manager.wait_for_job(newer, WAIT_S).state is JobState.COMPLETED
        _until(watching, lambda u: "COMPLETED" in u[STATUS], "newer completed")
        follows.pick("picking", job_of(NEWEST))  # back to the newest: newer's end
        _until(picking, lambda u: "COMPLETED — tiny / newer" in u[STATUS], "newer")
    finally:
        for page in (picking, watching):
            page.close()
    # no page follows older any more: its feed's thread ends
    deadline = time.monotonic() + 5
    while _feed_threads() > threads_before + 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert follows.feed(older).following is False
    main.close()


def test_the_job_table_shows_each_jobs_node_and_none_for_a_queued_job(cluster) -> None:
    manager = cluster.manager
    queued = manager.start_training(fake_config(model_name="third", epochs=1, device="cpu"))
    node = fmt.JOB_COLUMNS.index("node")
    rows = {row[0]: row[node] for row in jobs_panel.jobs_value(manager)}
    assert rows == {cluster.ids["older"]: NODES[0], cluster.ids["newer"]: NODES[1],
                    queued: ""}  # two slots: the third waits
    assert manager.running_jobs() == [cluster.ids["older"], cluster.ids["newer"]]


def test_a_job_the_studio_no_longer_keeps_says_so_without_spinning(cluster) -> None:
    view = JobView(cluster.manager, "job-gone")
    first = view.wait_for_change(7, timeout_s=5)
    assert first.version == -1 and "no longer kept" in first.log[0]
    started = time.monotonic()
    again = view.wait_for_change(-1, timeout_s=0.2)  # nothing new: it waits, as a board does
    assert again == first and time.monotonic() - started >= 0.2
    assert job_of(NEWEST) is None and job_of(None) is None and job_of("job-1") == "job-1"
