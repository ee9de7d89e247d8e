"""A job's extra Ultralytics train arguments: the ones the studio has no field of its own for.

``TrainingConfig.extra_args`` maps an Ultralytics train argument (``mosaic``, ``cos_lr``, ...)
to the value a user changed it to; only changed values are kept. This module checks what it can
without Ultralytics: the mapping's shape, plain values (numbers, text, true/false, None, lists),
and the keys the studio owns or controls. Whether Ultralytics knows a key, and the value's type
and range, are checked at Start by ``training.ultralytics_args.check_with_ultralytics``.

The rules for keys:

- ``STUDIO_FIELDS``: the Ultralytics arguments that are ``TrainingConfig`` fields of their own
  (``epochs``, ``lr0``, ``freeze`` -> ``freeze_layers``, ...). They are set through the field (the
  form's box, the CLI's option or a ``key=value`` pair the CLI turns into the field) and never
  duplicated in ``extra_args``: one value, one place.
- ``CONTROLLED``: arguments the studio sets itself for every run (the data.yaml, the run folder,
  resume, ...); refused with the reason.

No Ultralytics, Gradio or torch here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .errors import ValidationError

#: Ultralytics train argument -> the ``TrainingConfig`` field that sets it.
STUDIO_FIELDS: dict[str, str] = {
    "model": "base_model", "epochs": "epochs", "batch": "batch", "imgsz": "imgsz",
    "patience": "patience", "freeze": "freeze_layers", "lr0": "lr0", "lrf": "lrf",
    "optimizer": "optimizer", "workers": "workers", "device": "device", "seed": "seed",
}

_RUN_FOLDER = "the studio chooses the run folder (<root>/jobs/runs/<job id>)"
#: Ultralytics arguments the studio sets for every run -> why a user cannot set them.
CONTROLLED: dict[str, str] = {
    "data": "the studio passes the chosen dataset's data.yaml: choose the dataset instead",
    "project": _RUN_FOLDER, "name": _RUN_FOLDER, "save_dir": _RUN_FOLDER,
    "exist_ok": _RUN_FOLDER,
    "resume": "resume an interrupted job with Resume in the job table (CLI: a new train run)",
    "save": "the studio registers the run's best.pt, so checkpoints are always saved",
    "task": "the studio trains detection models only", "mode": "this is a train run",
    "cfg": "a config file would bypass the studio's checks: give its values as arguments "
           "(the YAML view, or key=value pairs on the CLI)",
    "augmentations": "custom Albumentations objects cannot be stored with a job",
}

#: The plain value types a stored argument may have (lists of them too).
_SCALARS = (bool, int, float, str, type(None))


def _plain(key: str, value: Any) -> Any:
    """``value`` as a plain, storable value (a tuple becomes a list).

    Raises:
        ValidationError: not a number, text, true/false, None or a list of those, or a number
            that is NaN or infinite.
    """
    if isinstance(value, (list, tuple)):
        return [_plain(key, item) for item in value]
    if not isinstance(value, _SCALARS):
        raise ValidationError(f"Train argument {key}: {value!r} is a {type(value).__name__}; "
                              "give a number, text, true/false, None or a list of those.")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValidationError(f"Train argument {key}={value} is not a finite number.")
    return value


def refusal(key: str) -> str | None:
    """Why ``key`` cannot be an extra argument (a studio field or a controlled argument), or
    None when it may be one."""
    if key in STUDIO_FIELDS:
        field = STUDIO_FIELDS[key]
        option = "--" + field.replace("_", "-")
        return (f"{key} is one of the studio's own fields ({field}): set it in the form's "
                f"{field} box, or on the CLI with {option} or {key}=VALUE.")
    if key in CONTROLLED:
        return f"{key} cannot be set: {CONTROLLED[key]}."
    return None


def check_extra_args(value: Mapping[str, Any] | None) -> dict[str, Any]:
    """The checked, plain form of a ``TrainingConfig.extra_args`` value, sorted by key.

    Args:
        value: Ultralytics train argument -> value; None means none.

    Raises:
        ValidationError: not a mapping, a key that is not a name, a studio field or a controlled
            argument (``refusal``), or a value that is not plain (``_plain``).
    """
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError("The extra train arguments must be a mapping of argument names to "
                              f"values (key: value), not a {type(value).__name__}.")
    checked: dict[str, Any] = {}
    for key in sorted(value, key=str):
        name = key.strip() if isinstance(key, str) else ""
        if not name.isidentifier():
            raise ValidationError(f"{key!r} is not a train argument's name (such as mosaic).")
        reason = refusal(name)
        if reason:
            raise ValidationError(reason)
        checked[name] = _plain(name, value[key])
    return checked


def yaml_text(extra: Mapping[str, Any]) -> str:
    """The YAML view of ``extra`` (one ``key: value`` line per argument, sorted); ``""`` for
    none."""
    import yaml

    return yaml.safe_dump(dict(sorted(extra.items())), sort_keys=False) if extra else ""


def from_yaml(text: str | None) -> dict[str, Any]:
    """The arguments of a YAML mapping (the YAML view, a preset), checked by
    ``check_extra_args``; empty text is none.

    Raises:
        ValidationError: not YAML, not a mapping, or a key or value ``check_extra_args`` refuses.
    """
    import yaml

    if not text or not text.strip():
        return {}
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        where = getattr(err, "problem_mark", None)
        at = f" at line {where.line + 1}" if where is not None else ""
        raise ValidationError(f"The train arguments are not valid YAML{at}: write one "
                              "'key: value' per line, such as 'mosaic: 0.5'.") from err
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValidationError("The train arguments must be 'key: value' lines (a YAML "
                              f"mapping), not a {type(data).__name__}.")
    return check_extra_args(data)


def flat_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """A ``TrainingConfig.to_dict()`` with its ``extra_args`` as entries of their own,
    ``extra_args.<key>``, after the other fields (what Inspect, Compare and ``models show``
    list); a config without extra arguments is returned unchanged."""
    flat = {k: v for k, v in config.items() if k != "extra_args"}
    extra = config.get("extra_args") or {}
    if isinstance(extra, Mapping):
        flat.update((f"extra_args.{key}", value) for key, value in extra.items())
    return flat
