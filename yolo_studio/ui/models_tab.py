"""The Models tab: a dataset's model registry and what a user does with its models.

The top of the tab lists the models of the chosen dataset, sorted as the user picks, and holds
the registry actions (set active, roll back, delete, auto-promote and its promote metric);
below, sub-tabs inspect a model (``model_inspect``), compare models (``model_compare``), try
models on an image (``model_try``), evaluate a model on a split (``model_evaluate``) and
rename / annotate / download / export a model (``model_manage``).
Every action has a stable ``api_name`` (see the README's "Gradio API"). What the tab and its
sub-tabs share lives in ``model_common`` (re-exported here).
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from ..persistence.registry_metrics import DEFAULT_PROMOTE_METRIC, PROMOTE_METRICS
from ..training.model_metrics import SORT_KEYS
from ..training.model_report import weak_model_warning
from . import (model_common, model_compare, model_evaluate, model_inspect, model_manage,
               model_try)
from .errors import shows_errors
from .model_common import (COMMON, PRIVATE, ModelsTab, dataset_choices, model_names, refresh,
                           require, stale_pair)

__all__ = ["COMMON", "PRIVATE", "ModelsTab", "build", "dataset_choices", "model_names",
           "refresh", "require", "stale_pair"]


def build(manager: Any) -> ModelsTab:
    """Lay out the Models tab inside the current ``gr.Tab`` and wire its own events."""
    dataset, refresh_btn, summary, table, sort = model_common.registry_header()
    with gr.Row():
        model = gr.Dropdown(label="Model", choices=[], elem_id="model-dd", scale=3,
                            allow_custom_value=True)
        set_active = gr.Button("Set active", variant="primary", elem_id="set-active-btn")
        rollback = gr.Button("Roll back to previous active", elem_id="rollback-btn")
        delete = gr.Button("Delete", variant="stop", elem_id="delete-btn")
    with gr.Row():
        also_active = gr.Checkbox(label="also delete the active model", value=False,
                                  elem_id="delete-active-checkbox")
        auto_promote = gr.Checkbox(
            label="auto-promote: activate a new model that beats the active one by the promote "
                  "metric on the same dataset content", value=bool(manager.auto_promote),
            elem_id="auto-promote-checkbox", scale=2)
        metric = gr.Dropdown([(SORT_KEYS[k][0], k) for k in PROMOTE_METRICS],
                             value=DEFAULT_PROMOTE_METRIC, label="Promote metric (and 'best')",
                             info="fitness: Ultralytics' (mAP50-95 in 8.4)",
                             elem_id="promote-metric-dd", scale=1)
    tab = ModelsTab(dataset, table, model, [table, model, summary], sort=sort)
    subtabs(manager, tab, manage=True)
    _wire(manager, tab, (refresh_btn, set_active, rollback, delete, also_active, auto_promote))
    _wire_promote_metric(manager, tab, metric)
    return tab


def subtabs(manager: Any, tab: ModelsTab, manage: bool) -> None:
    """The sub-tabs under the registry: Inspect, Compare, Try and, with ``manage``, Evaluate
    and Manage & export (the read-only demo has neither)."""
    with gr.Tabs(elem_id="models-subtabs"):
        with gr.Tab("Inspect", id="inspect", elem_id="models-inspect-tab"):
            model_inspect.build(manager, tab)
        with gr.Tab("Compare", id="compare", elem_id="models-compare-tab"):
            model_compare.build(manager, tab)
        with gr.Tab("Try on an image", id="try", elem_id="models-try-tab"):
            model_try.build(manager, tab)
        if manage:
            with gr.Tab("Evaluate", id="evaluate", elem_id="models-evaluate-tab"):
                model_evaluate.build(manager, tab)
            with gr.Tab("Manage & export", id="manage", elem_id="models-manage-tab") as opened:
                model_manage.build(manager, tab, opened)


def _wire(manager: Any, tab: ModelsTab, parts: tuple) -> None:
    refresh_btn, set_active, rollback, delete, also_active, auto_promote = parts

    @shows_errors
    def on_refresh(dataset: str | None, selected: str | None,
                   sort: str | None = None) -> list[Any]:
        return refresh(manager, dataset, selected, sort)

    @shows_errors
    def on_set_active(dataset: str | None, name: str | None,
                      sort: str | None = None) -> list[Any]:
        require(dataset, name)
        record = manager.registry.set_active(dataset, name)
        gr.Info(f"{name} is now the active model of {dataset}.")
        warning = weak_model_warning(record)  # e.g. mAP50 0.000
        if warning:
            gr.Warning(warning, title="Weak model")
        return refresh(manager, dataset, name, sort)

    @shows_errors
    def on_rollback(dataset: str | None, sort: str | None = None) -> list[Any]:
        require(dataset)
        record = manager.registry.rollback_active(dataset)
        gr.Info(f"Rolled back: {record.name} is the active model of {dataset} again.")
        return refresh(manager, dataset, record.name, sort)

    @shows_errors
    def on_delete(dataset: str | None, name: str | None, allow_active: bool,
                  sort: str | None = None) -> list[Any]:
        require(dataset, name)  # the store refuses the active model unless allow_active
        manager.registry.delete_model(dataset, name, allow_active=bool(allow_active))
        gr.Info(f"Deleted model {name} of {dataset}.")
        return [*refresh(manager, dataset, None, sort), False]

    keys, sort = [tab.dataset, tab.model], tab.sort
    for trigger in (tab.dataset.change, sort.change):
        trigger(on_refresh, tab.refresh_inputs, tab.refresh_outputs, **PRIVATE)
    refresh_btn.click(on_refresh, tab.refresh_inputs, tab.refresh_outputs,
                      api_name="list_models", **COMMON)
    set_active.click(on_set_active, tab.refresh_inputs, tab.refresh_outputs,
                     api_name="set_active_model", **COMMON)
    rollback.click(on_rollback, [tab.dataset, sort], tab.refresh_outputs,
                   api_name="rollback_active", **COMMON)
    delete.click(on_delete, [*keys, also_active, sort], [*tab.refresh_outputs, also_active],
                 api_name="delete_model", **COMMON)
    _wire_auto_promote(manager, tab, auto_promote)


def _wire_auto_promote(manager: Any, tab: ModelsTab, checkbox: gr.Checkbox) -> None:
    """The checkbox sets ``manager.auto_promote`` (shared by every browser tab) and shows its
    current value whenever the dataset changes (on page load, too)."""
    def on_auto_promote(enabled: bool) -> bool:
        manager.auto_promote = bool(enabled)
        gr.Info("Auto-promote is " + ("on: a better new model becomes active." if enabled
                                      else "off: new models wait for 'Set active'."))
        return manager.auto_promote

    def auto_promote_value() -> bool:
        return bool(manager.auto_promote)

    checkbox.input(on_auto_promote, checkbox, checkbox, api_name="set_auto_promote", **COMMON)
    tab.dataset.change(auto_promote_value, None, checkbox, **PRIVATE)


def _wire_promote_metric(manager: Any, tab: ModelsTab, dropdown: gr.Dropdown) -> None:
    """The dropdown sets the dataset's promote metric (kept in its registry.json: what
    auto-promote and the summary's "best" compare) and shows it whenever the dataset
    changes."""
    @shows_errors
    def on_metric(dataset: str | None, metric: str, selected: str | None = None,
                  sort: str | None = None) -> list[Any]:
        require(dataset)
        manager.models.set_promote_metric(dataset, metric)
        gr.Info(f"Auto-promote and 'best' of {dataset} now compare {SORT_KEYS[metric][0]}.")
        return refresh(manager, dataset, selected, sort)

    @shows_errors
    def metric_value(dataset: str | None) -> str:
        return manager.models.promote_metric(dataset) if dataset else DEFAULT_PROMOTE_METRIC

    dropdown.input(on_metric, [tab.dataset, dropdown, tab.model, tab.sort], tab.refresh_outputs,
                   api_name="set_promote_metric", **COMMON)
    tab.dataset.change(metric_value, tab.dataset, dropdown, **PRIVATE)
