"""The one list of the training fields: the form, the Start API and the CLI follow it."""

from __future__ import annotations

import dataclasses

import pytest

from yolo_studio.cli import parse_args
from yolo_studio.config import TrainingConfig
from yolo_studio.config_fields import (FORM_GROUPS, KINDS, TRAINING_FIELDS, cli_fields,
                                       config_from_cli, config_from_values, field_value,
                                       form_fields)
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
    assert not set(vars(args)) & {spec.name for spec in cli_fields()}  # only options given
    assert config_from_cli(vars(args), {}) == TrainingConfig()
    args = parse_args(["train", "--batch", "8", "--model-name", " ", "--freeze-layers", "3",
                       "--seed", "7"])
    config = config_from_cli(vars(args), {})
    assert (config.batch, config.model_name, config.freeze_layers, config.seed) == (8, None, 3, 7)
    assert isinstance(config.batch, int)


def test_cli_pairs_set_studio_fields_or_extra_args() -> None:
    """``key=value`` pairs as the yolo CLI takes them: a studio field's argument sets the field
    (``freeze`` -> ``freeze_layers``), any other is an extra argument."""
    args = parse_args(["train", "--dataset", "bccd", "--base-model", "yolo11n.pt", "--epochs",
                       "1", "mosaic=0.0", "fliplr=0.25", "cos_lr=True"])
    assert args.train_args == ["mosaic=0.0", "fliplr=0.25", "cos_lr=True"]
    config = config_from_cli(vars(args), {"mosaic": 0.0, "freeze": 4, "lr0": 0.02,
                                          "device": 0, "epochs": 1})
    assert (config.epochs, config.freeze_layers, config.lr0, config.device) == (1, 4, 0.02, "0")
    assert config.extra_args == {"mosaic": 0.0}
    with pytest.raises(ValidationError, match="--epochs 1 and epochs=3 disagree"):
        config_from_cli(vars(args), {"epochs": 3})
    with pytest.raises(ValidationError, match=r"freeze=\[0, 1\] does not fit the studio's "
                                              "freeze_layers"):
        config_from_cli({}, {"freeze": [0, 1]})
    with pytest.raises(ValidationError, match="data cannot be set"):
        config_from_cli({}, {"data": "x.yaml"})


def test_extra_args_field_reads_yaml_text_or_a_mapping() -> None:
    spec = next(s for s in TRAINING_FIELDS if s.name == "extra_args")
    assert (spec.form, spec.cli, spec.kind) == ("advanced", False, "args")
    assert field_value(spec, "mosaic: 0.5\ncos_lr: true\n") == {"cos_lr": True, "mosaic": 0.5}
    assert field_value(spec, {"mosaic": 0.5}) == {"mosaic": 0.5}
    assert field_value(spec, None) == field_value(spec, " ") == {}
    with pytest.raises(ValidationError, match="epochs is one of the studio's own fields"):
        field_value(spec, "epochs: 3")


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
