"""Models tab, "Evaluate": validate a model on val or test of its dataset, or of another dataset
whose data.yaml names the same classes in the same order; every evaluation is kept with the
model and listed here, the newest shown in full (metrics over all classes and per class)."""

from __future__ import annotations

from typing import Any

import gradio as gr

from ..training.evaluation import EVAL_SPLITS
from . import model_tables as tables
from .errors import shows_errors
from .model_common import (COMMON, PRIVATE, ModelsTab, dataset_choices, refresh, require,
                           stale_pair)


def evaluation_values(manager: Any, dataset: str | None, name: str | None) -> list[Any]:
    """[newest evaluation's markdown, its per-class rows, rows of every kept evaluation
    (newest first), the datasets to evaluate on] of a model; empty values when none is chosen.

    Raises:
        NotFoundError: the model is not registered. RegistryError: its evaluations.json is
            unreadable.
    """
    datasets = gr.Dropdown(choices=dataset_choices(manager))
    if not dataset or not name:
        return ["Choose a model to evaluate it.", [], [], datasets]
    kept = manager.registry.evaluations(dataset, name)
    newest = kept[0] if kept else None
    return [tables.evaluation_markdown(newest),
            tables.per_class_rows(newest.result.per_class) if newest else [],
            tables.evaluation_rows(kept), datasets]


def evaluate_values(manager: Any, dataset: str | None, name: str | None, split: str,
                    on_dataset: str | None, imgsz: float | None,
                    device: str | None) -> list[Any]:
    """Evaluate ``name`` (``ModelService.evaluate_model``) and return ``evaluation_values``'
    first three outputs with the new evaluation first. ``imgsz`` 0 / None: the training size;
    ``on_dataset`` empty: the model's own dataset; ``device`` empty: Ultralytics' choice.

    Raises:
        ValidationError: no dataset / model chosen, a split the dataset lacks, other classes
            (named). StudioError: the validation failed.
    """
    require(dataset, name)
    evaluation = manager.registry.evaluate_model(
        dataset, name, split or "val", on_dataset=on_dataset or None,
        imgsz=int(imgsz) if imgsz else None, device=(device or "").strip() or None)
    gr.Info(f"Evaluated {name} on {evaluation.dataset} {evaluation.split}: mAP50-95 "
            f"{evaluation.result.map50_95:.3f}.")
    return evaluation_values(manager, dataset, name)[:3]


def build(manager: Any, tab: ModelsTab) -> None:
    """Lay out the Evaluate sub-tab and wire it."""
    with gr.Row():
        split = gr.Dropdown(list(EVAL_SPLITS), value=EVAL_SPLITS[0], label="Split",
                            elem_id="eval-split-dd", scale=1)
        on_dataset = gr.Dropdown(label="Dataset to evaluate on (empty: the model's own)",
                                 choices=[], value=None, allow_custom_value=True,
                                 elem_id="eval-dataset-dd", scale=2)
        imgsz = gr.Number(value=0, precision=0, minimum=0, label="imgsz (0: the training size)",
                          elem_id="eval-imgsz", scale=1)
        device = gr.Textbox(label="device (empty: auto)", placeholder="cpu, 0, cuda:0, mps",
                            elem_id="eval-device", scale=1)
        run = gr.Button("Evaluate", variant="primary", elem_id="evaluate-btn", scale=0,
                        min_width=120)
    result = gr.Markdown("Choose a model to evaluate it.", elem_id="eval-result")
    per_class = gr.Dataframe(headers=tables.PER_CLASS_HEADERS, value=[], interactive=False,
                             label="Per class (newest evaluation)",
                             elem_id="eval-per-class-table")
    kept = gr.Dataframe(headers=tables.EVALUATION_COLUMNS, value=[], interactive=False,
                        label="Evaluations kept with the model (newest first)",
                        elem_id="eval-history-table", wrap=True)
    outputs = [result, per_class, kept]

    @shows_errors
    def on_model(dataset: str | None, name: str | None) -> list[Any]:
        if stale_pair(manager, dataset, name):
            return evaluation_values(manager, dataset, None)
        return evaluation_values(manager, dataset, name)

    @shows_errors
    def on_evaluate(dataset: str | None, name: str | None, split_name: str,
                    other: str | None, size: float | None, where: str | None) -> list[Any]:
        return evaluate_values(manager, dataset, name, split_name, other, size, where)

    keys = [tab.dataset, tab.model]
    tab.model.change(on_model, keys, [*outputs, on_dataset], **PRIVATE)
    run.click(on_evaluate, [*keys, split, on_dataset, imgsz, device], outputs,
              api_name="evaluate_model", concurrency_limit=None,
              show_progress="minimal").success(  # an evaluation may fill parameters, ms
        shows_errors(lambda d, m, order: refresh(manager, d, m, order)), tab.refresh_inputs,
        tab.refresh_outputs, **PRIVATE)
    api = gr.Button(visible=False, elem_id="model-evaluations-api")  # reads the kept ones
    api.click(shows_errors(lambda d, n: evaluation_values(manager, d, n)[:3]), keys, outputs,
              api_name="model_evaluations", **COMMON)
