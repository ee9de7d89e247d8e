"""The base-model dropdown's choices and default, and the base-weights upload in the Train tab
(on only when ``ServerAccess.weights_upload`` allows it: a local studio, or the operator's
choice; otherwise a note says why it is off).

The choices are every model Ultralytics ships (``training.base_models``), read once per process
by importing Ultralytics (seconds): a page built before that has only the default
(``base_models.DEFAULT_FROM_SCRATCH``) and gets the whole list from its page load
(``page_load``), which waits for it in a worker thread, never in the event loop.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from ..training import base_models
from .errors import shows_errors
from .hosting import ServerAccess
from .weights_files import base_model_choices, store_weights, weights_dir


def base_model_dropdown(manager: Any, value: str | None = None) -> gr.Dropdown:
    """The whole list of base models (shipped ones marked, uploads); selects ``value``, else
    the default (``base_models.default_base_model``: a local ``.pt``, else a ``.yaml``)."""
    root = manager.settings.root
    folders = base_models.weights_folders(root)
    return gr.Dropdown(choices=base_model_choices(root, folders),
                       value=value or base_models.default_base_model(root, folders))


def initial_choices(manager: Any) -> dict[str, Any]:
    """The dropdown's ``choices`` and ``value`` when the page is built, without waiting: the
    whole list when it was read already, else only ``DEFAULT_FROM_SCRATCH``."""
    if base_models.is_ready():
        dropdown = base_model_dropdown(manager)
        return {"choices": dropdown.choices, "value": dropdown.value}
    default = base_models.DEFAULT_FROM_SCRATCH
    return {"choices": [(default, default)], "value": default}


def loaded_dropdown(manager: Any, value: str | None) -> Any:
    """For the page load that restores the form, without waiting for the list: the whole list
    (``value`` selected, else the default) once it was read; else ``value`` alone, or no
    change (``gr.skip()``) without one: ``page_load`` brings the list."""
    if base_models.is_ready():
        return base_model_dropdown(manager, value)
    return gr.Dropdown(value=value) if value else gr.skip()


def page_load(manager: Any, keep: Any = lambda: False) -> tuple[Any, Any]:
    """Two handlers for a page load, the second run after the first (``.then``): wait for the
    list (no output), then give the dropdown the whole list. The second reads the dropdown's
    value when it starts and keeps it, unless it is still the built-in
    ``DEFAULT_FROM_SCRATCH`` and ``keep()`` is False (no restored configuration chose it):
    then the default (``base_models.default_base_model``) is selected."""
    def wait() -> None:
        base_models.shipped_models()

    def fill(current: str | None) -> gr.Dropdown:
        untouched = current in (None, "", base_models.DEFAULT_FROM_SCRATCH) and not keep()
        return base_model_dropdown(manager, None if untouched else current)
    return wait, fill


def build(manager: Any, access: ServerAccess, base_model: gr.Dropdown) -> gr.File | None:
    """The upload (or the note in its place); a stored upload becomes the selected base model.

    Returns:
        The ``gr.File`` component, or None when uploads are off.
    """
    if not access.weights_upload:
        gr.Markdown(f"**Base weights upload:** {access.weights_note}",
                    elem_id="weights-upload-note")
        return None
    upload = gr.File(label="Upload base weights (.pt)", file_types=[".pt"], type="filepath",
                     elem_id="weights-upload", height=150)
    gr.Markdown(access.weights_note, elem_id="weights-upload-note")

    @shows_errors
    def on_upload(path: str | None) -> tuple[gr.Dropdown, None]:
        if not path:
            return gr.skip(), gr.skip()
        stored = store_weights(path, weights_dir(manager.settings.root))
        gr.Info(f"Stored {stored.name}; it is now the selected base model.")
        shipped = base_models.is_shipped(stored.name)  # listed under its name, marked local
        return base_model_dropdown(manager, stored.name if shipped else str(stored)), None

    upload.upload(on_upload, upload, [base_model, upload], concurrency_limit=None,
                  api_name="upload_weights", show_progress="hidden")
    return upload
