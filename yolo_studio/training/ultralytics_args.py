"""Ultralytics' train arguments as plain data, and Ultralytics' own checks of a job's values.

What each argument is comes from the installed Ultralytics, never copied: the defaults from
``ultralytics.cfg.DEFAULT_CFG_DICT``, the help from the comments of ``ultralytics/cfg/default.yaml``
(``key: value # (type) help``), the kinds from ``CFG_BOOL_KEYS`` / ``CFG_INT_KEYS`` /
``CFG_FLOAT_KEYS`` / ``CFG_FRACTION_KEYS``. The studio adds only the grouping (``GROUP_OF``) and
which arguments are its own fields or set by it (``yolo_studio.extra_args``). A key of a train
section of default.yaml that ``GROUP_OF`` does not know (a newer Ultralytics) is shown in
``other``; a grouped key this Ultralytics lacks is left out.

The UI and the CLI get ``ArgSpec``s, plain values; this module (and ``ultralytics_backend``)
alone imports Ultralytics, lazily, through ``ultralytics_backend._ultralytics``.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import TrainingConfig
from ..errors import ValidationError
from ..extra_args import CONTROLLED, STUDIO_FIELDS, check_extra_args

#: The Advanced section's groups of extra arguments, in layout order -> title.
GROUPS = {"optimization": "Optimization", "augmentation": "Augmentation",
          "control": "Training control", "dataset": "Dataset",
          "tasks": "Other tasks (no effect on detection)", "other": "Other"}
_GROUPED = {
    "optimization": "momentum weight_decay warmup_epochs warmup_momentum warmup_bias_lr cos_lr "
                    "nbs box cls dfl cls_pw dis",
    "augmentation": "hsv_h hsv_s hsv_v degrees translate scale shear perspective flipud fliplr "
                    "bgr mosaic mixup cutmix close_mosaic multi_scale",
    "control": "time save_period amp deterministic compile channels_last profile pretrained "
               "cls_remap distill_model quantize val plots verbose save_json conf iou max_det",
    "dataset": "cache fraction single_cls rect classes split",
    "tasks": "overlap_mask mask_ratio dropout pose kobj rle angle dlog dgrad dlam copy_paste "
             "copy_paste_mode auto_augment erasing",
}
#: Ultralytics train argument -> its group (the studio's grouping; ``STUDIO_FIELDS`` keys are
#: the form's own fields and in no group).
GROUP_OF = {key: group for group, keys in _GROUPED.items() for key in keys.split()}
#: default.yaml sections whose keys are train arguments (a key of one that ``GROUP_OF`` does not
#: know goes to ``other``).
TRAIN_SECTIONS = ("Train settings", "Segmentation", "Classification", "Hyperparameters")

_KEY_LINE = re.compile(r"^(\w+):[^#]*#\s*(?:\(([^)]*)\))?\s*(.*)$")
_SECTION_LINE = re.compile(r"^#\s*([A-Za-z][^-]*?)\s*-*\s*$")


@dataclass(frozen=True)
class ArgSpec:
    """One Ultralytics train argument, as the installed Ultralytics describes it.

    Attributes:
        name: The argument (``mosaic``).
        group: A ``GROUPS`` key, or ``"studio"`` for an argument that is a studio field.
        kind: How the form edits it: ``bool`` (a checkbox), ``int`` / ``float`` (a number box;
            None allowed where the default is None), ``text`` (a value as the yolo CLI writes
            it, read with Ultralytics' ``smart_value``).
        default: What a studio run gets when the user leaves it: Ultralytics' default, or the
            studio's own (``TrainingConfig().to_train_kwargs()``).
        yolo_default: ``yolo train``'s default (``DEFAULT_CFG_DICT``).
        help: The comment in default.yaml, without its ``(type)``.
        type_hint: The ``(type)`` of that comment, such as ``float`` or ``int | list, optional``.
        field: The ``TrainingConfig`` field for a studio field, else None.
    """

    name: str
    group: str
    kind: str
    default: Any
    yolo_default: Any
    help: str
    type_hint: str
    field: str | None = None

    @property
    def differs(self) -> bool:
        """True when the studio's default is not ``yolo train``'s."""
        return repr(self.default) != repr(self.yolo_default)


def _cfg() -> Any:
    """``ultralytics.cfg``, imported with pip auto-install off."""
    from .ultralytics_backend import _ultralytics

    _ultralytics()
    import ultralytics.cfg

    return ultralytics.cfg


def read_default_yaml(path: Path) -> dict[str, tuple[str, str, str]]:
    """``key -> (section, type hint, help)`` from the comments of Ultralytics' default.yaml."""
    comments: dict[str, tuple[str, str, str]] = {}
    section = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        key = _KEY_LINE.match(line)
        if key:
            comments[key.group(1)] = (section, (key.group(2) or "").strip(), key.group(3).strip())
        elif (head := _SECTION_LINE.match(line)) and not line.startswith("# ("):
            section = head.group(1).strip()
    return comments


def _kind(cfg: Any, name: str, default: Any, type_hint: str) -> str:
    if name in cfg.CFG_BOOL_KEYS and isinstance(default, bool):
        return "bool"
    single = "|" not in type_hint
    if name in cfg.CFG_INT_KEYS and single:
        return "int"
    if name in cfg.CFG_FLOAT_KEYS | cfg.CFG_FRACTION_KEYS and single:
        return "float"
    return "text"


@functools.lru_cache(maxsize=1)
def train_arg_specs() -> tuple[ArgSpec, ...]:
    """Every Ultralytics train argument a user can set: the studio fields (group
    ``"studio"``) first, then each group of ``GROUPS`` in default.yaml's order.
    ``CONTROLLED`` arguments are left out. Read once per process."""
    cfg = _cfg()
    from ultralytics.utils import DEFAULT_CFG_PATH

    comments = read_default_yaml(Path(DEFAULT_CFG_PATH))
    studio = TrainingConfig().to_train_kwargs()
    specs = []
    for name, yolo_default in cfg.DEFAULT_CFG_DICT.items():
        section, hint, text = comments.get(name, ("", "", ""))
        group = "studio" if name in STUDIO_FIELDS else GROUP_OF.get(name)
        if group is None and section.startswith(TRAIN_SECTIONS):
            group = "other"
        if group is None or name in CONTROLLED:
            continue
        specs.append(ArgSpec(name, group, _kind(cfg, name, yolo_default, hint),
                             studio.get(name, yolo_default), yolo_default, text, hint,
                             STUDIO_FIELDS.get(name)))
    order = ["studio", *GROUPS]
    return tuple(sorted(specs, key=lambda s: order.index(s.group)))


def extra_arg_specs() -> tuple[ArgSpec, ...]:
    """``train_arg_specs()`` without the studio fields: what ``extra_args`` may hold."""
    return tuple(spec for spec in train_arg_specs() if spec.field is None)


def studio_field_specs() -> dict[str, ArgSpec]:
    """``TrainingConfig`` field -> the ``ArgSpec`` of the Ultralytics argument it sets."""
    return {spec.field: spec for spec in train_arg_specs() if spec.field}


def parse_text(text: str | None) -> Any:
    """A value written as on the yolo command line (``0.5``, ``True``, ``[0, 2]``, ``disk``)
    as Ultralytics' ``smart_value`` reads it; empty text is None."""
    text = (text or "").strip()
    return _cfg().smart_value(text) if text else None


def parse_pairs(tokens: Iterable[str]) -> dict[str, Any]:
    """``key=value`` tokens (the yolo CLI's form) -> {key: value}, each value read by
    Ultralytics' ``parse_key_value_pair``.

    Raises:
        ValidationError: a token without ``=`` or a value, or a key given twice.
    """
    cfg = _cfg()
    pairs: dict[str, Any] = {}
    for token in tokens:
        key, _, raw = token.partition("=")
        if not key.strip() or not raw.strip():
            raise ValidationError(f"{token!r} is not a train argument: write key=value, such "
                                  "as mosaic=0.5 (no spaces around =).")
        key, value = cfg.parse_key_value_pair(token)
        if key in pairs:
            raise ValidationError(f"Train argument {key} is given twice ({key}={pairs[key]!r} "
                                  f"and {token}); give it once.")
        pairs[key] = value
    return pairs


class _DropHelp(logging.Filter):
    """Drops Ultralytics' CLI help text, which ``check_dict_alignment`` logs before raising."""

    def __init__(self, help_text: str) -> None:
        super().__init__()
        self.help_text = help_text

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != self.help_text


@contextlib.contextmanager
def _without_help(cfg: Any) -> Iterator[None]:
    logger = logging.getLogger("ultralytics")
    drop = _DropHelp(cfg.CLI_HELP_MSG)
    logger.addFilter(drop)
    try:
        yield
    finally:
        logger.removeFilter(drop)


def _sentence(err: BaseException) -> str:
    """An error's text on one line, ending with a full stop."""
    text = " ".join(str(err).split())
    return text if text.endswith(".") else text + "."


def _align(cfg: Any, extra: dict[str, Any]) -> None:
    """Ultralytics' ``check_dict_alignment``: deprecated keys renamed in ``extra`` in place
    (``half`` -> ``quantize``, ...), unknown ones refused with Ultralytics' suggestions."""
    try:
        with _without_help(cfg):
            cfg.check_dict_alignment(cfg.DEFAULT_CFG_DICT, extra, allowed_custom_keys=set())
    except SyntaxError as err:
        raise ValidationError(f"Unknown train argument: {_sentence(err)} Correct the name (the Advanced "
                              "section lists every train argument).") from err


def check_with_ultralytics(extra: Mapping[str, Any]) -> dict[str, Any]:
    """``extra`` (a ``TrainingConfig.extra_args``) as Ultralytics accepts it, or why not.

    Ultralytics' ``check_dict_alignment`` (a key it does not know, with its suggestions; a
    deprecated key renamed), then the studio's rules again (``extra_args.check_extra_args``)
    and its train arguments only, then Ultralytics' ``check_cfg`` (types and ranges; values
    it canonicalizes, such as ``amp='FP16'``, come back canonical).

    Raises:
        ValidationError: naming the argument and what Ultralytics said about it.
    """
    checked = dict(extra)
    if not checked:
        return {}
    cfg = _cfg()
    _align(cfg, checked)
    checked = check_extra_args(checked)
    known = {spec.name for spec in extra_arg_specs()}
    comments = None
    for key in checked:
        if key not in known:
            from ultralytics.utils import DEFAULT_CFG_PATH

            comments = comments or read_default_yaml(Path(DEFAULT_CFG_PATH))
            section = comments.get(key, ("other settings",))[0] or "other settings"
            raise ValidationError(f"{key} is not a train argument: Ultralytics reads it in its "
                                  f"{section.lower()}, not when training.")
    try:
        cfg.check_cfg(checked, hard=True)
    except (TypeError, ValueError) as err:
        raise ValidationError(f"Train argument refused by Ultralytics: {_sentence(err)} Fix it "
                              "in the Advanced section (or the key=value pair).") from err
    return check_extra_args(checked)


def check_config(config: TrainingConfig) -> TrainingConfig:
    """Run Ultralytics' checks on ``config`` before it is queued: its ``extra_args``
    (``check_with_ultralytics``), then every train argument together through ``get_cfg``, as
    ``model.train`` will. Nothing is imported when there are no extra arguments (the studio's
    fields are checked by ``TrainingConfig``).

    Returns:
        ``config``, with its extra arguments in Ultralytics' canonical form when they differ.

    Raises:
        ValidationError: an argument Ultralytics refuses, named.
    """
    if not config.extra_args:
        return config
    extra = check_with_ultralytics(config.extra_args)
    if extra != config.extra_args:
        from dataclasses import replace

        config = replace(config, extra_args=extra)
    cfg = _cfg()
    try:
        with _without_help(cfg):
            cfg.get_cfg(cfg.DEFAULT_CFG_DICT, dict(config.to_train_kwargs(), mode="train"))
    except (SyntaxError, TypeError, ValueError) as err:
        raise ValidationError(f"Ultralytics refuses this configuration: {_sentence(err)}") from err
    return config
