"""Extra train arguments through the manager: Ultralytics' checks at Start, then the queue, the
trainer's kwargs, the registered config, Inspect and Compare (fake Ultralytics trains)."""

from __future__ import annotations

import json

import pytest
from training_helpers import WAIT_S, fake_config

from yolo_studio.errors import ValidationError
from yolo_studio.training.snapshot import JobState


def test_a_wrong_key_or_value_is_named_at_start_and_nothing_is_queued(make_manager):
    manager = make_manager(start=False)
    with pytest.raises(ValidationError, match="'mosiac' is not a valid YOLO argument.*mosaic"):
        manager.start_training(fake_config(extra_args={"mosiac": 0.5}))
    with pytest.raises(ValidationError, match="'fliplr=1.5' is an invalid value"):
        manager.start_training(fake_config(extra_args={"fliplr": 1.5}))
    assert manager.jobs() == []


def test_extra_args_reach_the_trainer_the_registry_and_the_comparison(settings, make_manager):
    manager = make_manager()
    first = manager.start_training(fake_config(model_name="aug", epochs=1,
                                               extra_args={"mosaic": 0.0, "amp": "FP16"}))
    queued = json.loads((settings.jobs_dir / "queue.json").read_text())["jobs"][0]["config"]
    assert queued["extra_args"] == {"amp": "fp16", "mosaic": 0.0}  # as Ultralytics takes it
    assert manager.wait_for_job(first, WAIT_S).state == JobState.COMPLETED
    kwargs = manager.backend._factory.made[-1].train_kwargs
    assert (kwargs["mosaic"], kwargs["amp"], kwargs["lr0"]) == (0.0, "fp16", 0.001)
    assert manager.models.load_config("tiny", "aug")["extra_args"]["mosaic"] == 0.0
    done = manager.start_training(fake_config(model_name="plain", epochs=1))
    manager.wait_for_job(done, WAIT_S)
    details = manager.registry.model_details("tiny", "aug")
    assert details.config["extra_args.mosaic"] == 0.0 and "extra_args" not in details.config
    rows = {r["field"]: r for r in manager.registry.compare_models("tiny", ["aug", "plain"])
            .table()}
    assert (rows["extra_args.mosaic"]["aug"], rows["extra_args.mosaic"]["plain"]) == (0.0, None)
    assert rows["extra_args.mosaic"]["differs"] == "≠" and rows["epochs"]["differs"] == ""
