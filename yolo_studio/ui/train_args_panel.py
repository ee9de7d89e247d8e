"""The Train tab's Ultralytics arguments: a box per train argument in groups, the YAML view of
the changed ones, and the equivalent yolo command.

The YAML view (the form's ``extra_args`` field, Start's last input) is the one source of what
is sent: it holds only the arguments that differ from the studio's defaults. Editing a box
writes its argument into the YAML (or takes it out when back at its default); a change of the
YAML, typed by a power user or set by a preset, sets the boxes, marks each argument it holds as
changed and counts them in its group's title. What each box shows (name, default, help, kind)
is the installed Ultralytics' (``training.ultralytics_args``); this module only lays it out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..config_fields import config_from_values, form_fields
from ..errors import StudioError, ValidationError
from ..extra_args import check_extra_args, from_yaml, yaml_text
from ..training.train_command import cli_value, job_command
from ..training.ultralytics_args import (GROUPS, ArgSpec, check_config, extra_arg_specs,
                                         parse_text)
from .errors import shows_errors

#: The CSS class of a box whose argument is changed (sent with the job).
CHANGED_CLASS = "arg-changed"
#: Marks changed boxes (a bar on the left in the accent colour).
CSS = (f"<style>.{CHANGED_CLASS} {{ border-left: 4px solid var(--color-accent) !important; }}"
       "</style>")
#: Boxes per row inside a group.
PER_ROW = 4


@dataclass
class ArgsPanel:
    """The components of the arguments section.

    ``boxes`` are in ``specs`` order; ``yaml`` is the form's ``extra_args`` field.
    """

    specs: tuple[ArgSpec, ...]
    boxes: list[gr.components.Component]
    groups: dict[str, gr.Accordion]
    yaml: gr.Code


def same(a: Any, b: Any) -> bool:
    """Equal values of one argument (``1 == 1.0``, but ``True`` is not ``1``)."""
    return isinstance(a, bool) == isinstance(b, bool) and a == b


def shown(spec: ArgSpec, value: Any) -> Any:
    """The box's value for an argument's value (text boxes hold it as the yolo CLI writes
    it; an empty text box is None)."""
    if spec.kind == "text":
        return "" if value is None else cli_value(value)
    return value


def read(spec: ArgSpec, raw: Any) -> Any:
    """The argument's value of a box's value (text read as the yolo CLI reads it)."""
    if spec.kind == "text":
        return parse_text(raw)
    if spec.kind == "bool":
        return bool(raw)
    if spec.kind == "int" and isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if spec.kind == "float" and isinstance(raw, int) and not isinstance(raw, bool):
        return float(raw)  # a whole number typed into a float box
    return raw


def label(spec: ArgSpec, changed: bool) -> str:
    """A box's label: the argument's name, and when changed, the default it differs from."""
    return f"{spec.name} ● changed (default {cli_value(spec.default)})" if changed else spec.name


def info(spec: ArgSpec) -> str:
    """A box's help: Ultralytics' comment, and where the studio's default is not yolo
    train's, both."""
    if spec.differs:
        return (f"{spec.help} · studio default {cli_value(spec.default)}; yolo train: "
                f"{cli_value(spec.yolo_default)}")
    return spec.help


def _box(spec: ArgSpec) -> gr.components.Component:
    kwargs: dict[str, Any] = dict(label=spec.name, info=info(spec), elem_id=f"arg-{spec.name}",
                                  value=shown(spec, spec.default), min_width=200)
    if spec.kind == "bool":
        return gr.Checkbox(**kwargs)
    if spec.kind in ("int", "float"):
        return gr.Number(**kwargs, precision=0 if spec.kind == "int" else None)
    return gr.Textbox(**kwargs, placeholder="None" if spec.default is None else None)


def build(yaml_spec: Any) -> ArgsPanel:
    """Lay out the groups of boxes and the YAML view (inside the Advanced accordion).

    Args:
        yaml_spec: The ``extra_args`` ``FieldSpec`` (label, help and id of the YAML view).
    """
    specs = extra_arg_specs()
    gr.HTML(CSS, container=False, padding=False)
    boxes: list[gr.components.Component] = []
    groups: dict[str, gr.Accordion] = {}
    for group, title in GROUPS.items():
        members = [spec for spec in specs if spec.group == group]
        if not members:
            continue
        with gr.Accordion(title, open=False, elem_id=f"args-{group}") as groups[group]:
            for start in range(0, len(members), PER_ROW):
                with gr.Row():
                    boxes += [_box(spec) for spec in members[start:start + PER_ROW]]
    yaml = gr.Code("", language="yaml", lines=3, interactive=True, label=yaml_spec.label,
                   elem_id=yaml_spec.elem_id)
    gr.Markdown(f"{yaml_spec.help.capitalize()}. The boxes above and this view follow each other; Start "
                "sends what this view holds, checked by Ultralytics first.")
    panel = ArgsPanel(tuple(s for g in GROUPS for s in specs if s.group == g and g in groups),
                      boxes, groups, yaml)
    _wire(panel)
    return panel


