"""Base-weights upload in the Train tab: on only when ``ServerAccess.weights_upload`` allows it
(a local studio, or the operator's choice); otherwise a note says why it is off."""

from __future__ import annotations

from typing import Any

import gradio as gr

from .errors import shows_errors
from .hosting import ServerAccess
from .weights_files import base_model_choices, store_weights, weights_dir


def base_model_dropdown(manager: Any, value: str | None = None) -> gr.Dropdown:
    """Base-model choices (built-in names and uploaded files); selects ``value`` if given."""
    choices = base_model_choices(weights_dir(manager.settings.root))
    if value is None:
        return gr.Dropdown(choices=choices)
    return gr.Dropdown(choices=choices, value=value)


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
        return base_model_dropdown(manager, str(stored)), None

    upload.upload(on_upload, upload, [base_model, upload], concurrency_limit=None,
                  api_name="upload_weights", show_progress="hidden")
    return upload
