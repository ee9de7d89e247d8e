"""The comparison charts: one trace per model, one point per trained epoch, right units."""

from __future__ import annotations

import pytest

from yolo_studio.training.snapshot import EpochMetrics
from yolo_studio.ui import compare_charts

from plot_figures import figure


def _history(n: int, scale: float) -> tuple[EpochMetrics, ...]:
    return tuple(EpochMetrics(epoch=i, map50=scale * i, map50_95=scale * i / 2,
                              val_box_loss=3.0 - i * scale, val_cls_loss=2.0,
                              val_dfl_loss=None, train_box_loss=4.0 - i)
                 for i in range(1, n + 1))


HISTORIES = {"small": _history(3, 0.1), "big": _history(5, 0.15)}


def test_compare_figure_overlays_one_trace_per_model() -> None:
    fig = figure(compare_charts.compare_figure(HISTORIES, "map50"))
    assert [t.name for t in fig.data] == ["small", "big"]
    assert list(fig.data[0].x) == [1, 2, 3] and list(fig.data[1].x) == [1, 2, 3, 4, 5]
    assert list(fig.data[1].y) == pytest.approx([0.15, 0.3, 0.45, 0.6, 0.75])
    assert fig.data[0].line.color != fig.data[1].line.color
    low, high = fig.layout.yaxis.range  # fitted to 0.1-0.75, inside 0-1.05
    assert 0 <= low < 0.1 and 0.75 < high <= 1.05
    assert tuple(fig.layout.xaxis.range) == (0.5, 5.5)
    assert "mAP50" in fig.layout.title.text


def test_weak_models_get_an_axis_fitted_to_them() -> None:
    """The mAP axes were fixed at 0-1: models of mAP50 0.01 and 0.03 drew as one flat line."""
    weak = {"a": _history(3, 0.003), "b": _history(3, 0.01)}  # mAP50 0.003-0.03
    low, high = figure(compare_charts.compare_figure(weak, "map50")).layout.yaxis.range
    assert low == 0 and 0.03 < high <= 0.06
    empty = figure(compare_charts.compare_figure({"a": (), "b": ()}, "map50"))
    assert tuple(empty.layout.yaxis.range) == (0, 1.05)


def test_compare_figure_of_a_loss_is_not_clamped_to_fractions() -> None:
    fig = figure(compare_charts.compare_figure(HISTORIES, "val_box_loss"))
    assert fig.layout.yaxis.range is None and fig.layout.yaxis.title.text == "loss"
    assert list(fig.data[0].y) == pytest.approx([2.9, 2.8, 2.7])


def test_compare_figure_rejects_unknown_metric_and_handles_empty_history() -> None:
    with pytest.raises(ValueError, match="unknown metric"):
        figure(compare_charts.compare_figure(HISTORIES, "accuracy"))
    fig = figure(compare_charts.compare_figure({"a": (), "b": _history(2, 0.1)}, "map50_95"))
    assert [len(t.x) for t in fig.data] == [0, 2]


def test_compare_losses_figure_three_dashed_traces_per_model() -> None:
    fig = figure(compare_charts.compare_losses_figure(HISTORIES))
    names = [t.name for t in fig.data]
    assert names == ["small val box", "small val cls", "small val dfl",
                     "big val box", "big val cls", "big val dfl"]
    assert {t.line.color for t in fig.data[:3]} != {t.line.color for t in fig.data[3:]}
    assert [t.line.dash for t in fig.data[:3]] == ["solid", "dash", "dot"]
    assert list(fig.data[2].y) == [None, None, None]  # missing values stay gaps
    train = figure(compare_charts.compare_losses_figure(HISTORIES, split="train"))
    assert list(train.data[0].y) == pytest.approx([3.0, 2.0, 1.0])
    with pytest.raises(ValueError):
        figure(compare_charts.compare_losses_figure(HISTORIES, split="test"))


def test_the_compare_picker_keeps_each_model_once() -> None:
    import gradio as gr

    from yolo_studio.ui.model_compare import distinct_names

    assert distinct_names(["a", "b", "a"]) == ["a", "b"]
    assert isinstance(distinct_names(["a", "b"]), type(gr.skip()))
