"""The Train tab's "Rename or delete this dataset" accordion (``training.dataset_ops``).

A rename takes the dataset's models along. Deleting a dataset that has models needs the box
"also delete its models" ticked: the note above the button names them, and without the tick the
delete is refused with a message naming them. Both are refused while a job of the dataset is
queued or training. API: ``/rename_dataset`` (dataset, new name) and ``/delete_dataset``
(dataset, also delete its models), each answering with the dataset selected after it.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from ..errors import ValidationError
from ..training.dataset_ops import DatasetService
from .errors import shows_errors
from .formatting import markdown_text

COMMON: dict[str, Any] = dict(concurrency_limit=None, show_progress="hidden")


def service(manager: Any) -> DatasetService:
    """A DatasetService over the manager's stores and job queue."""
    return DatasetService(manager.datasets, manager.models, manager.jobs)


def delete_note(manager: Any, name: str | None) -> str:
    """Markdown naming what deleting ``name`` takes with it (its registered models)."""
    if not name or name not in manager.datasets.list():
        return ""
    models = service(manager).model_names(name)
    if not models:
        return f"**{markdown_text(name)}** has no registered models."
    return (f"Deleting **{markdown_text(name)}** also deletes its {len(models)} model(s): "
            f"{markdown_text(', '.join(models))}. Tick 'also delete its models' to confirm.")


def rename(manager: Any, name: str | None, new: str | None) -> str:
    """Rename dataset ``name`` to ``new`` (stripped); returns the new name.

    Raises:
        ValidationError: no dataset chosen, a bad name, or a job of it is queued or
            training. NotFoundError / DatasetError: as ``DatasetService.rename``.
    """
    if not name:
        raise ValidationError("Choose a dataset first.")
    new = (new or "").strip()
    service(manager).rename(name, new)
    return new


def delete(manager: Any, name: str | None, with_models: bool) -> list[str]:
    """Delete dataset ``name`` (its models only with ``with_models``); returns the models
    deleted. Raises as ``DatasetService.delete`` (RegistryError naming the models)."""
    if not name:
        raise ValidationError("Choose a dataset first.")
    return service(manager).delete(name, delete_models=bool(with_models))


def _choices(manager: Any, value: str | None) -> gr.Dropdown:
    names = sorted(manager.datasets.list())
    return gr.Dropdown(choices=names, value=value if value in names else
                       (names[0] if names else None))


def build(manager: Any, dataset: gr.Dropdown, changed: gr.State) -> None:
    """Lay out the accordion and wire it; ``changed`` (a State) is set to
    ``"renamed:<old>:<new>"`` / ``"deleted:<name>"`` after a change, for other tabs' lists."""
    with gr.Accordion("Rename or delete this dataset", open=False,
                      elem_id="dataset-manage-accordion"):
        with gr.Row():
            new_name = gr.Textbox(label="New name", elem_id="dataset-new-name", scale=3)
            rename_btn = gr.Button("Rename", elem_id="dataset-rename-btn", scale=0,
                                   min_width=120)
        note = gr.Markdown(elem_id="dataset-delete-note")
        with gr.Row():
            with_models = gr.Checkbox(label="also delete its models", value=False,
                                      elem_id="dataset-delete-models")
            delete_btn = gr.Button("Delete dataset", variant="stop",
                                   elem_id="dataset-delete-btn")

    @shows_errors
    def on_rename(name: str | None, new: str | None) -> list[Any]:
        new = rename(manager, name, new)
        gr.Info(f"Dataset {name} renamed to {new}; its models follow.")
        return [_choices(manager, new), f"renamed:{name}:{new}", ""]

    @shows_errors
    def on_delete(name: str | None, confirmed: bool) -> list[Any]:
        models = delete(manager, name, confirmed)
        gr.Info(f"Dataset {name} deleted" + (f", with its models {', '.join(models)}."
                                             if models else "."))
        return [_choices(manager, None), f"deleted:{name}", False]

    rename_btn.click(on_rename, [dataset, new_name], [dataset, changed, new_name],
                     api_name="rename_dataset", **COMMON)
    delete_btn.click(on_delete, [dataset, with_models], [dataset, changed, with_models],
                     api_name="delete_dataset", **COMMON)
    dataset.change(shows_errors(lambda name: delete_note(manager, name)), dataset, note,
                   api_visibility="private", **COMMON)
