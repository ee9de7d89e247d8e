"""What the Models tab and its sub-tabs share: the tab's components (``ModelsTab``), the event
keyword arguments, and the reads of the registry they all make (dataset and model choices, the
table's refresh, the checks of a user's choice).

``models_tab`` lays out the tab and imports its sub-tabs (``model_inspect``, ``model_compare``,
``model_try``, ``model_manage``); they import only this module, never ``models_tab`` or each
other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from ..errors import ValidationError
from ..training.model_metrics import DEFAULT_SORT, SORT_KEYS, RegistryView, registry_view
from . import formatting as fmt

__all__ = ["COMMON", "PRIVATE", "ModelsTab", "dataset_choices", "model_names", "refresh",
           "require", "stale_pair"]

#: Keyword arguments of every Models-tab event: never queued behind training or each other;
#: show_progress="hidden" because after a gr.Error Gradio would otherwise cover the outputs
#: (the dropdown, the checkbox) with its status overlay and block clicks on them.
COMMON: dict[str, Any] = dict(concurrency_limit=None, show_progress="hidden")
PRIVATE: dict[str, Any] = dict(COMMON, api_visibility="private")


@dataclass
class ModelsTab:
    """The components the app and the sub-tabs wire to; ``sort`` is the registry table's
    "Sort by" dropdown, the last input of every event whose outputs are ``refresh_outputs``."""

    dataset: gr.Dropdown
    table: gr.Dataframe
    model: gr.Dropdown
    refresh_outputs: list[Any]
    parts: dict[str, Any] = field(default_factory=dict)
    sort: Any = None

    @property
    def refresh_inputs(self) -> list[Any]:
        """[dataset, model, sort]: the inputs of ``refresh``."""
        return [self.dataset, self.model, self.sort]


def dataset_choices(manager: Any) -> list[str]:
    """Datasets that exist on disk or have a registry, sorted."""
    names = set(manager.datasets.list()) | set(manager.models.datasets())
    return sorted(names)


def model_names(manager: Any, dataset: str | None) -> tuple[list[str], str | None]:
    """(names of the dataset's models, newest first; the active model's name or None)."""
    if not dataset:
        return [], None
    records = sorted(manager.models.list(dataset), key=lambda r: str(r.created), reverse=True)
    return [r.name for r in records], next((r.name for r in records if r.active), None)


def stale_pair(manager: Any, dataset: str | None, name: str | None) -> bool:
    """True when ``name`` is not a model of ``dataset``: the model dropdown can briefly hold a
    model of the dataset shown before (two refreshes of the list race, e.g. a finished job's
    and the page's own), or one deleted from another page. A handler of the dropdown's
    ``change`` then shows nothing rather than an error: the refresh that follows sets a model
    of the shown dataset."""
    return bool(dataset and name) and name not in model_names(manager, dataset)[0]


def refresh(manager: Any, dataset: str | None, selected: str | None = None,
            sort: str | None = None) -> list[Any]:
    """[table rows, model dropdown, summary markdown] for ``dataset``, the table sorted by
    ``sort`` (``model_metrics.SORT_KEYS``; None: newest first); keeps ``selected`` if it still
    exists, else picks the active model. The summary names the active model and the best one
    by the dataset's promote metric.

    Raises:
        ValidationError: unknown sort key. RegistryError: the registry is unreadable.
    """
    if not dataset:
        return [[], gr.Dropdown(choices=[], value=None), "Choose a dataset."]
    view = registry_view(manager.models, dataset, sort)
    names = [r.name for r in sorted(view.records, key=lambda r: str(r.created), reverse=True)]
    active = next((r.name for r in view.records if r.active), None)
    value = selected if selected in names else active
    summary = (f"{len(names)} model(s); active: **{active or 'none'}**; "
               f"{markdown_best(view)}" if names else
               f"No models for **{dataset}** yet: train one in the Train tab.")
    return [fmt.model_rows(view.records, view.metrics, view.sort),
            gr.Dropdown(choices=names, value=value), summary]


def markdown_best(view: RegistryView) -> str:
    """"best by fitness: **demo** (0.412)", or that no model has the promote metric."""
    label = SORT_KEYS[view.promote_metric][0]
    if view.best is None:
        return f"best by {label}: none yet"
    return f"best by {label}: **{view.best}** ({view.best_value():.3f})"


def require(dataset: str | None, name: str | None = "-") -> None:
    """Raise a ValidationError asking for the dataset / model the user has not chosen."""
    if not dataset:
        raise ValidationError("Choose a dataset first.")
    if not name:
        raise ValidationError("Choose a model first.")


def registry_header() -> tuple[Any, Any, Any, Any, Any]:
    """The Models tab's dataset picker with its Refresh button and "Sort by" dropdown, summary
    and registry table (their elem_ids are the tab's API and test anchors): ``(dataset,
    refresh_btn, summary, table, sort)``. Shared by the Models tab and the read-only demo."""
    with gr.Row():
        dataset = gr.Dropdown(label="Dataset", choices=[], elem_id="models-dataset-dd", scale=3,
                              allow_custom_value=True)
        sort = gr.Dropdown([(label, key) for key, (label, _) in SORT_KEYS.items()],
                           value=DEFAULT_SORT, label="Sort by", elem_id="models-sort-dd",
                           scale=1)
        refresh_btn = gr.Button("Refresh", elem_id="models-refresh-btn", scale=0, min_width=100)
    summary = gr.Markdown(elem_id="models-summary")
    table = gr.Dataframe(headers=fmt.MODEL_COLUMNS, value=[], interactive=False,
                         elem_id="models-table", wrap=True)
    return dataset, refresh_btn, summary, table, sort
