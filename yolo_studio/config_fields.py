"""The one list of the training fields a user sets: the Train tab's form, the Start API's inputs
and the ``train`` command's options are all built from ``TRAINING_FIELDS``.

Each ``FieldSpec`` names a ``TrainingConfig`` field and says how a user sets it: its kind (how a
raw value becomes the field's value), label, help, choices or slider bounds, and where it
appears (``form``: the form's group, None = not in the form; ``cli``: a ``train`` option).
Defaults are ``TrainingConfig``'s own field defaults, never repeated here. ``TrainingConfig``
validates the values; this module only converts them. No Gradio here: ``yolo_studio.ui`` builds
the components, ``yolo_studio.cli`` the argparse options.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .config import OPTIMIZERS, TrainingConfig
from .errors import ValidationError
from .extra_args import STUDIO_FIELDS, check_extra_args, from_yaml

#: How a raw value (a form's or an option's) becomes the field's value.
KINDS = ("text", "int", "float", "batch", "choice", "bool", "args")
#: The form's groups, in layout order: ``choices`` (dataset and base model, laid out by the
#: Train tab with their panels), two rows of numbers, the model name, the Advanced accordion.
FORM_GROUPS = ("choices", "numbers", "training", "name", "advanced")


@dataclass(frozen=True)
class FieldSpec:
    """How a user sets one ``TrainingConfig`` field.

    Attributes:
        name: The ``TrainingConfig`` field; the option is ``--`` + name with ``-`` for ``_``.
        kind: One of ``KINDS``: ``int`` (whole number), ``float``, ``batch`` (a whole number,
            or a fraction 0-1 of GPU memory), ``text`` (stripped), ``choice`` (one of
            ``choices``, or any text where ``custom``), ``bool``, ``args`` (extra train
            arguments: a mapping, or its YAML text: ``extra_args.from_yaml``).
        label: The form's label.
        help: One line shown as the form's info and as the option's help.
        elem_id: The form component's HTML id (browser tests find it by it).
        form: The form group (``FORM_GROUPS``) it is laid out in; None = not in the form.
        cli: True when ``train`` takes it as an option.
        cli_help: The option's help when it must differ from ``help``.
        placeholder: The form's hint inside an empty text box.
        choices: The values offered (``choice``); an empty tuple offers none.
        custom: A ``choice`` that also takes a value outside ``choices``.
        optional: Left empty, the field is None and ``TrainingConfig`` picks the value.
        slider: (minimum, maximum, step) of a slider; None = a number box.
    """

    name: str
    kind: str
    label: str
    help: str = ""
    elem_id: str = ""
    form: str | None = None
    cli: bool = True
    cli_help: str = ""
    placeholder: str = ""
    choices: tuple[str, ...] = ()
    custom: bool = False
    optional: bool = False
    slider: tuple[float, float, float] | None = None

    @property
    def default(self) -> Any:
        """``TrainingConfig``'s default for the field (before validation: ``freeze_layers``
        and ``model_name`` are None)."""
        return _DEFAULTS[self.name]

    @property
    def option(self) -> str:
        """The ``train`` option: ``--base-model`` for ``base_model``."""
        return "--" + self.name.replace("_", "-")

    @property
    def option_help(self) -> str:
        """The option's help: ``cli_help``, else ``help``, else ``placeholder``."""
        return self.cli_help or self.help or self.placeholder


_DEFAULTS = {f.name: f.default_factory() if f.default is dataclasses.MISSING else f.default
             for f in dataclasses.fields(TrainingConfig)}

#: Every field a user sets, in the order the Start handler (and ``/start_training``) takes the
#: form's values. The order of the form's components on the page follows ``FORM_GROUPS``.
TRAINING_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("dataset", "choice", "Dataset", elem_id="dataset-dd", form="choices",
              custom=True, cli_help="dataset name"),
    # its choices are the models Ultralytics ships (training.base_models), read at run time
    FieldSpec("base_model", "choice", "Base model", elem_id="base-model-dd", form="choices",
              custom=True,
              cli_help="a model Ultralytics ships (yolo-studio base-models lists them): "
                       "yolo11n.pt (pretrained) or yolo11n.yaml (from scratch), or a .pt path "
                       "(default: the smallest release .pt on this machine, else yolo11n.yaml)",
              help=".pt = pretrained (on this machine, or downloaded), .yaml = from scratch"),
    FieldSpec("epochs", "int", "epochs", elem_id="epochs", form="numbers"),
    FieldSpec("batch", "batch", "batch", elem_id="batch", form="numbers",
              help="images per batch; -1 = AutoBatch; 0-1 = GPU memory fraction"),
    FieldSpec("imgsz", "int", "imgsz (pixels)", elem_id="imgsz", form="numbers"),
    FieldSpec("patience", "int", "patience (epochs)", elem_id="patience", form="numbers"),
    FieldSpec("freeze_layers", "int", "freeze_layers", elem_id="freeze-layers",
              form="training", optional=True, help="empty = 10 for a .pt, 0 for a .yaml",
              cli_help="leading modules to freeze (default: 10 for a .pt, 0 for a .yaml)"),
    FieldSpec("lr0", "float", "lr0", elem_id="lr0", form="training"),
    FieldSpec("lrf", "float", "lrf (fraction of lr0)", elem_id="lrf", form="training"),
    FieldSpec("model_name", "text", "model_name", elem_id="model-name", form="name",
              optional=True, placeholder="empty = generated from the time",
              cli_help="name to register the model under (empty: generated)"),
    FieldSpec("max_gpu_memory_percent", "float", "max_gpu_memory_percent (fraction 0-1)",
              elem_id="max-gpu-memory", form="training", slider=(0.05, 1.0, 0.05)),
    FieldSpec("optimizer", "choice", "optimizer", elem_id="optimizer", form="advanced",
              choices=OPTIMIZERS, cli_help="one of " + ", ".join(OPTIMIZERS)),
    FieldSpec("workers", "int", "workers", elem_id="workers", form="advanced"),
    FieldSpec("device", "text", "device", elem_id="device", form="advanced",
              placeholder="empty = automatic; cpu, mps, a GPU: 0, cuda:1; several GPUs: 0,1"),
    FieldSpec("stop_on_resource_alert", "bool", "stop on resource alert",
              elem_id="stop-on-alert", form="advanced", cli=False),
    # the CLI takes them as trailing key=value pairs (config_from_cli), not as an option
    FieldSpec("extra_args", "args", "Changed Ultralytics train arguments (YAML)",
              elem_id="extra-args", form="advanced", cli=False,
              help="only the arguments that differ from the defaults, one 'key: value' a line"),
    FieldSpec("seed", "int", "seed", cli_help="random seed"),
)


