"""ultralytics_args: the train arguments read from the installed Ultralytics, and Ultralytics'
own checks of a job's extra arguments (real Ultralytics, nothing trained)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ultralytics import cfg
from ultralytics.utils import DEFAULT_CFG_PATH

from yolo_studio.config import TrainingConfig
from yolo_studio.errors import ValidationError
from yolo_studio.extra_args import CONTROLLED, STUDIO_FIELDS
from yolo_studio.training.ultralytics_args import (GROUP_OF, GROUPS, check_config,
                                                   check_with_ultralytics, extra_arg_specs,
                                                   parse_pairs, parse_text, read_default_yaml,
                                                   studio_field_specs, train_arg_specs)


def test_specs_come_from_the_installed_ultralytics() -> None:
    specs = {s.name: s for s in train_arg_specs()}
    comments = read_default_yaml(Path(DEFAULT_CFG_PATH))
    for name, spec in specs.items():
        assert spec.yolo_default == cfg.DEFAULT_CFG_DICT[name]
        assert spec.help == comments[name][2] and spec.help  # the yaml's comment, every one
    assert specs["mosaic"].help == "mosaic augmentation probability"
    assert specs["mosaic"].type_hint == "float" and specs["mosaic"].group == "augmentation"
    assert {specs[k].kind for k in cfg.CFG_BOOL_KEYS if k in specs
            and isinstance(specs[k].yolo_default, bool)} == {"bool"}
    assert (specs["nbs"].kind, specs["mosaic"].kind, specs["scale"].kind) == (
        "int", "float", "text")  # scale is float | tuple: written as text
    # every argument of default.yaml's train sections is offered, in a group or as a field
    train_keys = {k for k, (section, _, _) in comments.items()
                  if section.startswith(("Train settings", "Hyperparameters"))}
    assert train_keys - set(specs) == set(CONTROLLED) & train_keys
    assert {s.group for s in extra_arg_specs()} <= set(GROUPS)
    assert set(GROUP_OF) & set(STUDIO_FIELDS) == set()


def test_studio_defaults_that_differ_from_yolo_train() -> None:
    """The form says where the studio's default is not yolo train's: the spec knows both."""
    fields = studio_field_specs()
    differs = {name: (s.default, s.yolo_default) for name, s in fields.items() if s.differs}
    assert differs == {"patience": (20, 100), "lr0": (0.001, 0.01), "optimizer": ("AdamW", "auto"),
                       "workers": (2, 8), "freeze_layers": (10, None)}
    assert cfg.DEFAULT_CFG_DICT["patience"] == 100 and TrainingConfig().patience == 20
    verbose = next(s for s in extra_arg_specs() if s.name == "verbose")
    assert verbose.differs and (verbose.default, verbose.yolo_default) == (False, True)


@pytest.mark.parametrize("extra, message", [
    ({"mosiac": 0.5}, r"Unknown train argument: 'mosiac' is not a valid YOLO argument\. Similar "
                      r"arguments are i\.e\. \['mosaic=1\.0'\]"),
    ({"mosaic": 2.0}, "'mosaic=2.0' is an invalid value. Valid 'mosaic' values are between 0.0 "
                      "and 1.0"),
    ({"cos_lr": "yes"}, "'cos_lr=yes' is of invalid type str. 'cos_lr' must be a bool"),
    ({"nbs": 0}, "'nbs' must be >= 1"),
    ({"format": "onnx"}, "format is not a train argument: Ultralytics reads it in its export "
                         "settings"),
    ({"amp": "fp8"}, "Valid 'amp' values are True, False"),
])
def test_ultralytics_names_the_wrong_argument(extra, message) -> None:
    with pytest.raises(ValidationError, match=message):
        check_with_ultralytics(extra)


def test_values_come_back_as_ultralytics_takes_them() -> None:
    assert check_with_ultralytics({"amp": "FP16", "mosaic": 0, "half": True}) == {
        "amp": "fp16", "mosaic": 0, "quantize": 16}  # half is deprecated: quantize=16
    assert check_with_ultralytics({}) == {}
    config = TrainingConfig(extra_args={"amp": "BF16", "cos_lr": True})
    assert check_config(config).extra_args == {"amp": "bf16", "cos_lr": True}
    plain = TrainingConfig()
    assert check_config(plain) is plain


def test_pairs_read_as_the_yolo_cli_reads_them() -> None:
    assert parse_pairs(["mosaic=0.0", "cos_lr=True", "classes=[0,2]", "cache=disk",
                        "time=None"]) == {"mosaic": 0.0, "cos_lr": True, "classes": [0, 2],
                                          "cache": "disk", "time": None}
    with pytest.raises(ValidationError, match="'mosaic' is not a train argument: write key=value"):
        parse_pairs(["mosaic"])
    with pytest.raises(ValidationError, match="'mosaic=' is not"):
        parse_pairs(["mosaic="])
    with pytest.raises(ValidationError, match="mosaic is given twice"):
        parse_pairs(["mosaic=0.1", "mosaic=0.2"])
    assert (parse_text(" 0.5 "), parse_text(""), parse_text("[0.5, 1.5]")) == (0.5, None,
                                                                               [0.5, 1.5])
