"""Models tab, "Try on an image": run a model (the active one by default) and optionally a
candidate on an uploaded image or a val image of the dataset; boxes drawn side by side and a
table of detections per model, with inference time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from ..errors import ValidationError
from ..training.model_report import no_detections_hint
from . import model_tables as tables
from .errors import shows_errors
from .model_common import PRIVATE, ModelsTab, model_names, require

NO_CANDIDATE = "No candidate chosen: pick one to compare it with the model on the left."
#: The model picker's value for "the dataset's active model, whichever it is when Run is
#: pressed" (no model name can hold parentheses). ``None`` or "" mean the same.
ACTIVE = "(active)"


def model_name_of(picked: str | None) -> str | None:
    """The model name to run for a picker value: None (the active model) for ``ACTIVE``,
    None or ""; else ``picked`` itself."""
    return None if not picked or picked == ACTIVE else picked


def _run(manager: Any, dataset: str, name: str | None, image: str, conf: float,
         iou: float) -> list[Any]:
    result = manager.registry.predict(dataset, model_name_of(name), image, conf=float(conf),
                                      iou=float(iou))
    hint = ""
    if not result.detections:  # why: the threshold, or an undertrained model
        best = manager.models.get(dataset, result.model).best_map50
        hint = no_detections_hint(float(conf), best)
    return [result.image, tables.prediction_text(result, hint), tables.detection_rows(result)]


def predict_values(manager: Any, dataset: str | None, name: str | None, candidate: str | None,
                   image: str | None, conf: float, iou: float) -> list[Any]:
    """[image, text, rows] of ``name`` (``ACTIVE`` or None: the dataset's active model at the
    time of the call), then the same of ``candidate`` (or [None, NO_CANDIDATE, []]).

    Args:
        image: Path of the image file. conf / iou: thresholds, fractions 0-1.

    Raises:
        ValidationError: no dataset or image, bad thresholds. NotFoundError: unknown model or
            no active model. RegistryError: weights missing.
    """
    require(dataset)
    if not image:
        raise ValidationError("Upload an image or pick one of the dataset's val images first.")
    values = _run(manager, dataset, name, image, conf, iou)
    if candidate:
        return values + _run(manager, dataset, candidate, image, conf, iou)
    return values + [None, NO_CANDIDATE, []]


def sample_choices(manager: Any, dataset: str | None) -> list[tuple[str, str]]:
    """(file name, path) of the dataset's val images (``ModelService.sample_images``)."""
    if not dataset:
        return []
    return [(path.name, str(path)) for path in manager.registry.sample_images(dataset)]


def model_choices(manager: Any, dataset: str | None, name: str | None,
                  candidate: str | None) -> list[Any]:
    """Updates of the model and candidate dropdowns.

    The model's first choice is ``ACTIVE``, labelled with the active model's name of now; it
    keeps ``name`` if that model still exists, else picks ``ACTIVE``. The candidate is kept if
    it exists, else none.
    """
    names, active = model_names(manager, dataset)
    label = f"the active model ({active or 'none yet'})"
    return [gr.Dropdown(choices=[(label, ACTIVE), *[(n, n) for n in names]],
                        value=name if name in names else ACTIVE),
            gr.Dropdown(choices=names, value=candidate if candidate in names else None)]


def build(manager: Any, tab: ModelsTab) -> None:
    """Lay out the Try sub-tab and wire it."""
    with gr.Row():
        with gr.Column(scale=2):
            image = gr.Image(label="Image", type="filepath", sources=["upload", "clipboard"],
                             elem_id="try-image", height=320)
            sample = gr.Dropdown(label="...or pick a val image of the dataset", choices=[],
                                 elem_id="try-sample-dd")
        with gr.Column(scale=1):
            name = gr.Dropdown(label="Model", choices=[("the active model", ACTIVE)],
                               value=ACTIVE, allow_custom_value=True, elem_id="try-model-dd")
            candidate = gr.Dropdown(label="Candidate to compare (optional)", choices=[],
                                    allow_custom_value=True, elem_id="try-candidate-dd")
            conf = gr.Slider(0.0, 1.0, value=0.25, step=0.001, label="Confidence threshold (0-1)",
                             elem_id="try-conf")
            iou = gr.Slider(0.0, 1.0, value=0.7, step=0.01, label="IoU threshold (0-1)",
                            elem_id="try-iou")
            run = gr.Button("Run", variant="primary", elem_id="try-run-btn")
    outputs = []
    with gr.Row():
        for side, label in (("a", "Model"), ("b", "Candidate")):
            with gr.Column():
                outputs += [gr.Image(label=label, type="numpy", interactive=False,
                                     elem_id=f"try-result-{side}"),
                            gr.Markdown(elem_id=f"try-text-{side}"),
                            gr.Dataframe(headers=tables.DETECTION_COLUMNS, value=[],
                                         interactive=False, label=f"{label} detections",
                                         elem_id=f"try-detections-{side}", max_height=300)]
    _wire(manager, tab, (image, sample, name, candidate, conf, iou, run), outputs)


def _wire(manager: Any, tab: ModelsTab, parts: tuple, outputs: list[Any]) -> None:
    image, sample, name, candidate, conf, iou, run = parts

    @shows_errors
    def on_run(*args: Any) -> list[Any]:
        return predict_values(manager, *args)

    @shows_errors
    def on_dataset(dataset: str | None) -> Any:
        return gr.Dropdown(choices=sample_choices(manager, dataset), value=None)

    @shows_errors
    def on_models_changed(dataset: str | None, chosen: str | None, other: str | None) -> list:
        return model_choices(manager, dataset, chosen, other)

    def on_sample(path: str | None) -> Any:
        return path if path and Path(path).is_file() else gr.skip()

    run.click(on_run, [tab.dataset, name, candidate, image, conf, iou], outputs,
              api_name="predict", concurrency_limit=None, show_progress="minimal")
    tab.dataset.change(on_dataset, tab.dataset, sample, **PRIVATE)
    tab.table.change(on_models_changed, [tab.dataset, name, candidate], [name, candidate],
                     **PRIVATE)
    sample.change(on_sample, sample, image, **PRIVATE)
