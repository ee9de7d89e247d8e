"""A REAL evaluation (Ultralytics on the CPU, imgsz 64) of the session's trained model
(tests/conftest.py: trained on bccd-tiny, which has no test split) on the test split of the
built-in bccd sample: another dataset with the same classes in the same order. Also the CLI's
``models eval`` and the refusal of a dataset whose classes differ."""

from __future__ import annotations

import collections
import shutil

import pytest
import yaml

from yolo_studio.cli import main
from yolo_studio.config import SAMPLES_DIR
from yolo_studio.errors import ValidationError
from yolo_studio.training.manager import TrainingManager
from yolo_studio.training.model_metrics import fitness

pytestmark = pytest.mark.slow


def _label_counts(dataset_folder, split: str) -> collections.Counter:
    """Boxes per class id in a split's label files (what Ultralytics should count)."""
    counts: collections.Counter = collections.Counter()
    for label in (dataset_folder / "labels" / split).glob("*.txt"):
        counts.update(int(line.split()[0]) for line in label.read_text().splitlines() if line)
    return counts


def test_evaluate_on_bccd_test_then_cli_then_refuse_other_classes(real_model, capsys) -> None:
    root, ds, name = real_model.root, real_model.dataset, real_model.name
    shutil.copytree(SAMPLES_DIR / "bccd", root / "datasets" / "bccd")
    manager = TrainingManager(real_model.settings())
    entry = manager.models.get(ds, name).extra  # registered by the real training
    assert entry["parameters"] > 1_000_000 and entry["inference_ms"] > 0

    evaluation = manager.registry.evaluate_model(ds, name, "test", on_dataset="bccd")
    r = evaluation.result
    assert (evaluation.dataset, evaluation.split, evaluation.images) == ("bccd", "test", 72)
    assert evaluation.imgsz == 64 and r.device == "cpu"  # its training size
    counts = _label_counts(root / "datasets" / "bccd", "test")
    assert {row["class"]: row["instances"] for row in r.per_class} == {
        "RBC": counts[0], "WBC": counts[1], "Platelets": counts[2]}
    assert r.instances == sum(counts.values()) > 0
    assert all(0 <= v <= 1 for v in (r.precision, r.recall, r.map50, r.map50_95))
    assert r.fitness == pytest.approx(fitness({"precision": r.precision, "recall": r.recall,
                                               "map50": r.map50, "map50_95": r.map50_95}))
    assert r.parameters == entry["parameters"]  # counted in training and from best.pt alike
    assert r.speed_ms["inference"] > 0
    assert manager.registry.evaluations(ds, name)[0] == evaluation

    args = ["--root", str(root), "models", "--dataset", ds]
    assert main([*args, "eval", name, "--split", "test", "--on", "bccd"]) == 0
    out = capsys.readouterr().out
    assert f"Model {name} on bccd test (72 images, {r.instances} instances; imgsz 64" in out
    for part in ("mAP50 ", "mAP50-95 ", "precision ", "recall ", "Platelets"):
        assert part in out
    assert len(manager.registry.evaluations(ds, name)) == 2
    assert main([*args, "show", name]) == 0
    shown = capsys.readouterr().out.split("Evaluations (newest first):")[1].strip().splitlines()
    assert len(shown) == 3 and all(" bccd  test " in line for line in shown[1:])
    assert main([*args, "eval", name, "--split", "test"]) == 2  # bccd-tiny has no test split
    assert f"Dataset '{ds}' has no test images" in capsys.readouterr().err

    shuffled = root / "datasets" / "shuffled"
    shutil.copytree(root / "datasets" / ds, shuffled)
    data = yaml.safe_load((shuffled / "data.yaml").read_text())
    data["names"] = {0: "RBC", 1: "Platelets", 2: "WBC"}
    (shuffled / "data.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(ValidationError, match="class 1 is 'WBC' in the model but 'Platelets' "
                                              "in dataset 'shuffled'"):
        manager.registry.evaluate_model(ds, name, "val", on_dataset="shuffled")
    assert len(manager.registry.evaluations(ds, name)) == 2
