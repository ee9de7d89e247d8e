"""Pure HTML builders of the dataset health report."""

from __future__ import annotations

import re
from types import SimpleNamespace

from yolo_studio.persistence.health import HealthIssue, HealthReport
from yolo_studio.ui import health_view as hv

COUNTS = {"images": 28, "train_images": 20, "val_images": 8, "classes": 3, "objects": 300,
          "labels": 28}


def _report() -> HealthReport:
    files = tuple(f"labels/train/img<{i}>.txt" for i in range(5))
    blocking = HealthIssue("blocking", "class_out_of_range", "5 label file(s) use a class id "
                           "that data.yaml's names do not define.", files, 7,
                           tuple("line 1: class 7 & up" for _ in files))
    warning = HealthIssue("warning", "background_image", "1 image(s) have no label file.",
                          ("images/val/a.jpg",), 1, ("",))
    return HealthReport((blocking, warning), dict(COUNTS))


def test_table_colours_levels_escapes_and_folds_examples() -> None:
    html = hv.health_table_html(_report())
    rows = re.findall(r"<tr class=\"health-issue health-(\w+)\"[^>]*style=\"([^\"]+)\"", html)
    assert rows == [("blocking", "color:#991b1b;background:#fee2e2"),
                    ("warning", "color:#92400e;background:#fef3c7")]
    assert "img<0>" not in html and "img&lt;0&gt;.txt: line 1: class 7 &amp; up" in html
    blocking_row = html.split("</tr>")[1]
    assert blocking_row.count("<code>labels/train") == 5
    assert "2 more example(s)" in blocking_row  # 3 inline, 2 folded
    assert "and 2 more not listed" in blocking_row  # count 7, 5 examples stored
    assert [h for h in hv.HEALTH_COLUMNS if f">{h}</th>" in html] == hv.HEALTH_COLUMNS


def test_verdicts() -> None:
    assert hv.verdict(_report()) == hv.VERDICT_BLOCKED
    warn_only = HealthReport(_report().warnings, dict(COUNTS))
    assert hv.verdict(warn_only) == "OK, ready to train, with 1 warning(s)"
    healthy = HealthReport((), dict(COUNTS))
    assert hv.verdict(healthy) == "OK, ready to train"
    assert hv.health_table_html(healthy) == ""
    assert "Healthy: 28 images" in hv.report_html(healthy)


def test_dataset_and_import_html() -> None:
    info = SimpleNamespace(name="cells<b>", snapshot="28 images, 3 classes",
                           image_counts={"train": 20, "val": 8}, class_names=("RBC", "WBC"))
    html = hv.dataset_html(info, _report())
    assert "cells&lt;b&gt;" in html and "train 20, val 8" in html and "RBC, WBC" in html
    assert "BLOCKED" in html and 'data-code="class_out_of_range"' in html
    assert hv.import_ok_html(info).startswith(
        "<p><b>Imported cells&lt;b&gt;.</b> 28 images, 3 classes;")
    failed = hv.import_failed_html("Dataset 'x' was not imported <because>", _report())
    assert "Not imported" in failed and "&lt;because&gt;" in failed
    assert 'data-code="background_image"' in failed
    assert "health-table" not in hv.import_failed_html("No data.yaml found")
