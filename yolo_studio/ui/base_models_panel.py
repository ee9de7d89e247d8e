"""The table of base models in the Train tab's "Base models and weights" accordion: every
detection model the installed Ultralytics ships, and where its weights are on this machine
(``training.base_models``). Filled when the accordion opens; ``/list_base_models`` in the
Gradio API."""

from __future__ import annotations

from typing import Any

import gradio as gr

from ..training import base_models

HEADERS = ["base model", "kind", "weights"]


def rows(root: Any, folders: tuple[Any, ...] | None = None) -> list[list[str]]:
    """``base_models.listing_rows`` as the table's rows, in ``HEADERS`` order."""
    return [[row[key] for key in HEADERS]
            for row in base_models.listing_rows(root, folders)]


def folders_note(root: Any) -> str:
    """Where weights are looked for (``base_models.weights_folders``) and the offline rule."""
    here, ultralytics, studio = base_models.weights_folders(root)
    return (f"Weights are looked for in the working folder (`{here}`), Ultralytics' weights "
            f"folder (`{ultralytics}`) and the studio's (`{studio}`, where uploads go). A "
            "`.pt` found in none of them is downloaded by Ultralytics when training starts, "
            "which needs internet; offline, pick its `.yaml` (trains from scratch) or put the "
            "file in one of those folders.")


def build(manager: Any, accordion: gr.Accordion) -> gr.Dataframe:
    """The table and the folders' note, filled each time ``accordion`` opens, and the API
    event (the table only)."""
    note = gr.Markdown("", elem_id="base-models-note")
    table = gr.Dataframe(headers=HEADERS, value=[], interactive=False, max_height=300,
                         label="Base models Ultralytics ships (detection)",
                         elem_id="base-models-table")
    root = manager.settings.root

    def list_base_models() -> list[list[str]]:
        return rows(root)

    accordion.expand(lambda: [folders_note(root), rows(root)], None, [note, table],
                     concurrency_limit=None, api_visibility="private", show_progress="hidden")
    api = gr.Button(visible=False, elem_id="base-models-api")
    api.click(list_base_models, None, table, api_name="list_base_models",
              concurrency_limit=None)
    return table
