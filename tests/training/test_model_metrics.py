"""Registry numbers: Ultralytics' fitness, numbers of older models read from their files,
sorting, the best model, and the promote metric deciding auto-promote (fake Ultralytics)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from yolo_studio.errors import ValidationError
from yolo_studio.training.model_metrics import (FITNESS_WEIGHTS, ModelMetrics, files_metrics,
                                                fitness, metrics_of, sort_records)

from training_helpers import WAIT_S, fake_config


def test_fitness_weights_are_ultralytics_own() -> None:
    """Ultralytics' ``Metric.fitness`` on known per-class values equals ours on its means."""
    from ultralytics.utils.metrics import Metric

    metric = Metric()
    metric.p, metric.r = np.array([0.9, 0.5]), np.array([0.6, 0.4])
    metric.all_ap = np.array([np.linspace(0.8, 0.35, 10), np.linspace(0.6, 0.1, 10)])
    metric.ap_class_index = np.array([0, 1])
    p, r, map50, map50_95 = metric.mean_results()
    ours = fitness({"precision": p, "recall": r, "map50": map50, "map50_95": map50_95})
    assert ours == pytest.approx(metric.fitness()) and 0 < ours < map50  # not a copy of mAP50
    assert fitness({"map50": 0.5}) is None  # mAP50-95 weighs: unknown without it
    assert set(FITNESS_WEIGHTS) == {"precision", "recall", "map50", "map50_95"}


def _record(tmp_path: Path, name: str, created: str, best=None, **extra) -> SimpleNamespace:
    folder = tmp_path / name
    folder.mkdir(exist_ok=True)
    return SimpleNamespace(name=name, created=created, best_map50=best, extra=extra,
                           folder=folder)


def test_older_models_get_their_numbers_from_metrics_json_or_results_csv(tmp_path) -> None:
    final = _record(tmp_path, "final", "1")
    (final.folder / "metrics.json").write_text(json.dumps({"final": {
        "map50": 0.5, "map50_95": 0.3, "precision": 0.7, "recall": 0.4}}))
    m = metrics_of(final)
    assert (m.map50, m.map50_95, m.precision, m.recall, m.source) == (0.5, 0.3, 0.7, 0.4,
                                                                      "metrics.json")
    history = _record(tmp_path, "history", "2")  # no final validation: the best epoch's
    rows = [{"epoch": 1, "map50": 0.6, "map50_95": 0.1}, {"epoch": 2, "map50": 0.4,
                                                         "map50_95": 0.2}]
    (history.folder / "metrics.json").write_text(json.dumps({"final": None, "history": rows}))
    assert metrics_of(history).map50 == 0.4  # epoch 2 has the higher fitness
    csv = _record(tmp_path, "csv", "3")
    (csv.folder / "results.csv").write_text(
        "epoch,metrics/precision(B),metrics/recall(B),metrics/mAP50(B),metrics/mAP50-95(B)\n"
        "1,0.2,0.3,0.25,0.05\n2,0.3,0.35,0.3,0.15\n")
    assert files_metrics(csv.folder) == ({"map50": 0.3, "map50_95": 0.15, "precision": 0.3,
                                          "recall": 0.35}, "results.csv")
    nothing = _record(tmp_path, "nothing", "4", best=0.2)
    assert metrics_of(nothing) == ModelMetrics(map50=0.2, source="")
    kept = _record(tmp_path, "kept", "5", best=0.9, map50_95=None, precision=0.1, recall=0.2)
    assert metrics_of(kept).source == "registry"  # a new entry: its files are not read


def test_sorting_by_each_key_best_first_missing_last(tmp_path) -> None:
    a = _record(tmp_path, "a", "2025-01-01", best=0.5, map50_95=0.2, precision=0.9, recall=0.1,
                parameters=3_000_000, inference_ms=9.0)
    b = _record(tmp_path, "B", "2025-02-01", best=0.4, map50_95=0.3, precision=0.1, recall=0.9,
                parameters=2_000_000, inference_ms=12.0)
    c = _record(tmp_path, "c", "2025-03-01", map50_95=None, precision=None, recall=None)
    records = [a, b, c]
    metrics = {r.name: metrics_of(r) for r in records}
    expected = {"created": "c B a", "name": "a B c", "map50": "a B c", "map50_95": "B a c",
                "precision": "a B c", "recall": "B a c", "fitness": "B a c",
                "parameters": "B a c", "inference_ms": "a B c"}
    for key, order in expected.items():
        assert [r.name for r in sort_records(records, metrics, key)] == order.split(), key
    with pytest.raises(ValidationError, match="Cannot sort models by 'speed'"):
        sort_records(records, metrics, "speed")


def test_registration_keeps_the_numbers_and_the_promote_metric_decides(make_manager) -> None:
    """Fake Ultralytics: m1, then m2 with a higher mAP50 but a lower mAP50-95. By fitness
    (the default) m2 stays inactive; with mAP50 chosen, m3 (as m2) is promoted."""
    scale = {"metrics/mAP50(B)": 1.5, "metrics/mAP50-95(B)": 0.5}
    manager = make_manager({}, {"val_scale": scale}, auto_promote=True)
    manager.wait_for_job(manager.start_training(fake_config(model_name="m1")), WAIT_S)
    snap = manager.wait_for_job(manager.start_training(fake_config(model_name="m2")), WAIT_S)
    assert any("Auto-promote: m2 (fitness" in line and "does not beat" in line
               for line in snap.log)
    m1, m2 = (manager.models.get("tiny", n) for n in ("m1", "m2"))
    assert m1.active and not m2.active
    assert m1.extra["map50_95"] == pytest.approx(0.15) and m1.best_map50 == pytest.approx(0.3)
    assert m2.extra["map50_95"] == pytest.approx(0.075) and m2.best_map50 > m1.best_map50
    assert m1.extra["precision"] == pytest.approx(0.35) and "recall" in m1.extra
    assert m1.extra["parameters"] is None  # the fake trainer has no model to count
    manager.models.set_promote_metric("tiny", "map50")
    snap = manager.wait_for_job(manager.start_training(fake_config(model_name="m3")), WAIT_S)
    assert any("Auto-promote: m3 (mAP50 0.4500) beats m1 (mAP50 0.3000)" in line
               for line in snap.log)
    assert manager.models.get_active("tiny").name == "m3"
