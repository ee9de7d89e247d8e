"""Dataset health check: one broken copy of bccd-tiny per case."""

from __future__ import annotations

import shutil

import pytest

from yolo_studio.persistence.health import MAX_EXAMPLES, check_dataset

YAML_HEAD = "train: images/train\nval: images/val\n"
NAMES = "names:\n  0: RBC\n  1: WBC\n  2: Platelets\n"


def _codes(report) -> dict[str, str]:
    return {i.code: i.level for i in report.issues}


def _issue(report, code):
    [issue] = [i for i in report.issues if i.code == code]
    return issue


def test_healthy_dataset_has_no_issue_and_counts(tiny):
    report = check_dataset(tiny)
    assert report.ok and report.issues == ()
    assert report.counts["images"] == 28 and report.counts["train_images"] == 20
    assert report.counts["val_images"] == 8 and report.counts["classes"] == 3
    assert report.counts["labels"] == 28 and report.counts["objects"] > 28
    assert report.summary().startswith("Healthy: 28 images (train 20, val 8), 3 classes")
    assert check_dataset(tiny / "data.yaml").counts == report.counts


def test_missing_data_yaml_is_blocking(tiny):
    (tiny / "data.yaml").unlink()
    report = check_dataset(tiny)
    assert _codes(report) == {"no_data_yaml": "blocking"} and not report.ok


def test_malformed_yaml_is_blocking(tiny):
    (tiny / "data.yaml").write_text("train: images/train\nval: [unclosed\n")
    report = check_dataset(tiny)
    assert _codes(report) == {"yaml_malformed": "blocking"}
    assert "line" in _issue(report, "yaml_malformed").message


@pytest.mark.parametrize("names, code", [("", "names_invalid"), ("names: []\n", "names_invalid"),
                                         ("names: 7\n", "names_invalid"),
                                         ("names: [a, b, c]\nnc: 4\n", "names_invalid")])
def test_missing_or_bad_names_are_blocking(tiny, names, code):
    (tiny / "data.yaml").write_text(YAML_HEAD + names)
    report = check_dataset(tiny)
    assert _codes(report).get(code) == "blocking" and not report.ok


def test_names_as_a_list_are_fine(tiny):
    (tiny / "data.yaml").write_text(YAML_HEAD + "names: [RBC, WBC, Platelets]\n")
    assert check_dataset(tiny).issues == ()


def test_names_dict_with_gaps_is_a_warning_and_widens_the_class_range(tiny):
    (tiny / "data.yaml").write_text(YAML_HEAD + "names:\n  0: RBC\n  2: Platelets\n  3: X\n")
    report = check_dataset(tiny)
    assert _codes(report) == {"names_gaps": "warning"} and report.ok
    assert "1" in _issue(report, "names_gaps").message and report.counts["classes"] == 4


@pytest.mark.parametrize("key", ["train", "val"])
def test_missing_train_or_val_key_is_blocking(tiny, key):
    text = (tiny / "data.yaml").read_text().replace(f"{key}: images/{key}\n", "")
    (tiny / "data.yaml").write_text(text)
    report = check_dataset(tiny)
    assert _codes(report)["split_missing"] == "blocking"
    assert f"'{key}'" in _issue(report, "split_missing").message


def test_empty_val_split_is_blocking(tiny):
    shutil.rmtree(tiny / "images" / "val")
    (tiny / "images" / "val").mkdir()
    report = check_dataset(tiny)
    assert _codes(report)["val_empty"] == "blocking"
    assert _codes(report)["orphan_label"] == "warning"  # the val labels lost their images


def test_missing_val_folder_is_blocking(tiny):
    shutil.rmtree(tiny / "images" / "val")
    report = check_dataset(tiny)
    issue = _issue(report, "split_not_found")
    assert issue.level == "blocking" and issue.files == ("images/val",)


def test_class_id_out_of_range_is_blocking_with_file_and_line(tiny):
    label = tiny / "labels" / "train" / "BloodImage_00001.txt"
    label.write_text(label.read_text() + "3 0.5 0.5 0.1 0.1\n")
    report = check_dataset(tiny)
    issue = _issue(report, "class_out_of_range")
    assert issue.level == "blocking" and issue.count == 1
    assert issue.files == ("labels/train/BloodImage_00001.txt",)
    assert "class 3" in issue.details[0] and "0..2" in issue.details[0]
    assert "✗" in report.summary() and "BloodImage_00001.txt" in report.summary()


@pytest.mark.parametrize("row, code", [
    ("0 320 240 50 60", "bad_coordinates"), ("0 0.5 0.5 0.1 -0.4", "bad_coordinates"),
    ("0 0.5 0.5 0.1", "bad_columns"), ("0 0.5 0.5 0.1 0.1 0.2", "bad_columns"),
    ("0 0.5 abc 0.1 0.1", "bad_number"), ("1.5 0.5 0.5 0.1 0.1", "class_out_of_range"),
])
def test_bad_label_rows_are_blocking(tiny, row, code):
    label = tiny / "labels" / "val" / "BloodImage_00000.txt"
    label.write_text(label.read_text() + row + "\n")
    report = check_dataset(tiny)
    assert _codes(report) == {code: "blocking"}
    assert _issue(report, code).files == ("labels/val/BloodImage_00000.txt",)


