"""The Train form's presets, its last configuration per dataset, and "Retry with changes".

Each fills the form's fields (``train_tab.FORM_FIELDS``, the extra arguments' YAML view among
them, which then sets the argument boxes: ``train_args_panel``):

- a preset (``persistence.train_presets``: saved and loaded by name; it keeps the dataset and
  the model name the form has);
- the last configuration started for a dataset, when a page opens (``last_values``);
- a finished or failed job's configuration ("Retry with changes": the form is filled, nothing
  is queued until Start; the model name is left empty, the old one being taken).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..config import DEFAULT_FREEZE_LAYERS, TrainingConfig
from ..config_fields import config_from_values, form_fields
from ..errors import StudioError, ValidationError
from ..extra_args import yaml_text
from ..persistence.train_presets import TrainPresets
from ..training.job_config import finished_job_config, finished_jobs
from .errors import shows_errors
from .formatting import job_state

#: Seconds a notice stays up.
TOAST_S = 5


@dataclass
class PresetsPanel:
    """The components a page load refreshes (``load_outputs``)."""

    preset: gr.Dropdown
    retry_job: gr.Dropdown | None = None

    @property
    def load_outputs(self) -> list[gr.components.Component]:
        return [self.preset, *([self.retry_job] if self.retry_job is not None else [])]


def form_values(config: TrainingConfig, keep: Sequence[str] = ()) -> list[Any]:
    """Values of the form's fields (``form_fields()`` order) showing ``config``; the fields
    named in ``keep`` stay as they are (``gr.skip()``), the model name is left empty, and so is
    a freeze_layers that is its base model's default (0 for a ``.yaml``, 10 for a ``.pt``):
    empty means that default for whichever base model the form then gets."""
    default_freeze = 0 if config.from_scratch else DEFAULT_FREEZE_LAYERS
    values: list[Any] = []
    for spec in form_fields():
        value = getattr(config, spec.name)
        if spec.name in keep:
            values.append(gr.skip())
        elif spec.kind == "args":
            values.append(yaml_text(value))
        elif (spec.name == "model_name" or value is None
              or (spec.name == "freeze_layers" and value == default_freeze)):
            values.append(None if spec.kind in ("int", "float", "batch") else "")  # empty
        else:
            values.append(value)
    return values


def finished_choices(manager: Any) -> list[tuple[str, str]]:
    """Choices (label, job id) of the jobs whose configuration can be retried, newest first."""
    return [(f"{j.job_id} · {job_state(j)} · {j.model_name}", j.job_id)
            for j in finished_jobs(manager.jobs())]


def last_values(manager: Any, datasets: Sequence[str]) -> TrainingConfig | None:
    """The last configuration started on one of ``datasets`` (the most recent), or None (also
    when the file cannot be read: a page must open anyway)."""
    try:
        return TrainPresets(manager.settings.root).last(list(datasets))
    except StudioError:
        return None


def remember(manager: Any, config: TrainingConfig) -> None:
    """Keep ``config`` as its dataset's last one; a failure to write is only a warning (the
    job is queued already)."""
    try:
        TrainPresets(manager.settings.root).remember(config)
    except StudioError as err:
        gr.Warning(f"The form's values were not kept for the next visit: {err}")


def build_presets(manager: Any, inputs: Sequence[gr.components.Component]) -> PresetsPanel:
    """The Presets accordion: choose, save (the form as it is), load, delete; wired to the
    form's ``inputs`` (in ``form_fields()`` order)."""
    store = TrainPresets(manager.settings.root)
    with gr.Accordion("Presets", open=False, elem_id="presets-accordion"):
        with gr.Row():
            preset = gr.Dropdown(label="Preset", choices=[], elem_id="preset-dd", scale=2)
            name = gr.Textbox(label="Save the form as", placeholder="preset name",
                              elem_id="preset-name", scale=2)
        with gr.Row():
            buttons = {key: gr.Button(text, size="sm", elem_id=f"preset-{key}-btn")
                       for key, text in (("load", "Load"), ("save", "Save"),
                                         ("delete", "Delete"))}

    @shows_errors
    def on_save(new_name: str, *values: Any) -> gr.Dropdown:
        saved = store.save(new_name, config_from_values(form_fields(), values))
        gr.Info(f"Preset {saved} saved.", duration=TOAST_S)
        return gr.Dropdown(choices=store.names(), value=saved)

    @shows_errors
    def on_load(chosen: str | None, dataset: str | None) -> list[Any]:
        if not chosen:
            raise ValidationError("Choose a preset to load.")
        config = store.load(chosen, dataset or TrainingConfig().dataset)
        gr.Info(f"Preset {chosen} loaded (the dataset and model name are kept).",
                duration=TOAST_S)
        return form_values(config, keep=("dataset", "model_name"))

    @shows_errors
    def on_delete(chosen: str | None) -> gr.Dropdown:
        if not chosen:
            raise ValidationError("Choose a preset to delete.")
        store.delete(chosen)
        gr.Info(f"Preset {chosen} deleted.", duration=TOAST_S)
        return gr.Dropdown(choices=store.names(), value=None)

    common = dict(concurrency_limit=None, show_progress="hidden")
    buttons["save"].click(on_save, [name, *inputs], preset, api_name="save_preset", **common)
    buttons["load"].click(on_load, [preset, inputs[0]], list(inputs), api_name="load_preset",
                          **common)
    buttons["delete"].click(on_delete, preset, preset, api_name="delete_preset", **common)
    return PresetsPanel(preset)


def build_retry(manager: Any, inputs: Sequence[gr.components.Component], panel: PresetsPanel,
                jobs_table: gr.Dataframe) -> None:
    """"Retry with changes": a finished job's configuration into the form (``inputs``); its
    choices follow the job table."""
    with gr.Row():
        job = gr.Dropdown(label="Finished or failed job", choices=[], scale=3,
                          elem_id="retry-job-dd")
        button = gr.Button("Retry with changes", size="sm", scale=1,
                           elem_id="retry-changes-btn")
    panel.retry_job = job

    @shows_errors
    def on_retry(job_id: str | None) -> list[Any]:
        config = finished_job_config(manager.jobs(), job_id)
        gr.Info(f"The form holds job {job_id}'s configuration: change it, then Start.",
                duration=TOAST_S)
        return form_values(config)

    button.click(on_retry, job, list(inputs), api_name="retry_with_changes",
                 concurrency_limit=None, show_progress="hidden")
    jobs_table.change(lambda: gr.Dropdown(choices=finished_choices(manager)), None, job,
                      trigger_mode="always_last", concurrency_limit=None,
                      api_visibility="private", show_progress="hidden")


def load_values(manager: Any) -> list[Any]:
    """Values of ``PresetsPanel.load_outputs`` for a page load: the presets' and the finished
    jobs' choices."""
    try:
        names = TrainPresets(manager.settings.root).names()
    except StudioError as err:
        gr.Warning(str(err))
        names = []
    return [gr.Dropdown(choices=names), gr.Dropdown(choices=finished_choices(manager))]
