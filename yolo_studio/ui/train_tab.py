"""The Train tab: dataset (with its health report), base model, TrainingConfig fields, Start,
Cancel and the job queue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..config import BASE_MODELS, OPTIMIZERS, TrainingConfig
from ..errors import ValidationError
from . import formatting as fmt
from .errors import show_infos, shows_errors

_DEFAULTS = TrainingConfig()
#: Form fields in the order the Start handler receives them (names of TrainingConfig fields).
FORM_FIELDS = ("dataset", "base_model", "epochs", "batch", "imgsz", "patience", "freeze_layers",
               "lr0", "lrf", "model_name", "max_gpu_memory_percent", "optimizer", "workers",
               "device", "stop_on_resource_alert")
_INT_FIELDS = {"epochs", "imgsz", "patience", "freeze_layers", "workers"}
_FLOAT_FIELDS = {"lr0", "lrf", "max_gpu_memory_percent"}


@dataclass
class TrainTab:
    """The components other tabs and the app wire to."""

    dataset: gr.Dropdown
    inputs: list[gr.components.Component]
    start_btn: gr.Button
    cancel_btn: gr.Button
    jobs_table: gr.Dataframe
    job_select: gr.Dropdown


def _number(name: str, value: Any) -> int | float:
    if value is None or value == "":
        raise ValidationError(f"{name} is empty; enter a number.")
    number = float(value)
    if name in _INT_FIELDS:
        if not number.is_integer():
            raise ValidationError(f"{name} must be a whole number, got {value}.")
        return int(number)
    if name == "batch" and number.is_integer():
        return int(number)
    return number


def config_from_form(*values: Any) -> TrainingConfig:
    """Build a TrainingConfig from the form values, in ``FORM_FIELDS`` order.

    Raises:
        ValidationError: a field is empty, not a number where one is needed, or out of range.
    """
    data = dict(zip(FORM_FIELDS, values, strict=True))
    for name in _INT_FIELDS | _FLOAT_FIELDS | {"batch"}:
        data[name] = _number(name, data[name])
    if not data["dataset"]:
        raise ValidationError("Choose a dataset first.")
    data["base_model"] = str(data["base_model"] or "").strip()
    data["model_name"] = str(data["model_name"] or "").strip() or None
    data["device"] = str(data["device"] or "").strip()
    data["stop_on_resource_alert"] = bool(data["stop_on_resource_alert"])
    return TrainingConfig(**data)


def dataset_choices(manager: Any) -> list[str]:
    """Names of the datasets in the manager's DatasetStore, sorted."""
    return sorted(manager.datasets.list())


def dataset_markdown(manager: Any, name: str | None) -> str:
    """Markdown describing a dataset: images per split, classes and the health-check summary."""
    if not name:
        return "Choose a dataset to see its contents and health check."
    info = manager.datasets.get(name)
    splits = ", ".join(f"{split} {count}" for split, count in info.image_counts.items())
    classes = ", ".join(info.class_names)
    report = manager.datasets.check_health(name)
    head = ("OK, ready to train" if report.ok else
            "BLOCKED: fix the problems below before training")
    text = (f"**{info.name}**: {info.snapshot} ({splits})  \nClasses: {classes}  \n"
            f"Health check: {head}")
    summary = report.summary()
    return text + (f"\n\n```\n{summary}\n```" if summary else "")


def jobs_value(manager: Any) -> list[list[Any]]:
    """Rows of the job-queue table."""
    return fmt.job_rows(manager.jobs())


def _job_choices(manager: Any) -> gr.Dropdown:
    ids = [job.job_id for job in manager.jobs() if fmt.job_state(job) == "QUEUED"]
    return gr.Dropdown(choices=ids, value=ids[0] if ids else None)


