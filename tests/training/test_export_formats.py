"""Export formats from Ultralytics' table, their options and packages, and the export service
over a fake backend (missing packages, INT8 drop, failures) — no export runs here."""

from __future__ import annotations

import importlib.metadata
import shutil
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from training_helpers import TINY

from yolo_studio.errors import StudioError, ValidationError
from yolo_studio.persistence.dataset_store import DatasetStore
from yolo_studio.persistence.model_artifacts import export_reports
from yolo_studio.persistence.model_store import ModelStore
from yolo_studio.training import export_packages
from yolo_studio.training.export_formats import ExportFormat, ExportOptions, formats_from_table
from yolo_studio.training.export_packages import (EXTRAS, INT8_PACKAGES, PACKAGES, missing,
                                                  missing_message)
from yolo_studio.training.evaluation import ValidationResult
from yolo_studio.training.model_service import ModelService

REPO = Path(__file__).resolve().parents[2]
OPENVINO = ExportFormat("openvino", "OpenVINO", "_openvino_model", True, False,
                        ("batch", "data", "dynamic", "quantize", "nms", "fraction"),
                        fp16=True, int8=True)
NCNN = ExportFormat("ncnn", "NCNN", "_ncnn_model", True, True, ("batch", "quantize"), "ncnn",
                    fp16=True)


@pytest.fixture(scope="module")
def formats() -> dict[str, ExportFormat]:
    from yolo_studio.training.ultralytics_export import read_formats

    return {f.key: f for f in read_formats()}


def test_the_formats_are_ultralytics_table_with_its_options(formats) -> None:
    from ultralytics.engine.exporter import export_formats

    assert list(formats) == list(export_formats()["Argument"][1:])  # PyTorch left out
    assert formats["openvino"] == OPENVINO and formats["ncnn"] == NCNN
    assert formats["onnx"].options(False) == ("imgsz", "batch", "dynamic", "simplify", "fp16",
                                              "int8", "max_drop")
    assert formats["ncnn"].options(False) == ("imgsz", "batch", "fp16")
    assert formats["torchscript"].precisions(False) == ("fp32",)  # FP16 TorchScript: GPU only
    assert formats["torchscript"].precisions(True) == ("fp32", "fp16")
    offered = [k for k, f in formats.items() if not f.unavailable(has_gpu=False)]
    assert {"torchscript", "onnx", "openvino", "ncnn", "coreml", "litert", "mnn", "paddle",
            "saved_model", "executorch"} <= set(offered) and "engine" not in offered
    assert "engine" in [k for k, f in formats.items() if not f.unavailable(has_gpu=True)]
    assert formats["engine"].device(has_gpu=True) == "0" and NCNN.device(True) == "cpu"
    assert "needs a CUDA GPU" in formats["engine"].unavailable(has_gpu=False)
    assert "own hardware" in formats["hailo"].unavailable(has_gpu=True)
    assert "environment of its own (isolated-imx)" in formats["imx"].unavailable(True)
    assert formats["coreml"].not_validated("linux") == "CoreML models run only on macOS"
    assert formats["coreml"].not_validated("darwin") == ""
    assert set(offered) | {"engine"} <= set(PACKAGES)  # every offered format's packages known


def test_a_table_without_a_needed_column_is_refused() -> None:
    with pytest.raises(ValidationError, match="no 'GPU' column"):
        formats_from_table({"Format": [], "Argument": [], "Suffix": [], "CPU": [],
                            "Arguments": []})


