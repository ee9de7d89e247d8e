"""TrainPresets: named presets of the Train form and the last configuration per dataset, in
locked JSON files under the storage root."""

from __future__ import annotations

import json

import pytest

from yolo_studio.config import TrainingConfig
from yolo_studio.errors import NotFoundError, RegistryError, ValidationError
from yolo_studio.persistence.train_presets import TrainPresets


def test_save_load_delete_a_preset(tmp_path) -> None:
    store = TrainPresets(tmp_path)
    config = TrainingConfig(dataset="bccd", epochs=7, model_name="m1",
                            extra_args={"mosaic": 0.0, "cos_lr": True})
    assert store.save(" aug ", config) == "aug" and store.names() == ["aug"]
    saved = json.loads((tmp_path / "presets" / "train_presets.json").read_text())
    assert "dataset" not in saved["presets"]["aug"] and "model_name" not in saved["presets"]["aug"]
    loaded = store.load("aug", "cells")
    assert (loaded.dataset, loaded.epochs, loaded.model_name) == ("cells", 7, None)
    assert loaded.extra_args == {"cos_lr": True, "mosaic": 0.0}
    store.save("aug", TrainingConfig(epochs=9))  # replaces
    assert store.load("aug", "bccd").epochs == 9
    with pytest.raises(NotFoundError, match="No preset 'nope'; saved presets: aug"):
        store.load("nope", "bccd")
    with pytest.raises(ValidationError, match="Preset name"):
        store.save("a/b", config)
    store.delete("aug")
    assert store.names() == []
    with pytest.raises(NotFoundError, match="No preset 'aug' to delete"):
        store.delete("aug")


def test_an_invalid_or_old_preset_says_why(tmp_path) -> None:
    store = TrainPresets(tmp_path)
    store.save("old", TrainingConfig())
    path = tmp_path / "presets" / "train_presets.json"
    data = json.loads(path.read_text())
    data["presets"]["old"].pop("extra_args")  # written before extra_args existed: loads
    data["presets"]["bad"] = {"epochs": 0}
    path.write_text(json.dumps(data))
    assert store.load("old", "bccd").extra_args == {}
    with pytest.raises(ValidationError, match="Preset 'bad' cannot be loaded: epochs must be"):
        store.load("bad", "bccd")


def test_last_config_per_dataset_most_recent_first(tmp_path) -> None:
    store = TrainPresets(tmp_path)
    assert store.last(["bccd"]) is None
    store.remember(TrainingConfig(dataset="bccd", epochs=3, model_name="x"))
    store.remember(TrainingConfig(dataset="cells", epochs=4, extra_args={"fliplr": 0.25}))
    last = store.last(["bccd", "cells"])
    assert (last.dataset, last.epochs, last.extra_args) == ("cells", 4, {"fliplr": 0.25})
    assert store.last(["bccd"]).epochs == 3 and store.last(["bccd"]).model_name is None
    assert store.last(["gone"]) is None  # only existing datasets are offered
    path = tmp_path / "presets" / "last_train_configs.json"
    data = json.loads(path.read_text())
    data["datasets"]["cells"]["config"]["epochs"] = -1  # no longer valid: the next one
    path.write_text(json.dumps(data))
    assert store.last(["bccd", "cells"]).dataset == "bccd"


def test_a_corrupt_file_is_set_aside_and_reported(tmp_path) -> None:
    store = TrainPresets(tmp_path)
    path = tmp_path / "presets" / "train_presets.json"
    path.parent.mkdir()
    path.write_text("{not json")
    with pytest.raises(RegistryError, match="train presets file .* was corrupt"):
        store.names()
    assert list(path.parent.glob("train_presets.json.corrupt-*"))
    assert store.names() == []