def _build_form() -> list[gr.components.Component]:
    d = _DEFAULTS
    with gr.Row():
        dataset = gr.Dropdown(label="Dataset", choices=[], elem_id="dataset-dd", scale=2)
        base = gr.Dropdown(label="Base model", choices=list(BASE_MODELS), value=d.base_model,
                           allow_custom_value=True, elem_id="base-model-dd", scale=2,
                           info=".pt = pretrained (download or local path), .yaml = from scratch")
    with gr.Row():
        epochs = gr.Number(label="epochs", value=d.epochs, precision=0, minimum=1, elem_id="epochs")
        batch = gr.Number(label="batch", value=d.batch, elem_id="batch",
                          info="images per batch; -1 = AutoBatch; 0-1 = GPU memory fraction")
        imgsz = gr.Number(label="imgsz (pixels)", value=d.imgsz, precision=0, elem_id="imgsz")
        patience = gr.Number(label="patience (epochs)", value=d.patience, precision=0,
                             elem_id="patience")
    with gr.Row():
        freeze = gr.Number(label="freeze_layers", value=d.freeze_layers, precision=0,
                           elem_id="freeze-layers")
        lr0 = gr.Number(label="lr0", value=d.lr0, elem_id="lr0")
        lrf = gr.Number(label="lrf (fraction of lr0)", value=d.lrf, elem_id="lrf")
        gpu = gr.Slider(0.05, 1.0, value=d.max_gpu_memory_percent, step=0.05,
                        label="max_gpu_memory_percent (fraction 0-1)", elem_id="max-gpu-memory")
    name = gr.Textbox(label="model_name", placeholder="empty = generated from the time",
                      elem_id="model-name")
    with gr.Accordion("Advanced", open=False, elem_id="advanced"):
        with gr.Row():
            optimizer = gr.Dropdown(label="optimizer", choices=list(OPTIMIZERS),
                                    value=d.optimizer, elem_id="optimizer")
            workers = gr.Number(label="workers", value=d.workers, precision=0, elem_id="workers")
            device = gr.Textbox(label="device", value=d.device, elem_id="device",
                                placeholder="empty = automatic; cpu, 0, 0,1 ...")
            stop = gr.Checkbox(label="stop on resource alert", value=d.stop_on_resource_alert,
                               elem_id="stop-on-alert")
    return [dataset, base, epochs, batch, imgsz, patience, freeze, lr0, lrf, name, gpu,
            optimizer, workers, device, stop]


def build(manager: Any) -> TrainTab:
    """Lay out the Train tab inside the current ``gr.Tab`` and wire its own events."""
    inputs = _build_form()
    info = gr.Markdown(elem_id="dataset-info")
    with gr.Row():
        start = gr.Button("Start", variant="primary", elem_id="start-btn")
        cancel = gr.Button("Cancel", variant="stop", elem_id="cancel-btn")
    gr.Markdown("### Job queue")
    jobs = gr.Dataframe(headers=fmt.JOB_COLUMNS, value=[], interactive=False,
                        elem_id="jobs-table", wrap=True)
    with gr.Row():
        job_select = gr.Dropdown(label="Queued job", choices=[], elem_id="job-select", scale=2)
        up = gr.Button("Move up", elem_id="job-up-btn", size="sm")
        down = gr.Button("Move down", elem_id="job-down-btn", size="sm")
        remove = gr.Button("Remove", elem_id="job-remove-btn", size="sm")
    tab = TrainTab(inputs[0], inputs, start, cancel, jobs, job_select)
    _wire(manager, tab, info, (up, down, remove))
    return tab


def _wire(manager: Any, tab: TrainTab, info: gr.Markdown, queue_btns: tuple) -> None:
    @shows_errors
    def on_dataset(name: str | None) -> str:
        return dataset_markdown(manager, name)

    @shows_errors
    def on_start(*values: Any) -> tuple[list[list[Any]], gr.Dropdown]:
        config = config_from_form(*values)
        show_infos(config.notes)
        job_id = manager.start_training(config)
        gr.Info(f"Job {job_id} queued: {config.dataset} / {config.base_model}, "
                f"{config.epochs} epochs.")
        return jobs_value(manager), _job_choices(manager)

    def queue_action(action: Any) -> Any:
        @shows_errors
        def handler(job_id: str | None) -> tuple[list[list[Any]], gr.Dropdown]:
            if not job_id:
                raise ValidationError("Choose a queued job first.")
            action(job_id)
            return jobs_value(manager), _job_choices(manager)
        return handler

    tab.dataset.change(on_dataset, tab.dataset, info, concurrency_limit=None,
                       api_name="dataset_info")
    tab.start_btn.click(on_start, tab.inputs, [tab.jobs_table, tab.job_select],
                        concurrency_limit=None, api_name="start_training", show_progress="hidden")
    tab.cancel_btn.click(cancel_handler(manager), None, tab.jobs_table, concurrency_limit=None,
                         api_name="cancel_training", show_progress="hidden")
    up, down, remove = queue_btns
    for btn, action, api in ((up, lambda j: manager.move_job(j, -1), "move_job_up"),
                             (down, lambda j: manager.move_job(j, 1), "move_job_down"),
                             (remove, manager.remove_job, "remove_job")):
        btn.click(queue_action(action), tab.job_select, [tab.jobs_table, tab.job_select],
                  concurrency_limit=None, api_name=api, show_progress="hidden")


def cancel_handler(manager: Any) -> Any:
    """An event handler that cancels the running job and returns the job-queue rows."""
    @shows_errors
    def on_cancel() -> list[list[Any]]:
        manager.cancel()
        gr.Info("Cancel requested: training stops after the current batch.")
        return jobs_value(manager)
    return on_cancel


def load_values(manager: Any) -> tuple[gr.Dropdown, list[list[Any]], gr.Dropdown]:
    """Fresh values for a page load: dataset choices (first one picked), jobs, queued ids."""
    names = dataset_choices(manager)
    return (gr.Dropdown(choices=names, value=names[0] if names else None), jobs_value(manager),
            _job_choices(manager))
