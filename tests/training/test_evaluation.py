"""Evaluating registered models without Ultralytics: the checks before a validation (split,
classes, imgsz), what is kept with the model, and the class-name comparison."""

from __future__ import annotations

import shutil

import pytest
from training_helpers import TINY

from yolo_studio.config import TrainingConfig
from yolo_studio.errors import ValidationError
from yolo_studio.persistence.dataset_store import DatasetStore
from yolo_studio.persistence.model_store import ModelStore
from yolo_studio.training.evaluation import Evaluation, class_mismatch
from yolo_studio.training.model_service import ModelService

from training_helpers import NAMES, FakeValBackend


@pytest.fixture
def service(tmp_path) -> ModelService:
    for name in ("tiny", "copy"):
        shutil.copytree(TINY, tmp_path / "datasets" / name)
    service = ModelService(ModelStore(tmp_path / "models"), DatasetStore(tmp_path / "datasets"),
                           backend=FakeValBackend())
    weights = tmp_path / "best.pt"
    weights.write_bytes(b"weights")
    config = TrainingConfig(dataset="tiny", imgsz=96, model_name="m").to_dict()
    service.models.save("tiny", "m", weights, config, {"final": None}, {
        "base_model": "yolo11n.yaml", "epochs_completed": 1, "best_map50": 0.3,
        "map50_95": 0.1, "precision": 0.2, "recall": 0.3, "parameters": None,
        "inference_ms": None})
    service.set_active("tiny", "m")
    return service


def test_class_mismatch_names_the_difference() -> None:
    assert class_mismatch(NAMES, list(NAMES), "d") is None
    assert class_mismatch(NAMES, ("RBC", "Platelets", "WBC"), "d") == (
        "class 1 is 'WBC' in the model but 'Platelets' in dataset 'd'; class 2 is 'Platelets' "
        "in the model but 'WBC' in dataset 'd'")
    assert class_mismatch(NAMES, ("RBC", "WBC"), "d") == (
        "the model detects 3 classes (RBC, WBC, Platelets) but dataset 'd' names 2 (RBC, WBC)")
    many = class_mismatch(tuple("abcdefg"), tuple("ABCDEFG"), "d")
    assert many.endswith("(and 2 more)") and many.count("class ") == 5


def test_an_evaluation_is_kept_with_the_model(service) -> None:
    evaluation = service.evaluate_model("tiny", "m", "val", on_dataset="copy")
    split, imgsz, device, data = service.backend.calls[-1]
    assert (split, imgsz, device) == ("val", 96, None)  # the training size by default
    assert data["names"] == dict(enumerate(NAMES))
    assert (evaluation.dataset, evaluation.images, evaluation.model) == ("copy", 8, "m")
    assert evaluation.dataset_hash == service.datasets.get("copy").content_hash
    service.evaluate_model("tiny", None, "val", imgsz=64, device=" CPU ")  # the active model
    kept = service.evaluations("tiny", "m")
    assert [e.dataset for e in kept] == ["tiny", "copy"]  # newest first
    assert kept[0].imgsz == 64 and service.backend.calls[-1][1:3] == (64, "cpu")
    assert Evaluation.from_dict(kept[1].to_dict()) == kept[1] == evaluation
    entry = service.models.get("tiny", "m").extra
    assert entry["parameters"] == 1234 and entry["inference_ms"] == 3.5  # were null


def test_refusals_name_the_problem_and_keep_nothing(service) -> None:
    with pytest.raises(ValidationError, match=r"no test images \(its data.yaml names train "
                                              r"\(20\), val \(8\)\)"):
        service.evaluate_model("tiny", "m", "test")
    with pytest.raises(ValidationError, match="Evaluate on val or test, not 'train'"):
        service.evaluate_model("tiny", "m", "train")
    with pytest.raises(ValidationError, match="positive number of pixels"):
        service.evaluate_model("tiny", "m", "val", imgsz=-3)
    service.backend.names = ("RBC", "Platelets", "WBC")
    with pytest.raises(ValidationError, match="class 1 is 'Platelets' in the model but 'WBC' "
                                              "in dataset 'copy'.*same classes in the same "
                                              "order"):
        service.evaluate_model("tiny", "m", "val", on_dataset="copy")
    assert service.backend.calls == [] and service.evaluations("tiny", "m") == []
