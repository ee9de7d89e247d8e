"""The pure table/text builders of the Models tab."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from yolo_studio.training.evaluation import ValidationResult
from yolo_studio.training.export_report import ExportReport
from yolo_studio.training.inference import Detection, PredictionResult
from yolo_studio.training.model_details import ConfigDiffRow, ModelComparison
from yolo_studio.training.snapshot import EpochMetrics
from yolo_studio.ui import model_tables as tables


def _comparison() -> ModelComparison:
    rows = (ConfigDiffRow("base_model", ("yolo11n.yaml", "yolo11n.yaml"), False),
            ConfigDiffRow("epochs", (2, 5), True),
            ConfigDiffRow("lr0", (0.01, None), True),
            ConfigDiffRow("base_model", ("yolo11n.yaml", "yolo11n.yaml"), False))
    return ModelComparison(names=("a", "b"), histories={"a": (), "b": ()},
                           finals={"a": EpochMetrics(epoch=3, map50=0.5, map50_95=0.25),
                                   "b": None},
                           config_rows=rows)


def test_show_value() -> None:
    assert tables.show_value(None) == "—"
    assert tables.show_value(0.1 + 0.2) == "0.3"
    assert tables.show_value([1, "x", None]) == "1, x, —"
    assert tables.show_value(True) == "True" and tables.show_value(64) == "64"


def test_config_and_per_class_rows() -> None:
    assert tables.config_rows({"epochs": 2, "batch": 0.5, "device": None}) == [
        ["epochs", "2"], ["batch", "0.5"], ["device", "—"]]
    rows = tables.per_class_rows([{"class": "RBC", "images": 8, "instances": 90,
                                   "precision": 0.51234, "recall": None, "map50": 0.2,
                                   "map50_95": 0.05}])
    assert rows == [["RBC", 8, 90, "0.512", "—", "0.200", "0.050"]]
    assert len(rows[0]) == len(tables.PER_CLASS_HEADERS)


def test_comparison_frame_marks_and_highlights_differing_rows() -> None:
    frame = tables.comparison_frame(_comparison())
    assert list(frame.columns) == [tables.COMPARE_FIELD, "a", "b", tables.COMPARE_DIFFERS]
    assert frame[tables.COMPARE_DIFFERS].tolist() == ["", "≠", "≠"]  # base_model once
    assert frame.iloc[2].tolist() == ["lr0", "0.01", "—", "≠"]
    ctx = tables.styled_comparison(_comparison())._compute().ctx  # (row, col) -> CSS pairs
    styled_rows = {row for (row, _), css in ctx.items()
                   if ("background-color", "#ffe9a8") in css}
    assert styled_rows == {1, 2}  # the differing rows, not the equal one
    assert all(len([k for k in ctx if k[0] == row]) == 4 for row in styled_rows)


def test_comparison_summary_names_models_and_differences() -> None:
    text = tables.comparison_summary(_comparison())
    assert "**a**: mAP50 0.500, mAP50-95 0.250" in text and "**b**: no final metrics" in text
    assert "2 setting(s) differ: epochs, lr0" in text


def test_comparison_values_are_rounded() -> None:
    """Config values were shown unrounded (best_map50 0.51234567, lr0 0.00123456789)."""
    rows = (ConfigDiffRow("best_map50", (0.51234567, None), True),
            ConfigDiffRow("lr0", (0.00123456789, 0.01), True))
    comparison = ModelComparison(names=("a", "b"), histories={}, finals={}, config_rows=rows)
    frame = tables.comparison_frame(comparison)
    assert frame.iloc[0].tolist() == ["best_map50", "0.512", "—", "≠"]
    assert frame.iloc[1].tolist() == ["lr0", "0.001235", "0.01", "≠"]


def test_details_markdown_and_dataset_warning(tmp_path) -> None:
    onnx = tmp_path / "best.onnx"
    onnx.write_bytes(b"x" * 2_500_000)
    record = SimpleNamespace(name="m1", active=True, created="2025-01-31T12:00:00.123+00:00",
                             base_model="yolo11n.yaml", epochs_completed=2, best_map50=None,
                             dataset="tiny", dataset_snapshot="28 images, 3 classes",
                             tags=["baseline", "cpu"], notes="first try: *.pt\n# not a title")
    folder = tmp_path / "best_openvino_model"
    folder.mkdir()
    (folder / "best.bin").write_bytes(b"x" * 1_200_000)
    (folder / "best.xml").write_bytes(b"x" * 100_000)
    result = dict(map50=0.6, precision=0.5, recall=0.4, fitness=0.3, instances=167)
    int8 = ExportReport("openvino", "OpenVINO", "weights/best_openvino_model",
                        {"imgsz": 64, "precision": "int8", "max_drop": 0.02}, "now", 3.0,
                        exported=ValidationResult(map50_95=0.30, speed_ms={"inference": 2.0},
                                                  **result),
                        baseline=ValidationResult(map50_95=0.35, speed_ms={"inference": 4.0},
                                                  **result), images=8)
    details = SimpleNamespace(record=record, stop_reason="cancelled",
                              exports={"onnx": onnx, "openvino": folder},
                              export_reports={"openvino": int8},
                              dataset_changed=False, dataset_message="")
    text = tables.details_markdown(details)
    for part in ("### m1 ★ active", "created: 2025-01-31 12:00:00 UTC", "best mAP50: —",
                 "tiny (28 images, 3 classes)", "stopped early: cancelled",
                 "tags: baseline, cpu", r"notes: first try: \*.pt # not a title",
                 "\n  - onnx (best.onnx, 2.5 MB)\n  - openvino (best_openvino_model, 1.3 MB): ⚠️ "
                 "OpenVINO (int8, imgsz 64): mAP50-95 0.300 vs best.pt 0.350 (-0.050); latency "
                 "2.0 ms vs 4.0 ms per image on 8 val images; mAP50-95 drop 0.050 EXCEEDED the "
                 "maximum 0.020"):  # user text shown as typed, not as Markdown
        assert part in text, part
    assert tables.dataset_warning(details) == ""
    changed = SimpleNamespace(dataset_changed=True, dataset_message="The dataset changed.")
    assert "Dataset changed" in tables.dataset_warning(changed)
    assert tables.exports_text({}) == "none yet"
    assert tables.exports_text({"onnx": onnx}) == "onnx (best.onnx, 2.5 MB)"


def test_detection_rows_and_prediction_text() -> None:
    result = PredictionResult(image=np.zeros((4, 4, 3), np.uint8), inference_ms=9.25,
                              total_ms=40.0, model="real",
                              detections=(Detection("RBC", 0.91234, 1.0, 2.04, 30.0, 40.0, 0),))
    assert tables.detection_rows(result) == [["RBC", 0.912, 1.0, 2.0, 30.0, 40.0]]
    assert tables.prediction_text(result) == ("**real**: 1 detection (1 RBC) in 9.2 ms "
                                              "(total 40.0 ms)")


def test_no_detection_hints_at_the_threshold_and_an_undertrained_model() -> None:
    from yolo_studio.training.model_report import no_detections_hint, weak_model_warning

    result = PredictionResult(image=np.zeros((4, 4, 3), np.uint8), detections=(),
                              inference_ms=1.0, total_ms=2.0, model="m")
    text = tables.prediction_text(result, no_detections_hint(0.25, 0.0))
    assert text.startswith("**m**: 0 detections in 1.0 ms")
    assert "confidence \\>= 0.25: try a lower confidence threshold" in text
    assert "best mAP50 on val is 0.000: it is undertrained" in text
    assert "undertrained" not in no_detections_hint(0.25, 0.4)
    assert weak_model_warning(SimpleNamespace(name="m", best_map50=0.4)) == ""
    assert "0.000" in weak_model_warning(SimpleNamespace(name="m", best_map50=0.0))
