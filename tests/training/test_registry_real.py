"""The model registry on a REAL trained model (tests/conftest.py trains it once per session):
what registration keeps, inspect, predict (against bare Ultralytics); exports: test_exports_real."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from yolo_studio.errors import NotFoundError, ValidationError
from yolo_studio.persistence.dataset_store import DatasetStore
from yolo_studio.persistence.model_artifacts import PLOT_FILES
from yolo_studio.persistence.model_store import ModelStore
from yolo_studio.training.model_service import ModelService
from yolo_studio.training.results import parse_results_csv
from yolo_studio.training.ultralytics_backend import UltralyticsBackend

pytestmark = pytest.mark.slow


@pytest.fixture
def service(real_model):
    settings = real_model.settings()
    return ModelService(ModelStore(settings.models_dir), DatasetStore(settings.datasets_dir),
                        UltralyticsBackend())


def _val_instances(dataset_folder: Path) -> dict[int, int]:
    counts: dict[int, int] = {}
    for label in (dataset_folder / "labels" / "val").glob("*.txt"):
        for line in label.read_text().split("\n"):
            if line.strip():
                cls = int(line.split()[0])
                counts[cls] = counts.get(cls, 0) + 1
    return counts


def test_real_training_registered_what_ultralytics_measured(real_model, service):
    """The shared real run (2 epochs through TrainingManager): the registered per-epoch
    history (from the callbacks) matches the results.csv Ultralytics wrote, value by value."""
    ds, name = real_model.dataset, real_model.name
    record = service.models.get(ds, name)
    assert record.active and record.weights_path.is_file() and record.epochs_completed == 2
    metrics = service.models.load_metrics(ds, name)
    assert metrics["batch_used"] == 8 and metrics["final"] is not None
    live = metrics["history"]
    assert [m["epoch"] for m in live] == [1, 2] and live[1]["lr"] is not None
    parsed = parse_results_csv(record.folder / "results.csv")
    assert [m.epoch for m in parsed] == [1, 2]
    for row, csv in zip(live, parsed):
        assert csv.map50 == pytest.approx(row["map50"], abs=1e-5)
        assert csv.train_box_loss == pytest.approx(row["train_box_loss"], rel=1e-4)
        assert csv.val_cls_loss == pytest.approx(row["val_cls_loss"], rel=1e-4)


def test_registration_keeps_plots_results_and_per_class_metrics(real_model, service):
    ds, name = real_model.dataset, real_model.name
    plots = service.models.plots(ds, name)
    kept = [p.name for p in plots]
    assert kept[:2] == ["confusion_matrix.png", "confusion_matrix_normalized.png"]
    assert {"BoxPR_curve.png", "val_batch0_pred.jpg", "results.png"} <= set(kept)
    validation = [n for n in PLOT_FILES if n in kept]  # display order, then the mosaics
    assert kept == validation + [f"train_batch{i}.jpg" for i in range(3)]
    assert all(p.stat().st_size > 1000 and p.parent.name == "plots" for p in plots)
    record = service.models.get(ds, name)
    assert (record.folder / "results.csv").read_text().startswith("epoch")
    per_class = service.models.load_metrics(ds, name)["per_class"]
    dataset = service.datasets.get(ds)
    expected = _val_instances(dataset.folder)
    assert {r["class_id"]: r["instances"] for r in per_class} == expected
    for row in per_class:
        assert row["class"] == dataset.class_names[row["class_id"]]
        for key in ("precision", "recall", "map50", "map50_95"):
            assert 0.0 <= row[key] <= 1.0


def test_model_details_history_final_plots_and_dataset_change(real_model, service):
    ds, name = real_model.dataset, real_model.name
    details = service.model_details(ds, name)
    assert details.record.active and [m.epoch for m in details.history] == [1, 2]
    assert details.config["imgsz"] == 64 and details.config["base_model"] == "yolo11n.yaml"
    assert details.final is not None and len(details.per_class) == 3
    assert details.plots == tuple(service.models.plots(ds, name))
    assert not details.dataset_changed and details.dataset_message == ""
    label = sorted((service.datasets.get(ds).folder / "labels" / "val").glob("*.txt"))[0]
    label.write_text(label.read_text() + "0 0.5 0.5 0.1 0.1\n")
    changed = service.model_details(ds, name)
    assert changed.dataset_changed and "has changed since" in changed.dataset_message


def test_history_falls_back_to_the_kept_results_csv(real_model, service):
    ds, name = real_model.dataset, real_model.name
    from_json = service.model_details(ds, name).history
    metrics_file = service.models.get(ds, name).folder / "metrics.json"
    metrics_file.write_text('{"final": null, "history": []}')
    from_csv = service.model_details(ds, name).history
    assert [m.epoch for m in from_csv] == [1, 2]
    for a, b in zip(from_json, from_csv):
        assert b.train_box_loss == pytest.approx(a.train_box_loss, rel=1e-4)


def test_predict_matches_bare_ultralytics_and_draws_in_rgb(real_model, service):
    from ultralytics import YOLO

    ds = real_model.dataset
    images = service.sample_images(ds, "val", limit=3)
    assert len(images) == 3 and all(p.parent.name == "val" for p in images)
    bare = YOLO(str(service.models.get(ds, real_model.name).weights_path))
    for image in images:
        result = service.predict(ds, None, image, conf=0.001, iou=0.7)  # None: the active one
        expected = bare.predict(str(image), conf=0.001, iou=0.7, verbose=False)[0]
        assert result.model == real_model.name and result.inference_ms > 0
        assert len(result.detections) == len(expected.boxes)
        want = sorted(expected.boxes.xyxy.tolist())
        got = sorted([d.x1, d.y1, d.x2, d.y2] for d in result.detections)
        assert np.allclose(got, want, atol=0.5)
        width, height = Image.open(image).size
        assert result.image.shape == (height, width, 3) and result.image.dtype == np.uint8
        for d in result.detections:
            assert d.confidence >= 0.001 and d.class_name in ("RBC", "WBC", "Platelets")
            assert 0 <= d.x1 <= d.x2 <= width and 0 <= d.y1 <= d.y2 <= height
    assert sum(len(service.predict(ds, None, p, conf=0.001).detections) for p in images) > 0
    # nothing drawn at conf 1.0: the image comes back as the original, in RGB order
    plain = service.predict(ds, real_model.name, images[0], conf=1.0)
    original = np.asarray(Image.open(images[0]).convert("RGB"), dtype=np.int16)
    assert plain.detections == ()
    assert np.abs(plain.image - original).mean() < 3
    assert np.abs(plain.image[..., ::-1] - original).mean() > 3 * np.abs(plain.image - original).mean()


def test_predict_reuses_the_loaded_model_until_the_weights_change(real_model):
    from ultralytics import YOLO

    loads: list[str] = []

    def counting(path):
        loads.append(path)
        return YOLO(path)

    settings = real_model.settings()
    service = ModelService(ModelStore(settings.models_dir), DatasetStore(settings.datasets_dir),
                           UltralyticsBackend(model_factory=counting))
    image = service.sample_images(real_model.dataset, limit=1)[0]
    for _ in range(3):
        service.predict(real_model.dataset, real_model.name, image)
    assert len(loads) == 1
    weights = service.models.get(real_model.dataset, real_model.name).weights_path
    stat = weights.stat()
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    service.predict(real_model.dataset, real_model.name, image)
    assert len(loads) == 2


def test_predict_errors_are_clear(real_model, service, tmp_path):
    ds, name = real_model.dataset, real_model.name
    image = service.sample_images(ds, limit=1)[0]
    with pytest.raises(NotFoundError, match="does not exist"):
        service.predict(ds, name, tmp_path / "nope.jpg")
    with pytest.raises(ValidationError, match="between 0 and 1"):
        service.predict(ds, name, image, conf=25)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    with pytest.raises(ValidationError, match="image"):
        service.predict(ds, name, broken)
    with pytest.raises(NotFoundError, match="nope"):
        service.predict(ds, "nope", image)
    service.models.rename(ds, name, "renamed")  # still active under its new name
    assert service.predict(ds, None, image).model == "renamed"


def test_predict_accepts_an_rgb_array(real_model, service):
    ds = real_model.dataset
    image = service.sample_images(ds, limit=1)[0]
    from_path = service.predict(ds, None, image, conf=0.001)
    array = np.asarray(Image.open(image).convert("RGB"))
    from_array = service.predict(ds, None, array, conf=0.001)
    assert len(from_array.detections) == len(from_path.detections)
    assert from_array.image.shape == from_path.image.shape


