"""REAL CPU exports of the session's trained model (tests/conftest.py) to ONNX, TorchScript,
OpenVINO and NCNN, each validated with its own runtime on bccd-tiny's val split against
best.pt; one export per format for the whole module."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from yolo_studio.errors import StudioError
from yolo_studio.training.export_formats import ExportOptions
from yolo_studio.training.export_report import ExportReport
from yolo_studio.training.model_service import ModelService

pytestmark = pytest.mark.slow

#: Format -> (file or folder beside best.pt, a file in it, the runtime module that ran it).
FORMATS = {"onnx": ("best.onnx", None, "onnxruntime"),
           "torchscript": ("best.torchscript", None, "torch"),
           "openvino": ("best_openvino_model", "best.xml", "openvino"),
           "ncnn": ("best_ncnn_model", "model.ncnn.param", "ncnn")}


@pytest.fixture(scope="module")
def exported(trained_model_root, tmp_path_factory) -> tuple[ModelService, dict[str, Any]]:
    """A copy of the trained root whose model ``real`` was exported to each of ``FORMATS``."""
    from yolo_studio.persistence.dataset_store import DatasetStore
    from yolo_studio.persistence.model_store import ModelStore

    root = tmp_path_factory.mktemp("exports") / "root"
    for part in ("datasets", "models"):
        shutil.copytree(trained_model_root.root / part, root / part)
    service = ModelService(ModelStore(root / "models"), DatasetStore(root / "datasets"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("YOLO_OFFLINE", "1")
        reports = {fmt: service.export_model("tiny", "real", fmt) for fmt in FORMATS}
    return service, reports


def _val_split() -> tuple[int, int]:
    """(images, labelled boxes) of the val split, counted from the dataset's files."""
    from dataset_files import TINY

    labels = sorted((TINY / "labels" / "val").glob("*.txt"))
    boxes = sum(len([l for l in p.read_text().splitlines() if l.strip()]) for p in labels)
    return len(list((TINY / "images" / "val").glob("*.jpg"))), boxes


def test_each_export_is_kept_beside_best_pt_with_its_report(exported) -> None:
    service, reports = exported
    record = service.models.get("tiny", "real")
    weights = record.folder / "weights"
    assert record.extra["exports"] == {fmt: f"weights/{name}" for fmt, (name, _, _)
                                       in FORMATS.items()}
    for fmt, (name, inner, _) in FORMATS.items():
        path = service.weights_path("tiny", "real", fmt)
        assert path == weights / name and (path / inner if inner else path).is_file()
    assert service.export_reports("tiny", "real") == reports
    assert not list(record.folder.glob(".export-*"))  # work folders are gone
    assert service.download_file("tiny", "real", "ncnn").name == "tiny-real_ncnn_model.zip"


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_export_validates_on_val_with_its_runtime_like_best_pt(exported, fmt) -> None:
    report: ExportReport = exported[1][fmt]
    images, boxes = _val_split()
    assert report.options["imgsz"] == 64 and report.device == "cpu"  # the training imgsz
    assert report.not_validated == ""
    assert FORMATS[fmt][2] in sys.modules  # its own runtime was loaded to run it
    assert report.images == images
    for result in (report.exported, report.baseline):
        assert result.instances == boxes and result.speed_ms["inference"] > 0
        assert 0 <= result.map50_95 <= result.map50 <= 1
    assert abs(report.map_drop) <= 0.01  # FP32: the export computes what best.pt does
    assert report.rows()[0][0] == "best.pt" and report.rows()[2][0] == "difference"
    assert f"vs best.pt {report.baseline.map50_95:.3f}" in report.summary()


@pytest.mark.parametrize("fmt", ["openvino", "ncnn"])
def test_the_export_predicts_what_best_pt_predicts(exported, fmt) -> None:
    """Highest confidences on a val image agree (the model is barely trained: few boxes)."""
    from ultralytics import YOLO

    service, _ = exported
    image = str(service.sample_images("tiny", limit=1)[0])

    def top(path: Path) -> list[float]:
        result = YOLO(str(path), task="detect").predict(image, conf=0.001, imgsz=64,
                                                        verbose=False)[0]
        return sorted(result.boxes.conf.tolist(), reverse=True)[:3]

    best = top(service.weights_path("tiny", "real"))
    assert best and top(service.weights_path("tiny", "real", fmt)) == pytest.approx(
        best, abs=1e-3)


def test_a_missing_package_is_named_before_ultralytics_runs(exported, monkeypatch) -> None:
    service, _ = exported
    calls = []
    monkeypatch.setattr(service.backend, "export", lambda *a, **k: calls.append(a))
    monkeypatch.setitem(sys.modules, "pnnx", None)  # as if not installed
    with pytest.raises(StudioError, match=r"pnnx==20260526 \(not installed\).*pip install "
                                          r"pnnx==20260526.*yolo-studio\[ncnn\]"):
        service.export_model("tiny", "real", "ncnn", ExportOptions(imgsz=32))
    assert calls == []
    assert service.export_reports("tiny", "real")["ncnn"].options["imgsz"] == 64  # unchanged


def test_ultralytics_own_import_failure_becomes_the_same_message(exported, tmp_path,
                                                                 monkeypatch) -> None:
    """Without the studio's check, Ultralytics (auto-install off) fails on ``import openvino``
    halfway through the export; the backend names the package and installs nothing."""
    from ultralytics.utils import checks

    service, _ = exported
    fmt = {f.key: f for f in service.export_formats()}["openvino"]
    weights = tmp_path / "best.pt"
    shutil.copyfile(service.weights_path("tiny", "real"), weights)
    monkeypatch.setitem(sys.modules, "openvino", None)
    with pytest.raises(StudioError, match=r"openvino \(not installed\).*pip install openvino"):
        service.backend.export(weights, fmt, ExportOptions(imgsz=64), "cpu", Path("x.yaml"))
    assert checks.AUTOINSTALL is False
