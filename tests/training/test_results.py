"""Output parser: results.csv column-name variants and live trainer state."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from yolo_studio.errors import TrainingError
from yolo_studio.training.results import metrics_from_trainer, parse_results_csv

CURRENT = """epoch,time,train/box_loss,train/cls_loss,train/dfl_loss,metrics/precision(B),metrics/recall(B),metrics/mAP50(B),metrics/mAP50-95(B),val/box_loss,val/cls_loss,val/dfl_loss,lr/pg0,lr/pg1,lr/pg2
1,0.41,0.39466,0.7439,0.22801,0.1,0.2,0.3,0.15,0.04405,0.75399,0.02364,0.000666667,0.000666667,0.034
2,1.04,2.33785,1.8774,1.32682,0.2,0.3,0.4,0.2,0.05,0.7,0.03,0.000505,0.000505,0.000505
"""

# Early 8.0 releases: padded column names, 0-based epochs, YOLOv5-style mAP names.
OLD = """                  epoch,         train/box_loss,         train/cls_loss,         train/dfl_loss,   metrics/precision,      metrics/recall,       metrics/mAP_0.5,  metrics/mAP_0.5:0.95,           val/box_loss,           val/cls_loss,           val/dfl_loss,                 x/lr0
                      0,                 1.5,                 2.5,                 1.2,                0.5,                0.4,                0.45,                0.25,                 1.4,                 2.4,                 1.1,                 0.07
                      1,                 1.4,                 2.4,                 1.1,                0.6,                0.5,                0.55,                0.35,                 1.3,                 2.3,                 1.0,                 0.06
"""


def test_current_columns(tmp_path):
    path = tmp_path / "results.csv"
    path.write_text(CURRENT)
    rows = parse_results_csv(path)
    assert [r.epoch for r in rows] == [1, 2]
    assert rows[0].train_box_loss == pytest.approx(0.39466)
    assert rows[1].map50 == pytest.approx(0.4) and rows[1].map50_95 == pytest.approx(0.2)
    assert rows[0].val_cls_loss == pytest.approx(0.75399)
    assert rows[0].lr == pytest.approx(0.000666667) and rows[1].time_s == pytest.approx(1.04)


def test_old_column_variants_and_zero_based_epochs(tmp_path):
    path = tmp_path / "results.csv"
    path.write_text(OLD)
    rows = parse_results_csv(path)
    assert [r.epoch for r in rows] == [1, 2]
    assert rows[0].map50 == pytest.approx(0.45) and rows[0].map50_95 == pytest.approx(0.25)
    assert rows[1].precision == pytest.approx(0.6) and rows[1].recall == pytest.approx(0.5)
    assert rows[1].lr == pytest.approx(0.06) and rows[0].time_s is None


def test_resumed_run_duplicate_epoch_keeps_last_row(tmp_path):
    path = tmp_path / "results.csv"
    path.write_text(CURRENT + CURRENT.splitlines()[2].replace(",0.4,", ",0.9,") + "\n")
    rows = parse_results_csv(path)
    assert [r.epoch for r in rows] == [1, 2] and rows[1].map50 == pytest.approx(0.9)


@pytest.mark.parametrize("text", ["", "a,b\n1,2\n"])
def test_unusable_files_raise(tmp_path, text):
    path = tmp_path / "results.csv"
    path.write_text(text)
    with pytest.raises(TrainingError):
        parse_results_csv(path)


def test_missing_file_raises(tmp_path):
    with pytest.raises(TrainingError, match="No results file"):
        parse_results_csv(tmp_path / "nope.csv")


def test_metrics_from_trainer_dict_and_tensor_losses():
    import torch

    metrics = {"metrics/mAP50(B)": 0.5, "metrics/mAP50-95(B)": 0.3, "val/box_loss": 1.0}
    trainer = SimpleNamespace(tloss={"box_loss": torch.tensor(1.5), "cls_loss": torch.tensor(2.0),
                                     "dfl_loss": torch.tensor(0.5)},
                              loss_names=("box_loss", "cls_loss", "dfl_loss"), metrics=metrics,
                              lr={"lr/pg0": 0.01}, train_time_start=None)
    m = metrics_from_trainer(trainer, 3)
    assert (m.epoch, m.train_box_loss, m.train_cls_loss, m.map50, m.val_box_loss, m.lr) == (
        3, 1.5, 2.0, 0.5, 1.0, 0.01)
    trainer.tloss = torch.tensor([1.0, 2.0, 3.0])  # Ultralytics < 8.4 stored a tensor
    m = metrics_from_trainer(trainer, 1, include_train=False)
    assert m.train_box_loss is None and m.lr is None and m.map50_95 == 0.3
    assert metrics_from_trainer(trainer, 1).train_dfl_loss == 3.0
