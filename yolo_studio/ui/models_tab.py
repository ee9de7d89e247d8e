"""The Models tab: a dataset's model registry; select, set active, delete, chart a model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..errors import ValidationError
from ..training.snapshot import EpochMetrics
from . import charts
from . import formatting as fmt
from .errors import shows_errors

_METRIC_FIELDS = set(EpochMetrics.__dataclass_fields__)


@dataclass
class ModelsTab:
    """The components the app wires to."""

    dataset: gr.Dropdown
    table: gr.Dataframe
    model: gr.Dropdown
    refresh_outputs: list[Any]


def dataset_choices(manager: Any) -> list[str]:
    """Datasets that exist on disk or have a registry, sorted."""
    names = set(manager.datasets.list()) | set(manager.models.datasets())
    return sorted(names)


def _epoch(data: dict[str, Any]) -> EpochMetrics:
    return EpochMetrics(**{k: v for k, v in data.items() if k in _METRIC_FIELDS})


def model_figure(manager: Any, dataset: str | None, name: str | None) -> Any:
    """The saved per-epoch metrics of one model (from its metrics.json) as a metrics figure."""
    if not dataset or not name:
        return charts.metrics_figure(())
    metrics = manager.models.load_metrics(dataset, name)
    history = [_epoch(m) for m in metrics.get("history") or []]
    final = _epoch(metrics["final"]) if metrics.get("final") else None
    return charts.metrics_figure(history, final, metrics.get("stop_reason"))


def refresh(manager: Any, dataset: str | None, selected: str | None = None) -> list[Any]:
    """[table rows, model dropdown, summary markdown] for ``dataset``; keeps ``selected`` if
    it still exists, else picks the active model."""
    if not dataset:
        return [[], gr.Dropdown(choices=[], value=None), "Choose a dataset."]
    records = manager.list_models(dataset)
    names = [r.name for r in records]
    active = next((r.name for r in records if r.active), None)
    value = selected if selected in names else active
    summary = (f"{len(records)} model(s); active: **{active or 'none'}**" if records else
               f"No models for **{dataset}** yet: train one in the Train tab.")
    return [fmt.model_rows(records), gr.Dropdown(choices=names, value=value), summary]


def build(manager: Any) -> ModelsTab:
    """Lay out the Models tab inside the current ``gr.Tab`` and wire its own events."""
    with gr.Row():
        dataset = gr.Dropdown(label="Dataset", choices=[], elem_id="models-dataset-dd", scale=3)
        refresh_btn = gr.Button("Refresh", elem_id="models-refresh-btn", scale=0, min_width=100)
    summary = gr.Markdown(elem_id="models-summary")
    table = gr.Dataframe(headers=fmt.MODEL_COLUMNS, value=[], interactive=False,
                         elem_id="models-table", wrap=True)
    with gr.Row():
        model = gr.Dropdown(label="Model", choices=[], elem_id="model-dd", scale=3)
        set_active = gr.Button("Set active", variant="primary", elem_id="set-active-btn")
        delete = gr.Button("Delete", variant="stop", elem_id="delete-btn")
    also_active = gr.Checkbox(label="also delete the active model", value=False,
                              elem_id="delete-active-checkbox")
    plot = gr.Plot(label="Metrics of the selected model", elem_id="model-metrics-plot")
    outputs = [table, model, summary]
    tab = ModelsTab(dataset, table, model, outputs)
    _wire(manager, tab, (refresh_btn, set_active, delete, also_active, plot))
    return tab


def _wire(manager: Any, tab: ModelsTab, parts: tuple) -> None:
    refresh_btn, set_active, delete, also_active, plot = parts

    @shows_errors
    def on_refresh(dataset: str | None, selected: str | None) -> list[Any]:
        return refresh(manager, dataset, selected)

    @shows_errors
    def on_set_active(dataset: str | None, name: str | None) -> list[Any]:
        _require(dataset, name)
        manager.set_active_model(dataset, name)
        gr.Info(f"{name} is now the active model of {dataset}.")
        return refresh(manager, dataset, name)

    @shows_errors
    def on_delete(dataset: str | None, name: str | None, allow_active: bool) -> list[Any]:
        _require(dataset, name)
        active = manager.models.get_active(dataset)
        if active is not None and active.name == name and not allow_active:
            raise ValidationError(f"{name!r} is the active model of {dataset!r}. Tick 'also "
                                  "delete the active model' to delete it anyway, or set another "
                                  "model active first.")
        manager.delete_model(dataset, name, allow_active=bool(allow_active))
        gr.Info(f"Deleted model {name} of {dataset}.")
        return [*refresh(manager, dataset), False]

    @shows_errors
    def on_model(dataset: str | None, name: str | None) -> Any:
        return model_figure(manager, dataset, name)

    keys = [tab.dataset, tab.model]
    # show_progress="hidden": after a gr.Error Gradio would otherwise cover the outputs
    # (the dropdown, the checkbox) with its status overlay and block clicks on them.
    common: dict[str, Any] = dict(concurrency_limit=None, show_progress="hidden")
    tab.dataset.change(on_refresh, keys, tab.refresh_outputs, **common)
    refresh_btn.click(on_refresh, keys, tab.refresh_outputs, api_name="list_models", **common)
    set_active.click(on_set_active, keys, tab.refresh_outputs, api_name="set_active_model",
                     **common)
    delete.click(on_delete, [*keys, also_active], [*tab.refresh_outputs, also_active],
                 api_name="delete_model", **common)
    tab.model.change(on_model, keys, plot, **common)


def _require(dataset: str | None, name: str | None) -> None:
    if not dataset:
        raise ValidationError("Choose a dataset first.")
    if not name:
        raise ValidationError("Choose a model first.")