def test_polygon_rows_are_accepted_but_not_mixed_with_boxes(tiny):
    label = tiny / "labels" / "val" / "BloodImage_00000.txt"
    label.write_text("0 0.1 0.1 0.2 0.1 0.2 0.2\n1 0.5 0.5 0.6 0.5 0.6 0.6 0.5 0.6\n")
    assert check_dataset(tiny).issues == ()
    label.write_text("0 0.1 0.1 0.2 0.1 0.2 0.2\n1 0.5 0.5 0.1 0.1\n")
    assert _codes(check_dataset(tiny)) == {"bad_columns": "blocking"}


def test_image_without_label_and_label_without_image_are_warnings(tiny):
    (tiny / "labels" / "train" / "BloodImage_00003.txt").unlink()
    (tiny / "images" / "val" / "BloodImage_00000.jpg").unlink()
    report = check_dataset(tiny)
    assert _codes(report) == {"background_image": "warning", "orphan_label": "warning"}
    assert _issue(report, "background_image").files == ("images/train/BloodImage_00003.jpg",)
    assert _issue(report, "orphan_label").files == ("labels/val/BloodImage_00000.txt",)
    assert report.ok and report.summary().startswith("OK with 2 warning(s)")


def test_truncated_image_is_a_warning_naming_the_file(tiny):
    image = tiny / "images" / "train" / "BloodImage_00004.jpg"
    image.write_bytes(image.read_bytes()[: image.stat().st_size // 2])
    (tiny / "images" / "train" / "BloodImage_00005.jpg").write_bytes(b"not an image at all")
    report = check_dataset(tiny)
    issue = _issue(report, "image_unreadable")
    assert issue.level == "warning" and issue.count == 2 and report.ok
    assert issue.files == ("images/train/BloodImage_00004.jpg",
                           "images/train/BloodImage_00005.jpg")
    assert all(d.startswith("corrupt or unreadable image") for d in issue.details)
    assert "truncated" in issue.details[0] and "BloodImage_00005.jpg" in issue.details[1]


def test_an_image_open_patch_that_fails_to_import_still_reads_corrupt(tiny, monkeypatch):
    from PIL import Image

    real_open = Image.open

    def patched_open(fp, *args, **kwargs):  # Ultralytics' patch when pi-heif is missing
        try:
            return real_open(fp, *args, **kwargs)
        except Image.UnidentifiedImageError:
            from pi_heif import register_heif_opener  # noqa: F401 - raises ModuleNotFoundError

    monkeypatch.setattr(Image, "open", patched_open)
    (tiny / "images" / "val" / "BloodImage_00000.jpg").write_bytes(b"\x00garbage" * 100)
    report = check_dataset(tiny)
    issue = _issue(report, "image_unreadable")
    assert issue.files == ("images/val/BloodImage_00000.jpg",) and report.ok
    assert issue.details[0].startswith("corrupt or unreadable image")
    assert "BloodImage_00000.jpg" in issue.details[0] and "pi_heif" not in issue.details[0]
    assert "pi_heif" not in report.summary()


def test_all_val_images_unreadable_is_blocking(tiny):
    for image in (tiny / "images" / "val").iterdir():
        image.write_bytes(b"\xff\xd8 broken")
    report = check_dataset(tiny)
    assert _codes(report)["all_images_unreadable"] == "blocking" and not report.ok
    assert _issue(report, "image_unreadable").count == 8


def test_relative_path_is_a_warning_and_resolved_against_the_yaml_folder(tmp_path, make_tiny):
    outer = tmp_path / "project"
    make_tiny(outer / "data" / "tiny")
    (outer / "data.yaml").write_text("path: data/tiny\n" + YAML_HEAD + NAMES)
    report = check_dataset(outer)
    assert _codes(report) == {"relative_path": "warning"}
    assert str(outer / "data" / "tiny") in _issue(report, "relative_path").message
    assert report.counts["images"] == 28


def test_examples_are_capped_but_the_count_is_total(tiny):
    labels = sorted((tiny / "labels" / "train").glob("*.txt"))
    labels += sorted((tiny / "labels" / "val").glob("*.txt"))
    for label in labels[:25]:
        label.write_text("9 0.5 0.5 0.1 0.1\n")
    issue = _issue(check_dataset(tiny), "class_out_of_range")
    assert issue.count == 25 and len(issue.files) == MAX_EXAMPLES == len(issue.details)
    assert "25 label file(s)" in issue.message


def test_txt_image_lists_and_roboflow_style_paths(tiny):
    (tiny / "train.txt").write_text("\n".join(
        f"./images/train/{p.name}" for p in sorted((tiny / "images" / "train").iterdir())))
    (tiny / "data.yaml").write_text("train: train.txt\nval: ../images/val\n" + NAMES)
    report = check_dataset(tiny)
    assert report.issues == () and report.counts["train_images"] == 20
    assert report.counts["val_images"] == 8


def test_summary_lists_blocking_before_warnings(tiny):
    (tiny / "labels" / "train" / "BloodImage_00003.txt").unlink()
    label = tiny / "labels" / "train" / "BloodImage_00001.txt"
    label.write_text("0 0.5 0.5 2.0 0.1\n")
    report = check_dataset(tiny)
    lines = report.summary().splitlines()
    assert lines[0].startswith("Not trainable: 1 blocking problem(s), 1 warning(s)")
    assert lines[1].startswith("✗") and lines[2].startswith("⚠")
    assert report.blocking[0].files[0] == "labels/train/BloodImage_00001.txt"
