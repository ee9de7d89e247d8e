"""ProgressTracker / SnapshotBoard: immutable snapshots, versions, ETA, bounded log."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest

from yolo_studio.training.progress import LOG_LINES, ProgressTracker, SnapshotBoard
from yolo_studio.training.registration import earlier_epochs
from yolo_studio.training.snapshot import EpochMetrics, JobState


RESULTS_2_EPOCHS = """epoch,time,train/box_loss,metrics/mAP50(B),metrics/mAP50-95(B),lr/pg0
1,0.41,0.39,0.3,0.15,0.0006
2,1.04,0.33,0.4,0.2,0.0005
"""


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def _tracker():
    board, clock = SnapshotBoard(), Clock()
    return board, clock, ProgressTracker(board, lambda: False, clock=clock)


def test_snapshots_are_immutable_and_versions_increase():
    board, clock, tracker = _tracker()
    before = board.current
    tracker.on_start(epochs=2, batches=4, batch_size=8, images=32, save_dir=Path("/r"))
    after = board.current
    assert after.version > before.version and after is not before
    assert before.epochs == 0 and after.epochs == 2  # the old value was not touched
    with pytest.raises(dataclasses.FrozenInstanceError):
        after.epoch = 5  # type: ignore[misc]


def test_eta_from_batch_rate_then_measured_epochs_and_images_per_s():
    board, clock, tracker = _tracker()
    tracker.on_start(epochs=3, batches=4, batch_size=8, images=32, save_dir=Path("/r"))
    tracker.on_epoch_start(1)
    assert board.current.eta_s is None
    clock.t += 2.0
    tracker.on_batch_end(1, 1, 4, 8)  # 2 s per batch -> 8 s per epoch, 3 epochs, 2 s spent
    snap = board.current
    assert snap.eta_s == pytest.approx(22.0) and snap.images_per_s == pytest.approx(4.0)
    assert (snap.batch_i, snap.batches) == (1, 4)
    clock.t += 8.0
    tracker.on_epoch_end(EpochMetrics(epoch=1, map50=0.1))  # measured 10 s per epoch
    assert board.current.eta_s == pytest.approx(20.0)
    assert board.current.epoch == 1 and len(board.current.history) == 1
    tracker.on_epoch_start(2)
    clock.t += 5.0
    tracker.on_batch_end(2, 2, 4, 8)
    assert board.current.eta_s == pytest.approx(15.0)
    assert board.current.elapsed_s == pytest.approx(15.0)


def test_final_is_kept_apart_from_history():
    board, clock, tracker = _tracker()
    tracker.on_start(epochs=1, batches=1, batch_size=8, images=8, save_dir=Path("/r"))
    tracker.on_epoch_end(EpochMetrics(epoch=1, map50=0.2))
    tracker.on_final(EpochMetrics(epoch=1, map50=0.25))
    snap = board.current
    assert [m.epoch for m in snap.history] == [1]
    assert snap.final.map50 == 0.25 and snap.eta_s == 0.0
    assert any("best.pt on val" in line for line in snap.log)


def test_a_resumed_run_charts_its_earlier_epochs_then_the_new_ones(tmp_path):
    (tmp_path / "results.csv").write_text(RESULTS_2_EPOCHS)
    earlier = earlier_epochs(tmp_path)
    assert [m.epoch for m in earlier] == [1, 2] and earlier[1].map50 == pytest.approx(0.4)
    board, clock, tracker = _tracker()
    tracker.on_resume(earlier)
    tracker.on_start(epochs=4, batches=1, batch_size=8, images=8, save_dir=tmp_path)
    assert [m.epoch for m in board.current.history] == [1, 2] and board.current.epoch == 2
    assert any("Resuming after epoch 2" in line for line in board.current.log)
    tracker.on_epoch_end(EpochMetrics(epoch=2, map50=0.5))  # an epoch trained again
    tracker.on_epoch_end(EpochMetrics(epoch=3, map50=0.6))
    assert [(m.epoch, m.map50) for m in board.current.history] == [
        (1, pytest.approx(0.3)), (2, 0.5), (3, 0.6)]  # one point per epoch


@pytest.mark.parametrize("text", [None, "", RESULTS_2_EPOCHS.replace("\n2,", "\n3,")])
def test_no_earlier_epochs_from_a_missing_unreadable_or_gapped_results_file(tmp_path, text):
    if text is not None:
        (tmp_path / "results.csv").write_text(text)
    assert earlier_epochs(tmp_path) == ()
    board, clock, tracker = _tracker()
    tracker.on_resume(())
    assert board.current.history == () and board.current.version == 0


def test_log_is_bounded():
    board, _, tracker = _tracker()
    for i in range(LOG_LINES + 50):
        tracker.log(f"line {i}")
    log = board.current.log
    assert len(log) == LOG_LINES and log[-1] == f"line {LOG_LINES + 49}"


def test_wait_for_change_wakes_many_watchers_and_times_out():
    board = SnapshotBoard()
    assert board.wait_for_change(0, timeout_s=0.01).version == 0  # timeout, unchanged
    seen: list[int] = []
    started = threading.Barrier(6)

    def watch() -> None:
        started.wait()
        seen.append(board.wait_for_change(0, timeout_s=10).version)

    threads = [threading.Thread(target=watch) for _ in range(5)]
    for t in threads:
        t.start()
    started.wait()
    board.publish(epoch=1)
    for t in threads:
        t.join(10)
    assert seen == [1] * 5
    assert board.wait_for_change(0, timeout_s=10).version == 1  # already newer: no wait


def test_major_only_waiters_sleep_through_batch_progress() -> None:
    board = SnapshotBoard()
    start = board.publish(state=JobState.TRAINING, epochs=2)
    board.publish(batch_i=1, batches=4, elapsed_s=0.5)
    board.append_log("batch line")
    snap = board.wait_for_change(start.version, timeout_s=0.05, major_only=True)
    assert snap.version == start.version + 2  # returned on the timeout, not on progress
    board.publish(history=(EpochMetrics(epoch=1, map50=0.1),), epoch=1)
    snap = board.wait_for_change(start.version, timeout_s=5, major_only=True)
    assert len(snap.history) == 1
    assert board.wait_for_change(snap.version, timeout_s=0.05).version == snap.version


def test_epoch_line_labels_its_times():
    """The time at the end of an epoch line was Ultralytics' cumulative time, unlabelled."""
    from yolo_studio.training.progress import format_epoch
    from yolo_studio.training.snapshot import EpochMetrics

    first, second = EpochMetrics(epoch=1, time_s=2.0), EpochMetrics(epoch=2, time_s=6.5)
    assert format_epoch(first, 3).endswith("| epoch 2.0 s, elapsed 2.0 s")
    assert format_epoch(second, 3, first).endswith("| epoch 4.5 s, elapsed 6.5 s")
    assert format_epoch(second, 3).endswith("| elapsed 6.5 s")
    assert "|" not in format_epoch(EpochMetrics(epoch=2), 3).rsplit("mAP50-95", 1)[1]
