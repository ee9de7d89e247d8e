"""Models tab, "Inspect": one model's training config, per-epoch charts, per-class metrics,
Ultralytics' plots (validation, and the augmented training batches) and the dataset snapshot it
was trained on (all read from disk)."""

from __future__ import annotations

from typing import Any

import gradio as gr

from ..persistence.model_artifacts import TRAIN_BATCH_PREFIX
from . import charts
from . import model_tables as tables
from .errors import shows_errors
from .model_common import COMMON, PRIVATE, ModelsTab, stale_pair


def empty_values() -> list[Any]:
    """Outputs of ``inspect_values`` when no model is chosen."""
    return ["Choose a model to inspect it.", gr.Markdown(value="", visible=False),
            charts.plot_value(charts.loss_figure(())),
            charts.plot_value(charts.metrics_figure(())), [], [], []]


def inspect_values(manager: Any, dataset: str | None, name: str | None) -> list[Any]:
    """[summary markdown, dataset warning, loss figure, metrics figure, config rows,
    per-class rows, gallery items] of one model (``ModelService.model_details``).

    Raises:
        NotFoundError: the model is not registered. RegistryError: its registry is unreadable.
    """
    if not dataset or not name:
        return empty_values()
    details = manager.registry.model_details(dataset, name)
    warning = tables.dataset_warning(details)
    gallery = [(str(path), plot_caption(path.stem)) for path in details.plots]
    return [tables.details_markdown(details), gr.Markdown(value=warning, visible=bool(warning)),
            charts.plot_value(charts.loss_figure(details.history)),
            charts.plot_value(charts.metrics_figure(details.history, details.final,
                                                    details.stop_reason)),
            tables.config_rows(details.config), tables.per_class_rows(details.per_class),
            gallery]


def plot_caption(stem: str) -> str:
    """A plot's caption: its name with spaces (``train batch0 (augmented)`` for a training
    batch mosaic)."""
    caption = stem.replace("_", " ")
    return caption + " (augmented)" if stem.startswith(TRAIN_BATCH_PREFIX) else caption


def build(manager: Any, tab: ModelsTab) -> list[Any]:
    """Lay out the Inspect sub-tab and wire it to the model dropdown; returns its outputs."""
    info = gr.Markdown("Choose a model to inspect it.", elem_id="model-info")
    warning = gr.Markdown(visible=False, elem_id="model-dataset-warning")
    with gr.Row():
        loss = gr.Plot(label="Losses per epoch", elem_id="model-loss-plot")
        metrics = gr.Plot(label="Validation metrics per epoch", elem_id="model-metrics-plot")
    with gr.Row():
        per_class = gr.Dataframe(headers=tables.PER_CLASS_HEADERS, value=[], interactive=False,
                                 label="Final metrics per class (best.pt on val)",
                                 elem_id="model-per-class-table", scale=3)
        config = gr.Dataframe(headers=tables.CONFIG_COLUMNS, value=[], interactive=False,
                              label="Training config", elem_id="model-config-table",
                              max_height=420, scale=2)
    gallery = gr.Gallery(label="Plots (Ultralytics): validation, augmented training batches",
                         elem_id="model-plots-gallery",
                         columns=4, height="auto", object_fit="contain")
    outputs = [info, warning, loss, metrics, config, per_class, gallery]

    @shows_errors
    def on_model(dataset: str | None, name: str | None) -> list[Any]:
        return inspect_values(manager, dataset, name)

    @shows_errors
    def on_model_shown(dataset: str | None, name: str | None) -> list[Any]:
        if stale_pair(manager, dataset, name):
            return empty_values()
        return inspect_values(manager, dataset, name)

    keys = [tab.dataset, tab.model]
    tab.model.change(on_model_shown, keys, outputs, **PRIVATE)
    # the API's model_details names an unknown model: its own event, on a button never shown
    api = gr.Button(visible=False, elem_id="model-details-api")
    api.click(on_model, keys, outputs, api_name="model_details", **COMMON)
    tab.parts["inspect"] = (on_model, outputs)
    return outputs
