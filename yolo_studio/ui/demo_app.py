"""The read-only demo's Blocks: a banner, the model registry of a dataset and the Models tab's
Inspect, Compare and Try sub-tabs, over a ``read_only.ReadOnlyStudio``.

What the full studio's other parts do (train, queue, import, upload weights, set active, roll
back, rename, annotate, delete, export, download) is not built here at all, so no such event
and no such API endpoint exists: a ``gradio_client`` call to ``/start_training`` finds none.
The only API endpoints are ``/list_models``, ``/model_details``, ``/compare_models`` and
``/predict``, each of which reads the registry (``predict`` runs a model).
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from . import model_common, models_tab
from .errors import shows_errors
from .hosting import ServerAccess
from .model_common import COMMON, PRIVATE, ModelsTab

#: The API endpoints a demo serves (everything else it builds is private to its page).
DEMO_ENDPOINTS = ("list_models", "model_details", "compare_models", "predict")


def build(manager: Any, access: ServerAccess, title: str) -> gr.Blocks:
    """Build the demo's page.

    Args:
        manager: A ``ReadOnlyStudio`` (or anything with its reads: ``datasets``, ``models``,
            ``registry``).
        access: The hosting's ``ServerAccess``; ``demo_note`` is the banner (``#demo-banner``),
            ``storage_note`` a warning under it (``#storage-note``) when not empty.
        title: The page's title.

    Returns:
        The Blocks; launch it as the full studio's (``app.queued(blocks).launch(...)``).
    """
    with gr.Blocks(title=title) as demo:
        gr.Markdown(f"# {title}\nTrained Ultralytics YOLO detectors: look inside them and try "
                    "them on an image.")
        gr.Markdown(access.demo_note or "**Read-only demo.**", elem_id="demo-banner")
        if access.storage_note:
            gr.Markdown(access.storage_note, elem_id="storage-note")
        tab, refresh_btn = _registry()
        models_tab.subtabs(manager, tab, manage=False)
        _wire(demo, manager, tab, refresh_btn)
    return demo


def _registry() -> tuple[ModelsTab, gr.Button]:
    """The dataset picker, the registry table and the model picker, with the Models tab's
    elem_ids, and no action that changes the registry."""
    dataset, refresh_btn, summary, table, sort = model_common.registry_header()
    model = gr.Dropdown(label="Model", choices=[], elem_id="model-dd", allow_custom_value=True)
    return ModelsTab(dataset, table, model, [table, model, summary], sort=sort), refresh_btn


def first_dataset(manager: Any, names: list[str]) -> str | None:
    """The dataset a page opens on: the first of ``names`` with a registered model, else the
    first one (None when there is none)."""
    return next((name for name in names if manager.models.list(name)),
                names[0] if names else None)


def _wire(demo: gr.Blocks, manager: Any, tab: ModelsTab, refresh_btn: gr.Button) -> None:
    @shows_errors
    def on_refresh(dataset: str | None, selected: str | None,
                   sort: str | None = None) -> list[Any]:
        values = model_common.refresh(manager, dataset, selected, sort)
        if dataset and not values[0]:  # the full studio's hint names a Train tab
            values[2] = f"No models for **{dataset}** in this demo."
        return values

    @shows_errors
    def on_load() -> Any:
        names = model_common.dataset_choices(manager)
        return gr.Dropdown(choices=names, value=first_dataset(manager, names))

    demo.load(on_load, None, tab.dataset, **PRIVATE)
    for trigger in (tab.dataset.change, tab.sort.change):
        trigger(on_refresh, tab.refresh_inputs, tab.refresh_outputs, **PRIVATE)
    refresh_btn.click(on_refresh, tab.refresh_inputs, tab.refresh_outputs,
                      api_name="list_models", **COMMON)
