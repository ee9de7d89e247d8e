"""Models tab, "Manage & export", the export part: a format of Ultralytics' exporter, the
options it takes, Export (validated against best.pt on the val split) and the formats table.

The formats are read from Ultralytics when the sub-tab is first opened (importing its exporter
takes seconds), not when the page is built; the format box accepts any text and the service
refuses a format not offered here.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..training.export_formats import DEFAULT_MAX_DROP, PRECISIONS, ExportOptions
from ..training.export_packages import EXTRAS, missing, missing_message
from ..training.export_report import COLUMNS
from ..training.export_service import FORMAT_COLUMNS
from . import model_tables as tables
from .errors import shows_errors
from .model_common import COMMON, PRIVATE, ModelsTab, require

#: Headers of the comparison table (``ExportReport.rows``).
COMPARE_HEADERS = ["model", *(label for label, _, _ in COLUMNS)]


@dataclass
class ExportParts:
    """The export components: format box, options, button, results."""

    fmt: gr.Dropdown
    imgsz: gr.Number
    batch: gr.Number
    precision: gr.Radio
    dynamic: gr.Checkbox
    simplify: gr.Checkbox
    max_drop: gr.Number
    info: gr.Markdown
    export: gr.Button
    comparison: gr.Dataframe
    formats: gr.Dataframe
    check: gr.Button

    @property
    def options(self) -> list[Any]:
        """The option inputs, in ``/export_model``'s order after the format."""
        return [self.imgsz, self.batch, self.precision, self.dynamic, self.simplify,
                self.max_drop]


def layout() -> ExportParts:
    """Lay out the export part (inside the Manage & export sub-tab)."""
    with gr.Row():
        fmt = gr.Dropdown(["onnx"], value="onnx", label="Export format", scale=2,
                          allow_custom_value=True, elem_id="export-format-dd")
        imgsz = gr.Number(0, label="imgsz (0: as trained)", precision=0, minimum=0,
                          elem_id="export-imgsz")
        batch = gr.Number(1, label="batch", precision=0, minimum=1, elem_id="export-batch")
        precision = gr.Radio(list(PRECISIONS), value="fp32", label="precision",
                             elem_id="export-precision")
    with gr.Row():
        dynamic = gr.Checkbox(False, label="dynamic input shapes", elem_id="export-dynamic")
        simplify = gr.Checkbox(True, label="simplify the ONNX graph", elem_id="export-simplify")
        max_drop = gr.Number(DEFAULT_MAX_DROP, label="INT8: max mAP50-95 drop (0-1)",
                             minimum=0, maximum=1, step=0.01, elem_id="export-max-drop")
        export = gr.Button("Export and validate", variant="primary", elem_id="export-btn")
    info = gr.Markdown(elem_id="export-format-info")
    comparison = gr.Dataframe(headers=COMPARE_HEADERS, label="Export vs best.pt on the val "
                              "split (mAP fractions 0-1, latency ms per image)",
                              interactive=False, elem_id="export-comparison")
    with gr.Accordion("Export formats on this machine", open=False):
        check = gr.Button("Check formats and packages", elem_id="export-formats-btn")
        formats = gr.Dataframe(headers=list(FORMAT_COLUMNS), interactive=False, wrap=True,
                               elem_id="export-formats")
    return ExportParts(fmt, imgsz, batch, precision, dynamic, simplify, max_drop, info,
                       export, comparison, formats, check)


def format_values(manager: Any, key: str | None) -> list[Any]:
    """[precision, batch, dynamic, simplify, max_drop updates, info] for format ``key``: the
    options it does not take are reset and locked; the info names its packages' state."""
    formats = {f.key: f for f in manager.registry.export_formats()}
    fmt = formats.get(str(key or ""))
    if fmt is None:
        return [gr.update()] * 5 + [f"Choose one of: {', '.join(formats)}."]
    gpu = manager.registry.backend.has_gpu()
    takes = fmt.options(gpu)
    lacking = missing(fmt.key)
    packages = ("packages installed" if not lacking else
                "⚠️ " + missing_message(fmt.name, lacking, EXTRAS.get(fmt.key)))
    checked = fmt.not_validated(sys.platform) or "validated on the val split after export"
    info = (f"**{fmt.name}** (`{fmt.key}`) takes {', '.join(takes)} · {packages} · "
            f"{checked}.")
    return [gr.update(choices=list(fmt.precisions(gpu)), value="fp32"),
            gr.update(value=1, interactive="batch" in takes),
            gr.update(value=False, interactive="dynamic" in takes),
            gr.update(value=True, interactive="simplify" in takes),
            gr.update(interactive="max_drop" in takes), info]


def formats_values(manager: Any, current: str | None) -> list[Any]:
    """[format box with the offered formats, formats table rows]."""
    keys = [f.key for f in manager.registry.export_formats()]
    value = current if current in keys else (keys[0] if keys else None)
    return [gr.Dropdown(choices=keys, value=value), manager.registry.export_formats_table()]


def export_values(manager: Any, dataset: str | None, name: str | None, key: str,
                  *options: Any) -> list[Any]:
    """[exported path, exports text, comparison rows, file-to-get box] after exporting
    ``name`` to ``key`` with the option values (``ExportParts.options`` order).

    Raises:
        ValidationError: no dataset / model, a format not offered, or an option it does not
            take. StudioError: a package is missing (named, with the pip command), the export
            or its validation failed.
    """
    require(dataset, name)
    imgsz, batch, precision, dynamic, simplify, max_drop = options
    report = manager.registry.export_model(dataset, name, key, ExportOptions(
        imgsz=int(imgsz) if imgsz else None, batch=int(batch or 1),
        precision=precision or "fp32", dynamic=bool(dynamic), simplify=bool(simplify),
        max_drop=None if max_drop is None else float(max_drop)))
    (gr.Warning if report.drop_exceeded else gr.Info)(report.summary())
    exports = manager.models.exports(dataset, name)
    text = tables.exports_text(exports, manager.registry.export_reports(dataset, name))
    return [str(exports[report.format]), f"Exports: {text}", report.rows(),
            gr.Dropdown(choices=["pt", *exports], value=report.format)]


def wire(manager: Any, tab: ModelsTab, parts: ExportParts, opened: Any, outputs: list[Any]
         ) -> Any:
    """Wire the export part; ``opened``: the sub-tab (its select fills the formats);
    ``outputs``: [file, exports markdown, file-to-get box]. Returns Export's event."""
    file, exports, get_fmt = outputs

    @shows_errors
    def on_export(dataset: str | None, name: str | None, key: str, *options: Any) -> list[Any]:
        return export_values(manager, dataset, name, key, *options)

    def on_formats(current: str | None) -> list[Any]:
        return formats_values(manager, current)

    option_outputs = [parts.precision, parts.batch, parts.dynamic, parts.simplify,
                      parts.max_drop, parts.info]
    opened.select(shows_errors(on_formats), parts.fmt, [parts.fmt, parts.formats],
                  **PRIVATE).then(shows_errors(lambda key: format_values(manager, key)),
                                  parts.fmt, option_outputs, **PRIVATE)
    parts.fmt.input(shows_errors(lambda key: format_values(manager, key)), parts.fmt,
                    option_outputs, **PRIVATE)
    parts.check.click(shows_errors(lambda: manager.registry.export_formats_table()), None,
                      parts.formats, api_name="export_formats", **COMMON)
    return parts.export.click(
        on_export, [tab.dataset, tab.model, parts.fmt, *parts.options],
        [file, exports, parts.comparison, get_fmt], api_name="export_model",
        concurrency_limit=None, show_progress="minimal")
