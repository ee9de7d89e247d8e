"""Models tab, "Manage & export": rename a model, edit its notes and tags, download its
weights or an export; exporting itself is ``model_export`` (any format of Ultralytics' exporter
offered here, validated against best.pt, kept beside it and listed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from ..errors import NotFoundError
from ..persistence.model_artifacts import export_paths
from ..training.export_report import kept_reports
from . import model_export
from . import model_tables as tables
from .errors import shows_errors
from .model_common import COMMON, PRIVATE, ModelsTab, model_names, refresh, require, stale_pair

#: Saves the file the Download button's handler put in the File component (its FileData, the
#: event's input), as Gradio's DownloadButton saves its own value.
SAVE_FILE_JS = """(file) => { if (!file || !file.url) return;
  const link = document.createElement('a');
  link.href = file.url; link.download = file.orig_name || 'weights';
  document.body.appendChild(link); link.click(); document.body.removeChild(link); }"""


def manage_values(manager: Any, dataset: str | None, name: str | None) -> list[Any]:
    """[new-name box, notes, tags (comma-separated), download button, exports text (with each
    export's validation against best.pt)] of a model; empty values when none is chosen."""
    if not dataset or not name:
        return ["", "", "", gr.DownloadButton(value=None, interactive=False), ""]
    record = manager.models.get(dataset, name)
    exports = export_paths(record)  # from the record: registry.json read once
    button = gr.DownloadButton(value=None, interactive=False)
    if Path(record.weights_path).is_file():
        weights = manager.registry.download_file(dataset, name, "pt")  # <dataset>-<model>.pt
        button = gr.DownloadButton(f"Download {weights.name} "  # file chosen at click time
                                   f"({weights.stat().st_size / 1e6:.1f} MB)",
                                   value=None, interactive=True)
    return [record.name, record.notes or "", ", ".join(record.tags or ()), button,
            f"Exports: {tables.exports_text(exports, kept_reports(record))}"]


def file_choices(manager: Any, dataset: str | None, name: str | None) -> gr.Dropdown:
    """The file-to-get box: "pt" and the formats the model was exported to."""
    exports = manager.models.exports(dataset, name) if dataset and name else {}
    return gr.Dropdown(choices=["pt", *exports], value="pt")


def weights_file(manager: Any, dataset: str | None, name: str | None, fmt: str | None) -> str:
    """Path of the model's best.pt (``fmt`` "pt") or of an existing export, to download,
    named ``<dataset>-<model>.<ext>`` (``ModelService.download_file``). The registry is read
    now, so a model deleted since the page listed it is refused.

    Raises:
        ValidationError: no dataset / model. NotFoundError: the model is no longer registered
            (deleted or renamed, said so), or not exported to ``fmt`` yet.
    """
    require(dataset, name)
    if name not in model_names(manager, dataset)[0]:
        raise NotFoundError(f"Model {name!r} of dataset {dataset!r} was deleted (or renamed) "
                            "since this page listed it; press Refresh to see the models.")
    return str(manager.registry.download_file(dataset, name, fmt or "pt"))


def build(manager: Any, tab: ModelsTab, opened: Any) -> None:
    """Lay out the Manage & export sub-tab (``opened``: its ``gr.Tab``) and wire it."""
    with gr.Row():
        new_name = gr.Textbox(label="Name", elem_id="model-new-name", scale=3)
        rename = gr.Button("Rename", elem_id="rename-btn", scale=0, min_width=120)
    with gr.Row():
        notes = gr.Textbox(label="Notes", lines=3, elem_id="model-notes", scale=3)
        with gr.Column(scale=2):
            tags = gr.Textbox(label="Tags (comma-separated)", elem_id="model-tags")
            save = gr.Button("Save notes and tags", elem_id="save-info-btn")
    gr.Markdown("#### Take it away")
    exporting = model_export.layout()
    exports = gr.Markdown(elem_id="model-exports")
    with gr.Row():
        download = gr.DownloadButton("Download best.pt", elem_id="download-weights-btn",
                                     interactive=False, scale=1)
        get_fmt = gr.Dropdown(["pt"], value="pt", label="File to get", scale=1,
                              allow_custom_value=True, elem_id="download-format-dd")
        get = gr.Button("Get file", elem_id="get-file-btn", scale=0, min_width=120)
    file = gr.File(label="File", interactive=False, elem_id="model-file")
    _wire(manager, tab, (new_name, rename, notes, tags, save, download, exports, get_fmt, get,
                         file))
    inspect_fn, inspect_outputs = tab.parts["inspect"]
    model_export.wire(manager, tab, exporting, opened, [file, exports, get_fmt]).success(
        inspect_fn, [tab.dataset, tab.model], inspect_outputs, **PRIVATE)  # lists the exports


def _wire(manager: Any, tab: ModelsTab, parts: tuple) -> None:
    new_name, rename, notes, tags, save, download, exports, get_fmt, get, file = parts
    keys = [tab.dataset, tab.model]

    @shows_errors
    def on_model(dataset: str | None, name: str | None) -> list[Any]:
        if stale_pair(manager, dataset, name):  # another dataset's model, for a moment
            return manage_values(manager, dataset, None)
        return manage_values(manager, dataset, name)

    @shows_errors
    def on_rename(dataset: str | None, name: str | None, new: str,
                  sort: str | None = None) -> list[Any]:
        require(dataset, name)
        record = manager.registry.rename_model(dataset, name, (new or "").strip())
        gr.Info(f"Renamed {name} to {record.name}.")
        return refresh(manager, dataset, record.name, sort)

    @shows_errors
    def on_save(dataset: str | None, name: str | None, text: str, labels: str) -> list[Any]:
        require(dataset, name)
        manager.registry.update_model_info(dataset, name, notes=text or "", tags=labels or "")
        gr.Info(f"Saved the notes and tags of {name}.")
        return manage_values(manager, dataset, name)

    @shows_errors
    def on_files(dataset: str | None, name: str | None) -> gr.Dropdown:
        return file_choices(manager, dataset, None if stale_pair(manager, dataset, name)
                            else name)

    inspect_fn, inspect_outputs = tab.parts["inspect"]
    manage_outputs = [new_name, notes, tags, download, exports]
    tab.model.change(on_model, keys, manage_outputs, **PRIVATE).then(
        on_files, keys, get_fmt, **PRIVATE)
    rename.click(on_rename, [*keys, new_name, tab.sort], tab.refresh_outputs,
                 api_name="rename_model", **COMMON)
    save.click(on_save, [*keys, notes, tags], manage_outputs, api_name="update_model_info",
               **COMMON).success(inspect_fn, keys, inspect_outputs, **PRIVATE)
    get.click(shows_errors(lambda d, n, kind: weights_file(manager, d, n, kind)),
              [*keys, get_fmt], file, api_name="download_weights", **COMMON)
    download.click(shows_errors(lambda d, n: weights_file(manager, d, n, "pt")), keys, file,
                   **PRIVATE).success(None, file, None, js=SAVE_FILE_JS, **PRIVATE)
