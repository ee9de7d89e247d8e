"""The one list of the training fields: the form, the Start API and the CLI follow it."""

from __future__ import annotations

import dataclasses

import pytest

from yolo_studio.cli import parse_args
from yolo_studio.config import TrainingConfig
from yolo_studio.config_fields import (FORM_GROUPS, KINDS, TRAINING_FIELDS, cli_fields,
                                       config_from_values, form_fields)
from yolo_studio.errors import ValidationError


def test_every_user_field_of_the_config_is_listed_once() -> None:
    names = [spec.name for spec in TRAINING_FIELDS]
    assert len(names) == len(set(names))
    assert set(names) == {f.name for f in dataclasses.fields(TrainingConfig)} - {"notes"}
    for spec in TRAINING_FIELDS:
        assert spec.kind in KINDS and spec.form in (*FORM_GROUPS, None)
        assert spec.form is None or spec.elem_id, spec.name


def test_cli_options_follow_the_list_with_the_configs_defaults() -> None:
    args = parse_args(["train"])
    for spec in cli_fields():
        assert getattr(args, spec.name) == spec.default
    assert TrainingConfig(**{s.name: getattr(args, s.name) for s in cli_fields()}) == \
        TrainingConfig()
    args = parse_args(["train", "--batch", "8", "--model-name", " ", "--freeze-layers", "3",
                       "--seed", "7"])
    config = config_from_values(cli_fields(), [getattr(args, s.name) for s in cli_fields()])
    assert (config.batch, config.model_name, config.freeze_layers, config.seed) == (8, None, 3, 7)
    assert isinstance(config.batch, int)


def test_the_start_api_takes_the_form_fields_in_list_order() -> None:
    from yolo_studio.ui import train_tab

    assert train_tab.FORM_FIELDS == tuple(spec.name for spec in form_fields())
    assert train_tab.FORM_FIELDS[:2] == ("dataset", "base_model")


def test_values_are_converted_per_kind() -> None:
    specs = form_fields()
    values = {s.name: s.default for s in specs}
    values.update(dataset=" tiny ", epochs=3.0, batch=0.5, model_name="  ", device=" CPU ")
    config = config_from_values(specs, [values[s.name] for s in specs])
    assert (config.dataset, config.epochs, config.batch, config.model_name, config.device) == (
        "tiny", 3, 0.5, None, "cpu")
    values["imgsz"] = 64.5
    with pytest.raises(ValidationError, match="imgsz must be a whole number"):
        config_from_values(specs, [values[s.name] for s in specs])
