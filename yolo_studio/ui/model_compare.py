"""Models tab, "Compare": two or more models of a dataset, metric charts overlaid and their
training configs side by side with the differing rows highlighted."""

from __future__ import annotations

from typing import Any

import gradio as gr

from . import charts, compare_charts
from . import model_tables as tables
from .errors import shows_errors
from .model_common import COMMON, PRIVATE, ModelsTab, model_names, require

#: The overlaid charts, in display order: (elem_id, EpochMetrics attribute or "losses").
COMPARE_CHARTS = (("compare-map50-plot", "map50"), ("compare-map50-95-plot", "map50_95"),
                  ("compare-loss-plot", "losses"))


def compare_values(manager: Any, dataset: str | None, names: list[str] | None) -> list[Any]:
    """[summary markdown, mAP50 figure, mAP50-95 figure, val losses figure, styled config
    table] of the chosen models (``ModelService.compare_models``).

    Raises:
        ValidationError: no dataset, or fewer than two models. NotFoundError: unknown model.
    """
    require(dataset)
    comparison = manager.registry.compare_models(dataset, list(names or []))
    figures = [charts.plot_value(compare_charts.compare_losses_figure(comparison.histories)
                                 if metric == "losses"
                                 else compare_charts.compare_figure(comparison.histories, metric))
               for _, metric in COMPARE_CHARTS]
    return [tables.comparison_summary(comparison), *figures,
            tables.styled_comparison(comparison)]


def compare_choices(manager: Any, dataset: str | None, chosen: list[str] | None) -> Any:
    """The multiselect's update: every model of ``dataset``; keeps the chosen ones that still
    exist, else preselects the two newest."""
    names, _ = model_names(manager, dataset)
    kept = [n for n in chosen or [] if n in names]
    return gr.Dropdown(choices=names, value=kept if len(kept) >= 2 else names[:2],
                       multiselect=True)


def distinct_names(names: list[str] | None) -> Any:
    """The picker's value with each model once (a name typed again as a custom value was
    taken twice), in the order chosen; ``gr.skip()`` when it already is."""
    kept = list(dict.fromkeys(n for n in names or [] if n))
    return gr.skip() if kept == list(names or []) else kept


def build(manager: Any, tab: ModelsTab) -> None:
    """Lay out the Compare sub-tab and wire it."""
    with gr.Row():
        chosen = gr.Dropdown(label="Models to compare (two or more)", choices=[], value=[],
                             multiselect=True, allow_custom_value=True, elem_id="compare-dd",
                             scale=4)
        run = gr.Button("Compare", variant="primary", elem_id="compare-btn", scale=0,
                        min_width=120)
    summary = gr.Markdown(elem_id="compare-summary")
    with gr.Row():
        plots = [gr.Plot(elem_id=elem_id, label=metric) for elem_id, metric in COMPARE_CHARTS[:2]]
    plots.append(gr.Plot(elem_id=COMPARE_CHARTS[2][0], label="val losses"))
    table = gr.Dataframe(value=None, interactive=False, label="Training configs "
                         "(highlighted rows differ)", elem_id="compare-config-table", wrap=True)

    @shows_errors
    def on_compare(dataset: str | None, names: list[str] | None) -> list[Any]:
        return compare_values(manager, dataset, names)

    @shows_errors
    def on_models_changed(dataset: str | None, names: list[str] | None) -> Any:
        return compare_choices(manager, dataset, names)

    run.click(on_compare, [tab.dataset, chosen], [summary, *plots, table],
              api_name="compare_models", **COMMON)
    tab.table.change(on_models_changed, [tab.dataset, chosen], chosen, **PRIVATE)
    # .change: Gradio's multiselect adds a typed custom value (Enter, blur) without an input
    # event; a value that is already distinct is skipped, so this never loops
    chosen.change(distinct_names, chosen, chosen, **PRIVATE)