def with_value(text: str, spec: ArgSpec, raw: Any) -> str:
    """The YAML view ``text`` after a box of ``spec`` was set to ``raw``: the argument is
    written in, or taken out when at its default.

    Raises:
        ValidationError: ``text`` is not a valid YAML view, or the value is refused.
    """
    extra = from_yaml(text)
    value = read(spec, raw)
    if same(value, spec.default):
        extra.pop(spec.name, None)
    else:
        extra[spec.name] = value
    return yaml_text(check_extra_args(extra))


def box_updates(panel: ArgsPanel, text: str, raws: Sequence[Any],
                values: bool = True) -> list[Any]:
    """Updates of the boxes (value where it differs, unless ``values`` is False; label, mark)
    then the group titles (with the number changed) for the YAML view ``text``; all skipped
    while it is not valid (a user in the middle of typing it)."""
    try:
        extra = from_yaml(text)
    except ValidationError:
        return [gr.skip()] * (len(panel.boxes) + len(panel.groups))
    counts: Counter[str] = Counter()
    updates = []
    for spec, raw in zip(panel.specs, raws):
        changed = spec.name in extra
        counts[spec.group] += changed
        update: dict[str, Any] = dict(label=label(spec, changed),
                                      elem_classes=[CHANGED_CLASS] if changed else [])
        value = extra.get(spec.name, spec.default)
        try:
            current = read(spec, raw)
        except StudioError:
            current = object()
        numeric = spec.kind not in ("int", "float") or value is None or (
            isinstance(value, (int, float)) and not isinstance(value, bool))
        if values and not same(current, value) and numeric:
            update["value"] = shown(spec, value)
        updates.append(gr.update(**update))
    titles = [gr.update(label=GROUPS[g] + (f" ({counts[g]} changed)" if counts[g] else ""))
              for g in panel.groups]
    return updates + titles


def yaml_changed(panel: ArgsPanel, text: str, echoed: str, raws: Sequence[Any]) -> list[Any]:
    """The boxes' and titles' updates for a new YAML view ``text``. When ``text`` is
    ``echoed``, the YAML a box's own input just wrote, the boxes keep their values (labels and
    marks only): the user may have typed on in that box since, and writing back the value
    the YAML had would undo those keystrokes. Any other change (typed in the YAML view, a
    preset, Retry with changes, a page load) sets the boxes' values too."""
    return box_updates(panel, text, raws, values=text != echoed)


def _wire(panel: ArgsPanel) -> None:
    echoed = gr.State("")  # the YAML view as a box's input last wrote it
    for spec, box in zip(panel.specs, panel.boxes):
        @shows_errors
        def on_input(raw: Any, text: str, spec: ArgSpec = spec) -> tuple[str, str]:
            new = with_value(text, spec, raw)
            return new, new
        box.input(on_input, [box, panel.yaml], [panel.yaml, echoed], concurrency_limit=None,
                  api_visibility="private", show_progress="hidden")
    panel.yaml.change(lambda text, sent, *raws: yaml_changed(panel, text, sent, raws),
                      [panel.yaml, echoed, *panel.boxes],
                      [*panel.boxes, *panel.groups.values()], trigger_mode="always_last",
                      concurrency_limit=None, api_visibility="private", show_progress="hidden")


def command_text(manager: Any, values: Sequence[Any]) -> str:
    """The yolo command of the form's ``values`` (in ``form_fields()`` order), after
    Ultralytics' checks; what is wrong, as a ``#`` comment, when the form cannot start."""
    try:
        config = check_config(config_from_values(form_fields(), values))
        return job_command(config, manager.datasets)
    except StudioError as err:
        return f"# Start would refuse this form: {err}"


def build_command(manager: Any, inputs: Sequence[gr.components.Component]) -> gr.Code:
    """The command preview (in its accordion), following every change of the form's
    ``inputs``; ``/train_command`` on the API (inputs as ``/start_training``'s)."""
    with gr.Accordion("Command preview (yolo CLI)", open=False, elem_id="command-accordion"):
        command = gr.Code("", language="shell", interactive=False, elem_id="command-preview",
                          label="The equivalent yolo command (reproduces the run from a shell)")
    gr.on([box.change for box in inputs], lambda *values: command_text(manager, values),
          list(inputs), command, trigger_mode="always_last", concurrency_limit=None,
          api_name="train_command", show_progress="hidden")
    return command
