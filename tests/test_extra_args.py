"""extra_args: the checks of a job's extra Ultralytics train arguments that need no Ultralytics,
the YAML view's text, and TrainingConfig carrying them."""

from __future__ import annotations

import pytest

from yolo_studio.config import TrainingConfig
from yolo_studio.errors import ValidationError
from yolo_studio.extra_args import (CONTROLLED, STUDIO_FIELDS, check_extra_args, flat_config,
                                    from_yaml, yaml_text)


def test_plain_values_are_kept_sorted_and_tuples_become_lists() -> None:
    assert list(check_extra_args({"mosaic": 0.0, "cos_lr": True, "scale": (0.5, 1.5),
                                  "cache": "disk", "time": None})) == [
        "cache", "cos_lr", "mosaic", "scale", "time"]
    assert check_extra_args({"scale": (0.5, 1.5)}) == {"scale": [0.5, 1.5]}
    assert check_extra_args(None) == {}


@pytest.mark.parametrize("value, message", [
    ({"epochs": 3}, "studio's own fields .epochs.: set it in the form's epochs box, or on the "
                    "CLI with --epochs or epochs=VALUE"),
    ({"freeze": 3}, "freeze_layers.*--freeze-layers"),
    ({"data": "x.yaml"}, "data cannot be set: the studio passes the chosen dataset's data.yaml"),
    ({"project": "p"}, "run folder"),
    ({"resume": True}, "Resume in the job table"),
    ({"mosaic": {"a": 1}}, "mosaic: .* is a dict; give a number"),
    ({"mosaic": float("nan")}, "not a finite number"),
    ({"bad key": 1}, "not a train argument's name"),
    ([("mosaic", 0.0)], "must be a mapping"),
])
def test_refused_with_the_reason(value, message) -> None:
    with pytest.raises(ValidationError, match=message):
        check_extra_args(value)


def test_every_studio_field_key_maps_to_a_field_the_kwargs_carry() -> None:
    """STUDIO_FIELDS is the one list of the Ultralytics arguments a TrainingConfig field sets:
    each field exists, and every key of to_train_kwargs() is one of them or one the studio
    sets itself (controlled, or plots/verbose that extra_args may override)."""
    fields = set(TrainingConfig.__dataclass_fields__)
    assert set(STUDIO_FIELDS.values()) <= fields
    kwargs = TrainingConfig(base_model="yolo11n.pt", device="cpu").to_train_kwargs()
    assert set(kwargs) - set(STUDIO_FIELDS) - set(CONTROLLED) == {"plots", "verbose"}


def test_yaml_view_round_trip_and_errors() -> None:
    extra = {"mosaic": 0.0, "classes": [0, 2], "cos_lr": True}
    text = yaml_text(extra)
    assert text.splitlines() == ["classes:", "- 0", "- 2", "cos_lr: true", "mosaic: 0.0"]
    assert from_yaml(text) == extra and from_yaml("") == {} and yaml_text({}) == ""
    with pytest.raises(ValidationError, match="not valid YAML at line 2"):
        from_yaml("mosaic: 0.5\n  bad: [")
    with pytest.raises(ValidationError, match="not a list"):
        from_yaml("- mosaic")
    with pytest.raises(ValidationError, match="lr0 is one of the studio's own fields"):
        from_yaml("lr0: 0.1")


def test_config_carries_them_to_files_and_ultralytics() -> None:
    config = TrainingConfig(extra_args={"mosaic": 0.0, "verbose": True})
    kwargs = config.to_train_kwargs()
    assert kwargs["mosaic"] == 0.0 and kwargs["verbose"] is True  # overrides the studio's False
    data = config.to_dict()
    assert data["extra_args"] == {"mosaic": 0.0, "verbose": True}
    assert TrainingConfig.from_dict(data) == config
    data.pop("extra_args")  # a registry or queue file written before extra_args existed
    assert TrainingConfig.from_dict(data).extra_args == {}
    assert hash(config) == hash(TrainingConfig())  # still hashable (extra_args not hashed)
    with pytest.raises(ValidationError, match="batch is one of the studio's own fields"):
        TrainingConfig(extra_args={"batch": 8})


def test_flat_config_lists_each_extra_argument() -> None:
    data = TrainingConfig(extra_args={"mosaic": 0.0, "cos_lr": True}).to_dict()
    flat = flat_config(data)
    assert "extra_args" not in flat
    assert list(flat)[-2:] == ["extra_args.cos_lr", "extra_args.mosaic"]
    assert flat["extra_args.mosaic"] == 0.0 and flat["epochs"] == 100
