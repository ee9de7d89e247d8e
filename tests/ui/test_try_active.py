"""Try's model picker on REAL models: "the active model" is a choice of its own that follows
the registry (Set active, Roll back), never a concrete name frozen at the time it was shown."""

from __future__ import annotations

import pytest

from yolo_studio.training.manager import TrainingManager
from yolo_studio.ui import model_try

pytestmark = pytest.mark.slow


def _second_model(manager: TrainingManager, ds: str) -> None:
    first = manager.models.get(ds, "real")
    config = dict(manager.models.load_config(ds, "real"), model_name="second")
    manager.models.save(ds, "second", first.weights_path, config,
                        manager.models.load_metrics(ds, "real"),
                        {"base_model": first.base_model, "epochs_completed": 2,
                         "best_map50": first.best_map50,
                         "dataset_snapshot": first.dataset_snapshot,
                         "dataset_hash": first.dataset_hash})


def _ran(manager: TrainingManager, ds: str, picked: str | None, image: str) -> str:
    text = model_try.predict_values(manager, ds, picked, None, image, 0.25, 0.7)[1]
    return text.split("**")[1]


def test_the_active_choice_follows_set_active_and_rollback(real_model) -> None:
    manager, ds = TrainingManager(real_model.settings()), real_model.dataset
    _second_model(manager, ds)
    image = model_try.sample_choices(manager, ds)[0][1]
    picker, _ = model_try.model_choices(manager, ds, None, None)  # what a page first shows
    picked = picker.value
    assert _ran(manager, ds, picked, image) == "real"
    manager.registry.set_active(ds, "second")
    picker, _ = model_try.model_choices(manager, ds, picked, None)  # the table changed
    assert _ran(manager, ds, picker.value, image) == "second"
    labels = {value: label for label, value in picker.choices}
    assert picker.value == picked and "second" in labels[picked]  # "the active model (second)"
    manager.registry.rollback_active(ds)
    assert _ran(manager, ds, picker.value, image) == "real"
    assert _ran(manager, ds, "second", image) == "second"  # a named model stays itself