def test_options_are_checked_against_the_format() -> None:
    with pytest.raises(ValidationError, match="NCNN export does not take dynamic; it takes "
                                              "imgsz, batch, fp16"):
        ExportOptions(dynamic=True).checked(NCNN, False, 64)
    with pytest.raises(ValidationError, match="does not take turning simplify off"):
        ExportOptions(simplify=False).checked(NCNN, False, 64)
    with pytest.raises(ValidationError, match="int8"):
        ExportOptions(precision="int8").checked(NCNN, False, 64)
    with pytest.raises(ValidationError, match="imgsz must be a whole number"):
        ExportOptions(imgsz=0).checked(NCNN, False, 64)
    with pytest.raises(ValidationError, match="fraction between 0 and 1"):
        ExportOptions(precision="int8", max_drop=2).checked(OPENVINO, False, 64)
    assert ExportOptions().checked(NCNN, False, 64).imgsz == 64  # the training imgsz
    assert ExportOptions(imgsz=48).checked(NCNN, False, 64).imgsz == 64  # as Ultralytics does
    assert ExportOptions(max_drop=0.5).checked(NCNN, False, None).max_drop is None  # fp32
    int8 = ExportOptions(precision="int8", batch=2).checked(OPENVINO, False, 64)
    assert int8.max_drop == 0.02
    assert int8.export_kwargs(OPENVINO, "cpu", "d.yaml") == {
        "format": "openvino", "device": "cpu", "imgsz": 64, "batch": 2, "dynamic": False,
        "quantize": 8, "data": "d.yaml"}
    fp16 = ExportOptions(precision="fp16").checked(NCNN, False, 64)
    assert fp16.export_kwargs(NCNN, "cpu", "d.yaml") == {  # no argument NCNN does not list
        "format": "ncnn", "device": "cpu", "imgsz": 64, "batch": 1, "quantize": 16}
    assert ExportOptions.from_dict(int8.to_dict()) == int8


def test_a_blocked_import_is_named_with_the_exact_pip_command(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "openvino", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "nncf", None)
    lacking = missing("openvino", precision="int8")
    assert [(m.requirement, m.found) for m in lacking] == [
        ("openvino>=2024.0.0", "not installed"), ("nncf>=2.14.0", "not installed")]
    assert missing_message("OpenVINO", lacking, "openvino") == (
        "Exporting to OpenVINO needs Python packages that are missing here: openvino>=2024.0.0 "
        "(not installed); nncf>=2.14.0 (not installed). Install them with: pip install "
        "'openvino>=2024.0.0' 'nncf>=2.14.0' (or the studio's extra: pip install "
        "'yolo-studio[openvino]'), then export again. The studio never installs packages "
        "itself.")
    assert missing("torchscript") == []


def test_a_wrong_version_and_an_alternative_distribution(monkeypatch) -> None:
    real = importlib.metadata.version
    versions = {"pnnx": "20261020", "ncnn": "1.0"}

    def version(name: str) -> str:
        if name == "onnxruntime":
            raise importlib.metadata.PackageNotFoundError(name)
        return versions.get(name) or ("1.20.0" if name == "onnxruntime-gpu" else real(name))

    monkeypatch.setattr(export_packages.importlib.metadata, "version", version)
    monkeypatch.setattr(export_packages, "_importable", lambda module: True)
    assert [(m.requirement, m.found) for m in missing("ncnn")] == [
        ("pnnx==20260526", "20261020 is installed")]
    assert "onnxruntime" not in str(missing("onnx"))  # onnxruntime-gpu provides it


def test_the_pip_extras_install_what_the_studio_checks() -> None:
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]

    def normal(reqs):
        return {str(Requirement(r)) for r in reqs}

    for fmt, extra in EXTRAS.items():
        needed = normal(PACKAGES[fmt] + INT8_PACKAGES.get(fmt, ()))
        assert needed <= normal(extras[extra]), fmt
    assert set(EXTRAS) == set(PACKAGES) - {"torchscript"}
    dev = (REPO / "requirements-dev.txt").read_text()
    assert "-e .[dev,export,openvino,ncnn," in dev  # CI exports to these for real


