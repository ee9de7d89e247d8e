"""What the registry keeps about model quality: metric keys on save, the promote metric, kept
evaluations; and an older registry (schema_version 1 without these keys) still loads."""

from __future__ import annotations

import json
import shutil

import pytest

from yolo_studio.errors import NotFoundError, RegistryError, ValidationError
from yolo_studio.persistence import registry_metrics
from yolo_studio.persistence.model_store import ModelStore

INFO = {"base_model": "yolo11n.yaml", "epochs_completed": 2, "best_map50": 0.42,
        "dataset_snapshot": "28 images, 3 classes", "dataset_hash": "abc123"}


def _save(store, name, weights, **info):
    return store.save("bccd", name, weights, {"imgsz": 64}, {"final": None, "history": []},
                      {**INFO, **info})


def _registry(store) -> dict:
    return json.loads((store.models_dir / "bccd" / "registry.json").read_text())


def test_metric_keys_are_kept_and_checked_on_save(tmp_path, weights):
    store = ModelStore(tmp_path / "models")
    values = dict(map50_95=0.21, precision=0.5, recall=0.375, parameters=2590425,
                  inference_ms=12.5)
    record = _save(store, "m", weights, **values)
    assert {k: _registry(store)["models"]["m"][k] for k in values} == values
    assert record.extra == values
    for bad in (dict(map50_95=1.5), dict(precision=float("nan")), dict(recall="0.3"),
                dict(parameters=2.5), dict(parameters=True), dict(inference_ms=-1)):
        with pytest.raises(ValidationError, match=next(iter(bad))):
            _save(store, "bad", weights, **bad)
    assert list(_registry(store)["models"]) == ["m"]  # nothing written by a refusal
    assert not (store.models_dir / "bccd" / "models" / "bad").exists()


def test_promote_metric_defaults_to_fitness_is_kept_and_checked(tmp_path, weights):
    store = ModelStore(tmp_path / "models")
    _save(store, "m", weights)
    assert store.promote_metric("bccd") == "fitness"
    assert store.set_promote_metric("bccd", "map50_95") == "map50_95"
    assert ModelStore(tmp_path / "models").promote_metric("bccd") == "map50_95"
    assert _registry(store)["promote_metric"] == "map50_95"
    with pytest.raises(ValidationError, match="fitness, map50, map50_95, precision, recall"):
        store.set_promote_metric("bccd", "mAP")
    assert _registry(store)["promote_metric"] == "map50_95"
    data = _registry(store)
    data["promote_metric"] = "speed"  # e.g. written by a newer studio: read as the default
    (store.models_dir / "bccd" / "registry.json").write_text(json.dumps(data))
    assert store.promote_metric("bccd") == "fitness"


def test_evaluations_are_kept_with_the_model_and_fill_missing_numbers_only(tmp_path, weights,
                                                                          monkeypatch):
    store = ModelStore(tmp_path / "models")
    _save(store, "m", weights, parameters=100)
    assert store.evaluations("bccd", "m") == []
    rows = store.add_evaluation("bccd", "m", {"split": "test", "map50": 0.3},
                                fill={"parameters": 5, "inference_ms": 7.5})
    assert rows == [{"split": "test", "map50": 0.3}]
    entry = _registry(store)["models"]["m"]
    assert entry["parameters"] == 100 and entry["inference_ms"] == 7.5  # only what was missing
    monkeypatch.setattr(registry_metrics, "MAX_EVALUATIONS", 3)
    for i in range(4):
        store.add_evaluation("bccd", "m", {"split": "val", "n": i})
    assert [row.get("n") for row in store.evaluations("bccd", "m")] == [0, 1, 2, 3][-3:]
    renamed = store.rename("bccd", "m", "m2")  # the file moves with the model folder
    assert (renamed.folder / "evaluations.json").is_file()
    assert len(store.evaluations("bccd", "m2")) == 3
    with pytest.raises(NotFoundError):
        store.add_evaluation("bccd", "m", {"split": "val"})
    with pytest.raises(ValidationError, match="plain JSON"):
        store.add_evaluation("bccd", "m2", {"map50": float("nan")})
    (renamed.folder / "evaluations.json").write_text("{not json")
    with pytest.raises(RegistryError, match="move the file away"):
        store.add_evaluation("bccd", "m2", {"split": "val"})
    assert (renamed.folder / "evaluations.json").read_text() == "{not json"  # left as it was


def test_a_registry_written_before_these_keys_still_loads(tmp_path, weights):
    """A schema_version 1 registry.json as older studios wrote it (no metric keys, no
    promote_metric, a model without metrics.json) lists, sorts and takes evaluations."""
    from yolo_studio.training.model_metrics import registry_view

    store = ModelStore(tmp_path / "models")
    _save(store, "old", weights)
    _save(store, "older", weights)
    folder = store.models_dir / "bccd"
    (folder / "models" / "old" / "metrics.json").write_text(json.dumps(
        {"final": {"epoch": 2, "map50": 0.42, "map50_95": 0.2, "precision": 0.6,
                   "recall": 0.5}, "history": []}))
    (folder / "models" / "older" / "metrics.json").unlink()
    data = _registry(store)
    data.pop("promote_metric", None)
    for entry in data["models"].values():
        for key in ("map50_95", "precision", "recall", "parameters", "inference_ms"):
            entry.pop(key, None)
    (folder / "registry.json").write_text(json.dumps(data))
    shutil.copy(folder / "registry.json", tmp_path / "before.json")
    view = registry_view(ModelStore(tmp_path / "models"), "bccd", "map50_95")
    assert [r.name for r in view.records] == ["old", "older"]
    old, older = view.metrics["old"], view.metrics["older"]
    assert (old.map50_95, old.precision, old.recall, old.source) == (0.2, 0.6, 0.5,
                                                                    "metrics.json")
    assert older.map50_95 is None and older.map50 == 0.42 and older.parameters is None
    assert view.promote_metric == "fitness" and view.best == "old"
    assert (folder / "registry.json").read_text() == (tmp_path / "before.json").read_text()
