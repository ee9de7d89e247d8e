"""The dataset part of the Train tab: the selected dataset's health report, and importing a
dataset from an uploaded .zip or (local studio only) from a folder on the server."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from ..errors import StudioError, ValidationError
from . import dataset_actions, health_view
from .errors import error_title, shows_errors
from .hosting import ServerAccess


@dataclass
class DatasetsPanel:
    """The panel's components. ``added`` changes whenever the list of datasets does: the name
    of the last imported dataset, or ``"renamed:<old>:<new>"`` / ``"deleted:<name>"``
    (``dataset_actions``); the app listens to its ``change`` to refresh other tabs' dataset
    lists."""

    info: gr.HTML
    zip_file: gr.File
    folder: gr.Textbox | None
    name: gr.Textbox
    import_btn: gr.Button
    report: gr.HTML
    added: gr.State


def dataset_choices(manager: Any) -> list[str]:
    """Names of the datasets in the manager's DatasetStore, sorted."""
    return sorted(manager.datasets.list())


def dataset_info_html(manager: Any, name: str | None) -> str:
    """HTML for the selected dataset: its splits, classes and the health-check report table.

    Raises:
        NotFoundError: no such dataset. DatasetError: its data.yaml cannot be parsed.
    """
    if not name:
        return "<p>Choose a dataset to see its contents and health check.</p>"
    info = manager.datasets.get(name)
    return health_view.dataset_html(info, manager.datasets.check_health(name))


def import_dataset(manager: Any, zip_path: str | None, folder: str | None,
                   name: str | None, access: ServerAccess) -> Any:
    """Import from the uploaded zip or from a server folder; returns the new ``DatasetInfo``.

    Raises:
        ValidationError: neither or both sources given, or a folder import while the studio is
            not local (``access.folder_import`` off); a bad name.
        DatasetError: the archive/folder is not a usable dataset (the health check's blocking
            problems are listed) or the name is taken.
    """
    folder = (folder or "").strip()
    name = (name or "").strip() or None
    if folder and not access.folder_import:
        raise ValidationError(access.folder_note)
    if bool(zip_path) == bool(folder):
        raise ValidationError("Give either a .zip file or a folder path (not both) to import "
                              "a dataset.")
    if zip_path:
        if Path(zip_path).suffix.lower() != ".zip":
            raise ValidationError(f"{Path(zip_path).name} is not a .zip file.")
        return manager.datasets.import_zip(zip_path, name)
    return manager.datasets.import_folder(Path(folder).expanduser(), name)


def import_outputs(manager: Any, zip_path: str | None, folder: str | None, name: str | None,
                   access: ServerAccess) -> tuple[str, Any, Any, str]:
    """Run an import for the UI without raising: (report HTML, dataset dropdown update,
    ``added`` state update, error text for the toast ("" on success))."""
    try:
        info = import_dataset(manager, zip_path, folder, name, access)
    except StudioError as err:
        report = getattr(err, "report", None)
        return (health_view.import_failed_html(str(err), report), gr.skip(), gr.skip(),
                f"{error_title(err)}: {err}")
    html = health_view.import_ok_html(info)
    dropdown = gr.Dropdown(choices=dataset_choices(manager), value=info.name)
    return html, dropdown, info.name, ""


def raise_error(text: str) -> None:
    """Chained after an import: show its failure (if any) as a ``gr.Error`` toast."""
    if text:
        title, _, message = text.partition(": ")
        raise gr.Error(message or title, title=title if message else "Error",
                       print_exception=False)


def build(manager: Any, access: ServerAccess, dataset: gr.Dropdown) -> DatasetsPanel:
    """Lay out the panel under the dataset dropdown and wire import and the health report."""
    info = gr.HTML(elem_id="dataset-info")
    with gr.Accordion("Import a dataset", open=False, elem_id="import-accordion"):
        gr.Markdown("A YOLO dataset: a `data.yaml` (at the top or in one top folder) with "
                    "`images/` and `labels/`. It is health-checked before it is stored.")
        with gr.Row():
            zip_file = gr.File(label="Dataset .zip", file_types=[".zip"], type="filepath",
                               elem_id="import-zip", scale=2, height=150)
            with gr.Column(scale=2):
                folder = None
                if access.folder_import:
                    folder = gr.Textbox(label="…or a folder on this machine",
                                        placeholder="/path/to/dataset", elem_id="import-folder")
                else:
                    gr.Markdown(access.folder_note, elem_id="import-folder-note")
                name = gr.Textbox(label="Dataset name", elem_id="import-name",
                                  placeholder="empty = the zip's or folder's name")
                import_btn = gr.Button("Import", elem_id="import-btn")
        report = gr.HTML(elem_id="import-report")
    panel = DatasetsPanel(info, zip_file, folder, name, import_btn, report, gr.State(""))
    _wire(manager, access, dataset, panel)
    dataset_actions.build(manager, dataset, panel.added)
    return panel


def _wire(manager: Any, access: ServerAccess, dataset: gr.Dropdown,
          panel: DatasetsPanel) -> None:
    error = gr.State("")

    @shows_errors
    def on_dataset(name: str | None) -> str:
        return dataset_info_html(manager, name)

    def on_import(zip_path: str | None, *rest: Any) -> tuple[str, Any, Any, str]:
        folder, name = rest if panel.folder is not None else (None, rest[0])
        return import_outputs(manager, zip_path, folder, name, access)

    dataset.change(on_dataset, dataset, panel.info, concurrency_limit=None,
                   api_name="dataset_info")
    inputs = [panel.zip_file, *([panel.folder] if panel.folder is not None else []), panel.name]
    panel.import_btn.click(on_import, inputs, [panel.report, dataset, panel.added, error],
                           concurrency_limit=None, api_name="import_dataset").then(
        raise_error, error, None, concurrency_limit=None, api_visibility="private",
        show_progress="hidden")