class FakeBackend:
    """Exports by writing a folder; validates from a list of results, in call order."""

    def __init__(self, results: list[ValidationResult | Exception]) -> None:
        self.results = results
        self.exported: list[dict] = []

    def export_formats(self) -> list[ExportFormat]:
        return [OPENVINO, NCNN]

    def has_gpu(self) -> bool:
        return False

    def export(self, weights, fmt, options, device, data_yaml) -> Path:
        self.exported.append(options.export_kwargs(fmt, device, str(data_yaml)))
        folder = weights.parent / f"best_int8{fmt.suffix}"
        folder.mkdir()
        (folder / "best.xml").write_text("<net/>")
        return folder

    def evaluate(self, path, data_yaml, split, imgsz=None, device=None, **options):
        assert (split, options["rect"], Path(path).exists()) == ("val", False, True)
        result = self.results.pop(0)
        if isinstance(result, Exception):
            raise result
        return result


def _result(map50_95: float, ms: float) -> ValidationResult:
    return ValidationResult(precision=0.5, recall=0.4, map50=map50_95 + 0.2, map50_95=map50_95,
                            fitness=map50_95, instances=167, speed_ms={"inference": ms})


@pytest.fixture
def service(tmp_path) -> ModelService:
    shutil.copytree(TINY, tmp_path / "datasets" / "tiny")
    service = ModelService(ModelStore(tmp_path / "models"), DatasetStore(tmp_path / "datasets"))
    weights = tmp_path / "w.pt"
    weights.write_bytes(b"weights")
    service.models.save("tiny", "m", weights, {"imgsz": 64}, {}, {"best_map50": 0.5})
    return service


def test_an_int8_export_over_its_maximum_drop_is_kept_and_says_so(service) -> None:
    service._backend = FakeBackend([_result(0.40, 3.0), _result(0.50, 9.0)])
    report = service.export_model("tiny", "m", "openvino",
                                  ExportOptions(precision="int8", max_drop=0.05))
    assert service.backend.exported[0]["quantize"] == 8
    assert service.backend.exported[0]["data"].endswith("data.yaml")  # calibrated on val
    assert report.drop_exceeded and report.map_drop == pytest.approx(0.10)
    assert "drop 0.100 EXCEEDED the maximum 0.050" in report.summary()
    assert report.rows()[2] == ["difference", -0.1, -0.1, 0.0, 0.0, -6.0]
    kept = service.export_reports("tiny", "m")["openvino"]
    assert kept == report and kept.file == "weights/best_openvino_model"
    folder = service.models.get("tiny", "m").folder
    assert (folder / "weights" / "best_openvino_model" / "best.xml").is_file()
    assert service.download_file("tiny", "m", "openvino").name == "tiny-m_openvino_model.zip"
    service._backend = FakeBackend([_result(0.48, 3.0)])  # best.pt's validation is remembered
    again = service.export_model("tiny", "m", "openvino", ExportOptions(precision="int8"))
    assert not again.drop_exceeded  # 0.02 is not over the default maximum 0.02
    assert "drop 0.020 within the maximum 0.020" in again.summary()


def test_a_missing_package_stops_the_export_before_it_starts(service, monkeypatch) -> None:
    backend = service._backend = FakeBackend([])
    monkeypatch.setitem(sys.modules, "ncnn", None)
    with pytest.raises(StudioError, match=r"ncnn \(not installed\).*pip install ncnn"):
        service.export_model("tiny", "m", "ncnn")
    record = service.models.get("tiny", "m")
    assert backend.exported == [] and "exports" not in record.extra
    assert not list(record.folder.glob(".export-*"))
    with pytest.raises(ValidationError, match="not one of Ultralytics' formats; choose one "
                                              "of openvino, ncnn"):
        service.export_model("tiny", "m", "tflite")


def test_a_failed_validation_keeps_nothing(service) -> None:
    service._backend = FakeBackend([StudioError("Validating best.xml failed: boom")])
    with pytest.raises(StudioError, match="boom"):
        service.export_model("tiny", "m", "openvino")
    record = service.models.get("tiny", "m")
    assert "exports" not in record.extra and export_reports(record.folder) == {}
    assert not list(record.folder.glob(".export-*")) and not list(
        (record.folder / "weights").glob("best_*"))
