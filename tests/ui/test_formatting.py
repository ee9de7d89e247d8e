"""Status, progress and table texts built from snapshots and records."""

from __future__ import annotations

from types import SimpleNamespace

from yolo_studio.training.snapshot import JobState, TrainingSnapshot
from yolo_studio.ui import formatting as fmt


def test_format_duration() -> None:
    assert fmt.format_duration(None) == "—"
    assert fmt.format_duration(5.4) == "0:05"
    assert fmt.format_duration(125) == "2:05"
    assert fmt.format_duration(3725) == "1:02:05"


def test_status_line_names_error_cause_and_stop_reason() -> None:
    assert fmt.status_line(TrainingSnapshot()) == "IDLE"
    err = TrainingSnapshot(state=JobState.ERROR, error="CUDA out of memory at batch 16")
    assert fmt.status_line(err) == "ERROR: CUDA out of memory at batch 16"
    done = TrainingSnapshot(state=JobState.COMPLETED, dataset="bccd", model_name="m1",
                            stop_reason="early stopping")
    assert fmt.status_line(done) == "COMPLETED — bccd / m1 (stopped: early stopping)"


def test_epoch_and_progress_while_training_and_after() -> None:
    running = TrainingSnapshot(state=JobState.TRAINING, epoch=1, epochs=4, batch_i=5, batches=10,
                               elapsed_s=65, eta_s=190, images_per_s=12.34)
    assert fmt.epoch_text(running) == "epoch 2/4 · batch 5/10"
    assert fmt.progress_fraction(running) == 1.5 / 4
    assert fmt.progress_text(running) == ("epoch 2/4 · batch 5/10 · elapsed 1:05 · ETA 3:10 · "
                                          "12.3 images/s")
    validating = TrainingSnapshot(state=JobState.TRAINING, epoch=4, epochs=4, batch_i=10,
                                  batches=10)
    assert fmt.epoch_text(validating) == "epoch 4/4 · validating best.pt"
    assert fmt.progress_fraction(validating) == 1.0
    done = TrainingSnapshot(state=JobState.COMPLETED, epoch=2, epochs=2, elapsed_s=20)
    assert fmt.progress_text(done) == "epoch 2/2 · elapsed 0:20"
    cancelled = TrainingSnapshot(state=JobState.CANCELLED, epoch=1, epochs=5)
    assert fmt.progress_fraction(cancelled) == 0.2
    assert fmt.epoch_text(TrainingSnapshot()) == "epoch —"


def test_model_rows_newest_first_with_active_marker(tmp_path) -> None:
    common = dict(dataset_snapshot="28 images, 3 classes", folder=tmp_path)
    old = SimpleNamespace(name="a", created="2024-01-01T00:00:00+00:00", active=True,
                          base_model="yolo11n.yaml", epochs_completed=2, best_map50=0.51234,
                          extra={"map50_95": 0.25, "precision": 0.5, "recall": 0.4,
                                 "parameters": 2590425, "inference_ms": 12.34}, **common)
    new = SimpleNamespace(name="b", created="2024-02-01T00:00:00+00:00", active=False,
                          base_model="yolo11n.pt", epochs_completed=3, best_map50=None,
                          extra={}, **common)  # an old entry, no metrics.json either
    rows = fmt.model_rows([old, new])
    assert [r[1] for r in rows] == ["b", "a"]
    assert rows[1][0] == fmt.ACTIVE_MARK and rows[0][0] == ""
    assert rows[1][5:12] == ["0.512", "0.250", "0.500", "0.400", "0.250", "2.59 M", "12.3"]
    assert rows[0][5:12] == ["—"] * 7
    assert len(rows[0]) == len(fmt.MODEL_COLUMNS)
    assert rows[0][2] == "2024-02-01 00:00:00 UTC"  # the time zone is said
    assert [r[1] for r in fmt.model_rows([old, new], sort="map50_95")] == ["a", "b"]


def test_created_times_are_shown_in_utc_with_the_zone() -> None:
    assert fmt.format_created("2025-01-31T14:05:09.5+02:00") == "2025-01-31 12:05:09 UTC"
    assert fmt.format_created("2025-01-31T14:05:09") == "2025-01-31 14:05:09 UTC"
    assert fmt.format_created("") == "" and fmt.format_created("soon") == "soon"


def test_log_text_strips_terminal_colours() -> None:
    snap = TrainingSnapshot(log=("\x1b[34m\x1b[1mengine/trainer: \x1b[0mepochs=2", "done"))
    assert fmt.log_text(snap) == "engine/trainer: epochs=2\ndone"


def test_log_text_keeps_the_newest_lines_and_cuts_long_ones() -> None:
    snap = TrainingSnapshot(log=tuple(f"line {i}" for i in range(30)) + ("x" * 500,))
    lines = fmt.log_text(snap, max_lines=5, max_chars=50).split("\n")
    assert lines[:4] == ["line 26", "line 27", "line 28", "line 29"]
    assert lines[4] == "x" * 49 + "…"
