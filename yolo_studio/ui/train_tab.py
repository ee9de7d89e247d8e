"""The Train tab: dataset (health report, import: ``datasets_panel``), base model (the models
Ultralytics ships and uploads: ``weights_panel``, ``base_models_panel``), the TrainingConfig
fields, Start, Cancel, the duration estimate (``estimate_panel``) and the job queue
(``jobs_panel``).

Two tabs pressing Start together each queue a job: Start only calls
``TrainingManager.start_training``, which queues under a lock; the manager's single worker runs
one job at a time. A finished job (COMPLETED, CANCELLED, ERROR) needs no reset before the next
Start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..config import TrainingConfig
from ..config_fields import FieldSpec, config_from_values, form_fields
from ..errors import ValidationError
from ..training.snapshot import JobState
from ..training.train_command import cli_value
from ..training.ultralytics_args import studio_field_specs
from . import (base_models_panel, datasets_panel, estimate_panel, jobs_panel, monitor_tab,
               train_args_panel, train_presets_panel, weights_files, weights_panel)
from .datasets_panel import dataset_choices, dataset_info_html
from .errors import shows_errors
from .formatting import job_state
from .hosting import ServerAccess
from .jobs_panel import jobs_value
from .monitor_follow import job_of

__all__ = ["FORM_FIELDS", "TrainTab", "build", "cancel_handler", "check_base_model_allowed",
           "config_from_form", "dataset_choices", "dataset_info_html", "jobs_value",
           "load_values", "start_message"]

#: Seconds a notice stays up (Gradio's default is 10; notices sit over the page's top right).
TOAST_S = 5
#: Form fields in the order the Start handler (and ``/start_training``) receives them: the
#: names of ``config_fields.form_fields()``.
FORM_FIELDS = tuple(spec.name for spec in form_fields())
#: The form's groups after the dataset and base model, each laid out in a row; ``name`` on its
#: own line, ``advanced`` in the closed "Advanced" accordion.
_ROWS = ("numbers", "training")


@dataclass
class TrainTab:
    """The components other tabs and the app wire to.

    ``dataset_added`` (a ``gr.State``) changes to a dataset's name when one is imported;
    ``load_outputs`` take ``load_values()``; ``base_model`` also gets the whole list of base
    models from a page load of its own (``base_model_loads``).
    """

    dataset: gr.Dropdown
    base_model: gr.Dropdown
    inputs: list[gr.components.Component]
    start_btn: gr.Button
    cancel_btn: gr.Button
    jobs_table: gr.Dataframe
    job_select: gr.Dropdown
    dataset_added: gr.State
    #: Hidden HTML the jobs stream fills with ``monitor_tab.training_flag`` (Cancel's look).
    training_flag: gr.HTML | None = None
    #: The presets' and "Retry with changes"' choices a page load refreshes.
    presets: train_presets_panel.PresetsPanel | None = None

    @property
    def load_outputs(self) -> list[gr.components.Component]:
        """The form's fields (``FORM_FIELDS`` order), then the presets' choices."""
        return [*self.inputs, *(self.presets.load_outputs if self.presets else [])]


def config_from_form(*values: Any) -> TrainingConfig:
    """Build a TrainingConfig from the form values, in ``FORM_FIELDS`` order.

    Raises:
        ValidationError: a field is empty, not a number where one is needed, or out of range.
    """
    return config_from_values(form_fields(), values)


def yolo_default_notes() -> dict[str, str]:
    """Field name -> what ``yolo train`` defaults to, for the fields whose studio default
    differs (``ultralytics_args.studio_field_specs``: read from the installed Ultralytics)."""
    return {name: f"yolo train's default: {cli_value(spec.yolo_default)}"
            for name, spec in studio_field_specs().items() if spec.differs}


def _field(spec: FieldSpec, note: str = "", **overrides: Any) -> gr.components.Component:
    """The form component of ``spec`` (its label, help and ``note`` as info, id and default
    value); ``overrides`` replace or add keyword arguments of the component."""
    kwargs: dict[str, Any] = dict(label=spec.label, elem_id=spec.elem_id)
    if spec.help or note:
        kwargs["info"] = " · ".join(text for text in (spec.help, note) if text)
    if spec.kind == "bool":
        kind, kwargs["value"] = gr.Checkbox, bool(spec.default)
    elif spec.slider is not None:
        kind, kwargs["value"] = gr.Slider, spec.default
        kwargs.update(zip(("minimum", "maximum", "step"), spec.slider))
    elif spec.kind == "choice":
        kind = gr.Dropdown
        kwargs.update(choices=list(spec.choices), value=spec.default)
        if spec.custom:
            kwargs["allow_custom_value"] = True
    elif spec.kind in ("int", "float", "batch"):
        kind, kwargs["value"] = gr.Number, spec.default
        if spec.kind == "int":
            kwargs["precision"] = 0
    else:
        kind, kwargs["placeholder"] = gr.Textbox, spec.placeholder or None
        if spec.default is not None:
            kwargs["value"] = spec.default
    kwargs.update(overrides)
    return kind(**kwargs)


def _build_choices(manager: Any) -> tuple[gr.Dropdown, gr.Dropdown]:
    """The dataset and base-model dropdowns. The dataset's choices are the store's at build
    time (a page load refreshes them) and it takes any value, so a Gradio API client that never
    loaded a page can name any dataset, one imported later too: the handlers check the name
    against the store (``NotFoundError`` naming the available ones)."""
    specs = {spec.name: spec for spec in form_fields()}
    with gr.Row():
        dataset = _field(specs["dataset"], choices=dataset_choices(manager),
                         value=None, scale=2)  # the value is set by a page load
        base = _field(specs["base_model"], scale=2, **weights_panel.initial_choices(manager))
    return dataset, base


def _build_fields() -> dict[str, gr.components.Component]:
    """The form's components after the dataset and base model, by field name; the Advanced
    accordion holds the Ultralytics arguments (``train_args_panel``) and their YAML view, the
    ``extra_args`` field."""
    fields: dict[str, gr.components.Component] = {}
    notes = yolo_default_notes()

    def lay_out(group: str) -> None:
        fields.update((s.name, _field(s, notes.get(s.name, ""))) for s in form_fields()
                      if s.form == group and s.kind != "args")

    for group in _ROWS:
        with gr.Row():
            lay_out(group)
    lay_out("name")
    with gr.Accordion("Advanced", open=False, elem_id="advanced"):
        with gr.Row():
            lay_out("advanced")
        [args] = [s for s in form_fields() if s.kind == "args"]
        fields[args.name] = train_args_panel.build(args).yaml
    return fields


def build(manager: Any, access: ServerAccess | None = None) -> TrainTab:
    """Lay out the Train tab inside the current ``gr.Tab`` and wire its own events.

    Args:
        manager: The TrainingManager.
        access: What the browser may do with server files (weights upload, folder import);
            None = both off (the safe default when the hosting is unknown).
    """
    access = access if access is not None else ServerAccess()
    dataset, base = _build_choices(manager)
    datasets = datasets_panel.build(manager, access, dataset)
    with gr.Accordion("Base weights and models", open=False,
                      elem_id="weights-accordion") as weights_box:
        weights_panel.build(manager, access, base)
        base_models_panel.build(manager, weights_box)
    fields = {"dataset": dataset, "base_model": base, **_build_fields()}
    inputs = [fields[name] for name in FORM_FIELDS]
    presets = train_presets_panel.build_presets(manager, inputs)
    train_args_panel.build_command(manager, inputs)
    with gr.Row():
        start = gr.Button("Start", variant="primary", elem_id="start-btn")
        cancel = gr.Button("Cancel", variant="stop", elem_id="cancel-btn")
    estimate_panel.build(manager, inputs,
                         lambda base_model: check_base_model_allowed(manager, base_model, access))
    # the style of both Cancel buttons (monitor_tab.CANCEL_CSS) and the flag it keys on
    gr.HTML(monitor_tab.CANCEL_CSS, elem_id="cancel-style", container=False, padding=False)
    flag = gr.HTML("", elem_id="training-flag", container=False, padding=False)
    jobs = jobs_panel.build(manager)
    train_presets_panel.build_retry(manager, inputs, presets, jobs.table)
    tab = TrainTab(dataset, base, inputs, start, cancel, jobs.table, jobs.select, datasets.added,
                   flag, presets)
    _wire(manager, tab, access)
    return tab


#: Extra train arguments whose text names a weights file Ultralytics loads (a pickle).
WEIGHTS_ARGS = ("pretrained", "distill_model")


def check_base_model_allowed(manager: Any, base_model: str, access: ServerAccess,
                             what: str = "Base model") -> None:
    """Refuse a ``.pt`` outside ``<root>/weights`` on a studio that refuses uploads: a path
    typed into the form could point at a pickle that arrived some other way (e.g. in a zip).

    Args:
        what: How the message names the value (``"Base model"``, ``"distill_model"``).

    Raises:
        ValidationError: naming the allowed choices.
    """
    if access.weights_upload:
        return
    folder = weights_files.weights_dir(manager.settings.root)
    if not weights_files.is_offered_base_model(base_model, folder):
        raise ValidationError(
            f"{what} {base_model!r} is not offered here: this studio only trains from the "
            f"listed models, a .yaml architecture, or .pt files the operator put in {folder}, "
            "because loading a .pt runs code (pickle).")


def check_weights_allowed(manager: Any, config: TrainingConfig, access: ServerAccess) -> None:
    """``check_base_model_allowed`` for the base model and each weights file an extra
    argument names (``WEIGHTS_ARGS`` given as text)."""
    check_base_model_allowed(manager, config.base_model, access)
    for key in WEIGHTS_ARGS:
        value = config.extra_args.get(key)
        if isinstance(value, str):
            check_base_model_allowed(manager, value, access, what=key)


def _wire(manager: Any, tab: TrainTab, access: ServerAccess) -> None:
    @shows_errors
    def on_start(*values: Any) -> list[list[Any]]:
        config = config_from_form(*values)
        check_weights_allowed(manager, config, access)
        job_id = manager.start_training(config)  # notes only for a job that was queued
        train_presets_panel.remember(manager, config)
        jobs = manager.jobs()
        at_once = bool(getattr(getattr(manager, "executor", None), "concurrent", False))
        gr.Info(" ".join([start_message(job_id, config, jobs, at_once), *config.notes]),
                duration=TOAST_S)
        return jobs_value(manager, jobs)  # the job selector's choices come from the stream

    for event in (
            tab.start_btn.click(on_start, tab.inputs, tab.jobs_table,
                                concurrency_limit=None, api_name="start_training",
                                show_progress="hidden"),
            tab.cancel_btn.click(cancel_handler(manager), None, tab.jobs_table,
                                 concurrency_limit=None, api_name="cancel_training",
                                 show_progress="hidden")):
        jobs_panel.refresh_after(event, manager, tab.jobs_table)


def start_message(job_id: str, config: TrainingConfig, jobs: Sequence[Any],
                  at_once: bool = False) -> str:
    """The Start notice: "Job X starts now: ..." when no job is ahead of it (queued or
    training, in ``jobs``, the queue in order), else "Job X queued behind N job(s): ...".
    With ``at_once`` (jobs train several at once, on a Ray cluster) only queued jobs are
    ahead of it, and with none it starts "as soon as the cluster has room"."""
    waiting = ("QUEUED",) if at_once else ("QUEUED", "TRAINING")
    ahead = 0
    for job in jobs:
        if job.job_id == job_id:
            break
        ahead += job_state(job) in waiting
    what = (f"{config.dataset} / {config.base_model}, {config.epochs} "
            f"epoch{'s' * (config.epochs != 1)}.")
    if ahead:
        return f"Job {job_id} queued behind {ahead} job(s): {what}"
    if at_once:
        return f"Job {job_id} starts as soon as the cluster has room: {what}"
    return f"Job {job_id} starts now: {what}"


def cancel_handler(manager: Any) -> Any:
    """An event handler that cancels a running job and returns the job-queue rows: the newest
    running job, or, given the Monitor's Follow value, the job it follows
    (``monitor_follow.job_of``; a job followed earlier and queued again since is removed
    from the queue, as ``TrainingManager.cancel`` does)."""
    @shows_errors
    def on_cancel(follow: str | None = None) -> list[list[Any]]:
        job_id = job_of(follow)
        state = manager.cancel(job_id)
        if state is JobState.CANCELLED:
            gr.Info("Cancel requested: training stops after the current batch.",
                    duration=TOAST_S)
        else:
            gr.Info(f"Job {job_id} was {state.value}: removed from the queue.",
                    duration=TOAST_S)
        return jobs_value(manager)
    return on_cancel


def load_values(manager: Any) -> list[Any]:
    """Fresh values for a page load (``TrainTab.load_outputs``): dataset choices and
    base-model choices (with uploaded weights; ``weights_panel.loaded_dropdown``: the whole
    list only once it was read, else the page's own base-model load brings it); the form as
    the last configuration started on an existing dataset left it (that dataset picked), else
    the first dataset and the defaults; the presets' choices. The job table and selector come
    with the page's first live update (``app.stream_groups``), their one source then."""
    names = dataset_choices(manager)
    last = train_presets_panel.last_values(manager, names)
    form = train_presets_panel.form_values(last) if last else [gr.skip()] * len(FORM_FIELDS)
    if not last:  # Gradio's Number shows a null it was built with as 0: send it empty
        form[FORM_FIELDS.index("freeze_layers")] = None
    dataset = last.dataset if last else (names[0] if names else None)
    base = weights_panel.loaded_dropdown(manager, last.base_model if last else None)
    return [gr.Dropdown(choices=names, value=dataset), base, *form[2:],
            *train_presets_panel.load_values(manager)]


def base_model_loads(manager: Any) -> tuple[Any, Any]:
    """The page's base-model load (``weights_panel.page_load``), which keeps the base model of
    a restored last configuration (``load_values``) as a choice the user made."""
    return weights_panel.page_load(
        manager, keep=lambda: train_presets_panel.last_values(
            manager, dataset_choices(manager)) is not None)
