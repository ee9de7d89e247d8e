"""ModelService and its pure helpers without real weights: manage, compare, auto-promote, the
model cache, prediction/result helpers, per-class extraction (exports: test_export_*.py)."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from training_helpers import TINY

from yolo_studio.config import TrainingConfig
from yolo_studio.errors import NotFoundError, RegistryError, ValidationError
from yolo_studio.persistence.dataset_store import DatasetStore
from yolo_studio.persistence.model_store import ModelStore
from yolo_studio.training.inference import (Detection, ModelCache, PredictionResult,
                                            check_thresholds, detections_from_result)
from yolo_studio.training.model_service import ModelService
from yolo_studio.training.results import per_class_metrics
from yolo_studio.training.registration import maybe_auto_promote


@pytest.fixture
def service(tmp_path) -> ModelService:
    datasets = DatasetStore(tmp_path / "datasets")
    shutil.copytree(TINY, tmp_path / "datasets" / "tiny")
    return ModelService(ModelStore(tmp_path / "models"), datasets)


def _save(service, name, best, lr0=0.001, dataset_hash=None, history=(), **metrics):
    weights = service.models.models_dir.parent / "w.pt"
    weights.write_bytes(b"weights")
    config = TrainingConfig(dataset="tiny", base_model="yolo11n.yaml", lr0=lr0,
                            model_name=name).to_dict()
    info = dict(base_model="yolo11n.yaml", epochs_completed=len(history), best_map50=best,
                dataset_snapshot="28 images, 3 classes",
                dataset_hash=service.datasets.get("tiny").content_hash
                if dataset_hash is None else dataset_hash, **metrics)
    files = {"final": {"epoch": 2, "map50": best}, "history": list(history)}
    return service.models.save("tiny", name, weights, config, files, info)


def test_rename_notes_tags_set_active_rollback_delete(service):
    _save(service, "a", 0.1)
    _save(service, "b", 0.2)
    service.set_active("tiny", "a")
    service.set_active("tiny", "b")
    assert service.rollback_active("tiny").name == "a"
    renamed = service.rename_model("tiny", "a", "a2")
    assert renamed.active and service.models.get_active("tiny").name == "a2"
    record = service.update_model_info("tiny", "b", notes="try me", tags="baseline, v2, ,v2")
    assert record.notes == "try me" and record.tags == ("baseline", "v2")
    assert service.update_model_info("tiny", "b", tags="").tags == ()
    assert service.rollback_active("tiny").name == "b"  # previous_active followed the rename
    with pytest.raises(RegistryError, match="active"):
        service.delete_model("tiny", "b")
    service.delete_model("tiny", "a2")
    service.delete_model("tiny", "b", allow_active=True)
    assert service.models.list("tiny") == []


def test_resolve_and_weights_path(service):
    with pytest.raises(NotFoundError, match="no active model"):
        service.resolve("tiny", None)
    record = _save(service, "a", 0.1)
    service.set_active("tiny", "a")
    assert service.weights_path("tiny", None) == record.weights_path
    with pytest.raises(NotFoundError, match="no onnx export"):
        service.weights_path("tiny", "a", "onnx")
    record.weights_path.unlink()
    with pytest.raises(RegistryError, match="no weights file"):
        service.resolve("tiny", "a")
    with pytest.raises(ValidationError, match="Choose an image"):
        service.predict("tiny", "a", None)


def test_compare_models_histories_and_config_differences(service):
    history = [{"epoch": 1, "map50": 0.1}, {"epoch": 2, "map50": 0.2}]
    _save(service, "a", 0.2, lr0=0.001, history=history)
    _save(service, "b", 0.3, lr0=0.01, history=history[:1])
    result = service.compare_models("tiny", ["a", "b", "a"])
    assert result.names == ("a", "b")
    assert [m.map50 for m in result.histories["a"]] == [0.1, 0.2]
    assert len(result.histories["b"]) == 1 and result.finals["b"].map50 == 0.3
    rows = {row.field: row for row in result.config_rows}
    assert rows["lr0"].values == (0.001, 0.01) and rows["lr0"].differs
    assert not rows["imgsz"].differs and rows["best_map50"].differs
    assert "model_name" not in rows and "notes" not in rows
    table = result.table()
    assert {"field": "lr0", "a": 0.001, "b": 0.01, "differs": "≠"} in table
    assert [row.field for row in result.config_rows].count("base_model") == 1
    with pytest.raises(ValidationError, match="at least two"):
        service.compare_models("tiny", ["a"])
    with pytest.raises(NotFoundError):
        service.compare_models("tiny", ["a", "zzz"])


def test_details_without_metrics_and_with_the_dataset_gone(service):
    record = _save(service, "a", 0.1)
    (record.folder / "metrics.json").unlink()
    details = service.model_details("tiny", "a")
    assert details.history == () and details.final is None and details.per_class == ()
    assert not details.dataset_changed
    shutil.rmtree(service.datasets.datasets_dir / "tiny")
    gone = service.model_details("tiny", "a")
    assert gone.dataset_changed and "cannot be read" in gone.dataset_message


def test_auto_promote_beats_by_the_promote_metric_on_the_same_dataset_content(service):
    lines: list[str] = []
    first = _save(service, "a", 0.30, map50_95=0.20)
    assert maybe_auto_promote(service.models, first, lines.append).active  # none was active
    # a higher mAP50 but a lower mAP50-95: Ultralytics' fitness (the default) says worse
    worse = maybe_auto_promote(service.models, _save(service, "b", 0.40, map50_95=0.10),
                               lines.append)
    assert not worse.active and "fitness 0.1000) does not beat" in lines[-1]
    other = maybe_auto_promote(service.models, _save(service, "c", 0.9, dataset_hash="x",
                                                     map50_95=0.9), lines.append)
    assert not other.active and "different dataset content" in lines[-1]
    old_entry = maybe_auto_promote(service.models, _save(service, "e", 0.99), lines.append)
    assert not old_entry.active and "(fitness n/a) does not beat" in lines[-1]
    service.models.set_promote_metric("tiny", "map50")
    better = maybe_auto_promote(service.models, _save(service, "d", 0.35, map50_95=0.05),
                                lines.append)
    assert better.active and "(mAP50 0.3500) beats a (mAP50 0.3000)" in lines[-1]
    assert service.rollback_active("tiny").name == "a"


def test_model_cache_is_an_lru_keyed_by_file_version(tmp_path):
    loads: list[str] = []
    cache = ModelCache(lambda p: loads.append(p) or object(), size=2)
    files = [tmp_path / f"{i}.pt" for i in range(3)]
    for f in files:
        f.write_bytes(b"x")
    a1, _ = cache.get(files[0])
    assert cache.get(files[0])[0] is a1 and len(loads) == 1
    cache.get(files[1])
    cache.get(files[0])  # most recent: files[1] is evicted next
    cache.get(files[2])
    assert len(cache) == 2 and len(loads) == 3
    cache.get(files[0])
    assert len(loads) == 3
    cache.get(files[1])
    assert len(loads) == 4
    files[0].write_bytes(b"changed")  # a new version replaces the old entry
    assert cache.get(files[0])[0] is not a1 and len(cache) == 2
    with pytest.raises(FileNotFoundError):
        cache.get(tmp_path / "missing.pt")


def test_thresholds_rows_summary_and_detections_from_a_result():
    check_thresholds(0.25, 0.7, None)
    for bad in (dict(conf=1.5, iou=0.7, imgsz=None), dict(conf=0.2, iou=-1, imgsz=None),
                dict(conf=0.2, iou=0.5, imgsz=0), dict(conf=True, iou=0.5, imgsz=None)):
        with pytest.raises(ValidationError):
            check_thresholds(**bad)
    boxes = SimpleNamespace(cls=np.array([1.0, 0.0]), conf=np.array([0.4, 0.9]),
                            xyxy=np.array([[1, 2, 3, 4], [10, 20, 30, 40.25]]))
    result = SimpleNamespace(boxes=_Boxes(boxes), names={0: "RBC", 1: "WBC"})
    found = detections_from_result(result)
    assert [d.class_name for d in found] == ["RBC", "WBC"]  # highest confidence first
    assert found[0] == Detection("RBC", 0.9, 10, 20, 30, 40.25, class_id=0)
    assert found[0].to_row() == {"class": "RBC", "confidence": 0.9, "x1": 10.0, "y1": 20.0,
                                 "x2": 30.0, "y2": 40.2}
    pred = PredictionResult(image=None, detections=found, inference_ms=9.26)
    assert pred.summary() == "2 detections (1 RBC, 1 WBC) in 9.3 ms"
    assert PredictionResult(None, (), 1.0).summary() == "0 detections in 1.0 ms"
    assert detections_from_result(SimpleNamespace(boxes=None)) == ()


class _Boxes:
    def __init__(self, ns):
        self.cls, self.conf, self.xyxy = ns.cls, ns.conf, ns.xyxy

    def __len__(self):
        return len(self.cls)


def test_per_class_metrics_from_the_validator():
    box = SimpleNamespace(ap_class_index=np.array([0, 2]), p=np.array([0.5, 0.25]),
                          r=np.array([0.4, 0.2]), ap50=np.array([0.3, 0.1]),
                          ap=np.array([0.2, 0.05]))
    metrics = SimpleNamespace(box=box, names={0: "RBC", 1: "WBC", 2: "Platelets"},
                              nt_per_class=np.array([100, 0, 7]),
                              nt_per_image=np.array([8, 0, 5]))
    rows = per_class_metrics(SimpleNamespace(validator=SimpleNamespace(metrics=metrics)))
    assert rows == ({"class": "RBC", "class_id": 0, "images": 8, "instances": 100,
                     "precision": 0.5, "recall": 0.4, "map50": 0.3, "map50_95": 0.2},
                    {"class": "Platelets", "class_id": 2, "images": 5, "instances": 7,
                     "precision": 0.25, "recall": 0.2, "map50": 0.1, "map50_95": 0.05})
    assert per_class_metrics(SimpleNamespace()) == ()


def test_manager_auto_promote_setting_logs_its_decision(make_manager):
    from training_helpers import WAIT_S, fake_config

    manager = make_manager(auto_promote=True)
    assert manager.registry.models is manager.models
    manager.wait_for_job(manager.start_training(fake_config(model_name="m1")), WAIT_S)
    snap = manager.wait_for_job(manager.start_training(fake_config(model_name="m2")), WAIT_S)
    assert any(line.startswith("Auto-promote: m2") for line in snap.log)
    assert manager.models.get_active("tiny").name == "m1"  # equal mAP50 does not beat it
    assert Path(manager.models.get("tiny", "m2").folder / "results.csv").is_file()


def test_downloads_are_named_after_dataset_and_model(service):
    """Every download was called best.pt or best.onnx."""
    record = _save(service, "a", 0.1)
    path = service.download_file("tiny", "a")
    assert path.name == "tiny-a.pt" and path.read_bytes() == b"weights"
    assert path.stat().st_ino == record.weights_path.stat().st_ino  # a link, not a copy
    onnx = record.folder / "weights" / "best.onnx"
    onnx.write_bytes(b"onnx")
    service.models.add_export("tiny", "a", "onnx", onnx, "best.onnx")
    assert service.download_file("tiny", "a", "onnx").name == "tiny-a.onnx"
    service.rename_model("tiny", "a", "b")
    renamed = service.download_file("tiny", "b")
    assert renamed.name == "tiny-b.pt" and [p.name for p in renamed.parent.iterdir()] == [
        "tiny-b.pt"]
    assert [p.name for p in service.models.plots("tiny", "b")] == []