def form_fields() -> tuple[FieldSpec, ...]:
    """The fields of the Train tab's form, in the Start handler's order."""
    return tuple(spec for spec in TRAINING_FIELDS if spec.form is not None)


def cli_fields() -> tuple[FieldSpec, ...]:
    """The fields ``train`` takes as options, in ``TRAINING_FIELDS`` order."""
    return tuple(spec for spec in TRAINING_FIELDS if spec.cli)


def _number(spec: FieldSpec, value: Any) -> int | float:
    """A form's number (Gradio sends floats) as the field's type.

    Raises:
        ValidationError: empty, or not a whole number where one is needed.
    """
    if value is None or value == "":
        raise ValidationError(f"{spec.name} is empty; enter a number.")
    number = float(value)
    if spec.kind == "int":
        if not number.is_integer():
            raise ValidationError(f"{spec.name} must be a whole number, got {value}.")
        return int(number)
    if spec.kind == "batch" and number.is_integer():
        return int(number)
    return number


def field_value(spec: FieldSpec, value: Any) -> Any:
    """The ``TrainingConfig`` value of one raw form value.

    Numbers are converted (``_number``), text is stripped, an empty optional field is None
    (``TrainingConfig`` picks its value), a bool is ``bool(value)``, extra train arguments are
    read from YAML text (or taken as a mapping) and checked (``extra_args``).

    Raises:
        ValidationError: a number field is empty or not a whole number where one is needed;
            extra arguments that are not a YAML mapping or that ``check_extra_args`` refuses.
    """
    empty = value is None or (isinstance(value, str) and not value.strip())
    if spec.kind == "args":
        return from_yaml(value) if isinstance(value, str) or value is None else \
            check_extra_args(value)
    if spec.optional and empty:
        return None
    if spec.kind in ("int", "float", "batch"):
        return _number(spec, value)
    if spec.kind == "bool":
        return bool(value)
    return "" if value is None else str(value).strip()


def config_from_values(specs: Sequence[FieldSpec], values: Sequence[Any]) -> TrainingConfig:
    """Build a TrainingConfig from raw values, one per spec of ``specs``, in that order.

    Raises:
        ValidationError: no dataset, a value ``field_value`` refuses, or a field out of range.
    """
    data = {spec.name: field_value(spec, value)
            for spec, value in zip(specs, values, strict=True)}
    if "dataset" in data and not data["dataset"]:
        raise ValidationError("Choose a dataset first.")
    return TrainingConfig(**data)


def config_from_cli(options: Mapping[str, Any], pairs: Mapping[str, Any],
                    base: TrainingConfig | None = None) -> TrainingConfig:
    """The TrainingConfig of ``train``'s options and its ``key=value`` pairs, over ``base``.

    A pair naming a studio field's Ultralytics argument (``epochs=3``, ``freeze=5``: the keys of
    ``extra_args.STUDIO_FIELDS``) sets that field, as its option would; every other pair is an
    extra argument (``TrainingConfig.extra_args``), added to ``base``'s.

    Args:
        options: Field name -> value of the options given (an option not given is absent).
        pairs: Ultralytics argument -> value, as ``ultralytics_args.parse_pairs`` read them.
        base: The configuration to change (a preset, a finished job's); None = the defaults.

    Raises:
        ValidationError: an option and a pair set one field to different values, a pair's value
            does not fit its field, or what ``config_from_values`` raises.
    """
    fields = {STUDIO_FIELDS[k]: (k, v) for k, v in pairs.items() if k in STUDIO_FIELDS}
    values = []
    for spec in cli_fields():
        value = options.get(spec.name, spec.default if base is None else getattr(base, spec.name))
        if spec.name in fields:
            key, raw = fields[spec.name]
            try:
                pair = field_value(spec, raw)
            except (TypeError, ValueError) as err:
                raise ValidationError(f"{key}={raw!r} does not fit the studio's {spec.name} "
                                      f"({spec.option_help or spec.kind}).") from err
            if spec.name in options and field_value(spec, options[spec.name]) != pair:
                raise ValidationError(f"{spec.option} {options[spec.name]} and {key}={raw} "
                                      "disagree: give one of them.")
            value = pair
        values.append(value)
    config = config_from_values(cli_fields(), values)
    base = base or config
    extra = {**base.extra_args, **{k: v for k, v in pairs.items() if k not in STUDIO_FIELDS}}
    others = {s.name: getattr(base, s.name) for s in TRAINING_FIELDS
              if not s.cli and s.kind != "args"}
    return dataclasses.replace(config, **others, extra_args=check_extra_args(extra))
