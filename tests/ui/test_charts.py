"""The pure chart builders: one point per trained epoch, the final result apart, units right."""

from __future__ import annotations

import datetime

import plotly.graph_objects as go
import pytest

from yolo_studio.resources.status import ResourceStatus
from yolo_studio.training.snapshot import EpochMetrics
from yolo_studio.ui import charts

from plot_figures import figure


def _epoch(i: int, **extra: float) -> EpochMetrics:
    values = dict(train_box_loss=3.0 - i * 0.1, train_cls_loss=4.0 - i * 0.2,
                  train_dfl_loss=2.0 - i * 0.05, val_box_loss=3.1 - i * 0.1,
                  val_cls_loss=4.1 - i * 0.2, val_dfl_loss=2.1 - i * 0.05,
                  precision=0.1 * i, recall=0.05 * i, map50=0.08 * i, map50_95=0.03 * i,
                  lr=0.001 / i, time_s=10.0 * i)
    values.update(extra)
    return EpochMetrics(epoch=i, **values)


HISTORY = tuple(_epoch(i) for i in (1, 2, 3))
FINAL = EpochMetrics(epoch=4, precision=0.31, recall=0.16, map50=0.25, map50_95=0.09)


def _traces(fig: go.Figure) -> dict[str, go.Scatter]:
    return {t.name: t for t in fig.data}


def test_loss_figure_has_train_and_val_losses_with_one_point_per_epoch() -> None:
    fig = figure(charts.loss_figure(HISTORY))
    traces = _traces(fig)
    assert set(traces) == {"train box", "train cls", "train dfl", "val box", "val cls", "val dfl"}
    for trace in traces.values():
        assert list(trace.x) == [1, 2, 3]
    assert list(traces["val cls"].y) == pytest.approx([3.9, 3.7, 3.5])
    assert traces["val box"].line.dash == "dash" and traces["train box"].line.dash == "solid"


def test_metrics_figure_three_epochs_three_points_and_final_apart() -> None:
    fig = figure(charts.metrics_figure(HISTORY, FINAL))
    traces = _traces(fig)
    for name in ("precision", "recall", "mAP50", "mAP50-95"):
        assert list(traces[name].x) == [1, 2, 3], name
    assert list(traces["mAP50"].y) == pytest.approx([0.08, 0.16, 0.24])
    final = traces[charts.FINAL_TRACE_NAME]
    assert final.mode == "markers"
    assert list(final.y) == pytest.approx([0.31, 0.16, 0.25, 0.09])
    assert all(3 < x < 4 for x in final.x), "final result must not sit on an epoch"
    texts = [a.text for a in fig.layout.annotations]
    assert any("best.pt on val" in t and "mAP50 0.250" in t for t in texts)


def test_metrics_figure_without_final_has_only_epoch_traces() -> None:
    fig = figure(charts.metrics_figure(HISTORY[:2]))
    assert [t.name for t in fig.data] == ["precision", "recall", "mAP50", "mAP50-95"]
    assert all(len(t.x) == 2 for t in fig.data)
    assert not fig.layout.annotations


def test_metrics_figure_marks_early_stop() -> None:
    fig = figure(charts.metrics_figure(HISTORY, FINAL, stop_reason="early stopping (patience 2)"))
    texts = [a.text for a in fig.layout.annotations]
    assert "stopped: early stopping (patience 2)" in texts
    assert any(shape.x0 == 3 for shape in fig.layout.shapes)


def test_missing_values_are_gaps_not_zeros() -> None:
    history = (_epoch(1), EpochMetrics(epoch=2, train_box_loss=2.5))
    traces = _traces(figure(charts.loss_figure(history)))
    assert traces["val box"].y[0] == pytest.approx(3.0)
    assert traces["val box"].y[1] is None
    assert list(traces["train box"].y) == pytest.approx([2.9, 2.5])


def test_empty_history_gives_empty_traces_on_sane_axes() -> None:
    for build in (charts.loss_figure, charts.metrics_figure, charts.lr_figure):
        fig = figure(build(()))
        assert all(len(t.x) == 0 for t in fig.data)
        assert tuple(fig.layout.xaxis.range) == (0.5, 1.5)  # epoch 1, not Plotly's -1..6
        assert fig.layout.yaxis.range[0] == 0


def test_lr_figure_one_point_per_epoch() -> None:
    trace = figure(charts.lr_figure(HISTORY)).data[0]
    assert list(trace.x) == [1, 2, 3]
    assert list(trace.y) == pytest.approx([0.001, 0.0005, 0.001 / 3])


def test_lr_figure_with_one_value_spans_zero_to_twice_it() -> None:
    assert figure(charts.lr_figure(HISTORY[:1])).layout.yaxis.range == (0, 0.002)
    constant = tuple(_epoch(i, lr=0.0003) for i in (1, 2))
    assert figure(charts.lr_figure(constant)).layout.yaxis.range == (0, 0.0006)
    assert figure(charts.lr_figure(HISTORY)).layout.yaxis.range is None  # autoscaled


def test_final_summary_text() -> None:
    assert charts.final_summary(None) == ""
    assert charts.final_summary(FINAL) == ("best.pt on val: precision 0.310, recall 0.160, "
                                           "mAP50 0.250, mAP50-95 0.090")


def _status(t: float, ram: float, gpu: float | None = None, cpu: float | None = 12.0,
            alerts: tuple[str, ...] = ()) -> ResourceStatus:
    return ResourceStatus(timestamp=t, gpu_percent=gpu, ram_percent=ram, ram_used_bytes=1,
                          ram_total_bytes=2, cpu_percent=cpu, constrained=bool(alerts),
                          alerts=alerts)


def test_resource_figure_percent_scale_and_alert_markers() -> None:
    statuses = (_status(1000.0, 0.5, 0.2), _status(1001.0, 0.9, 0.3, alerts=("RAM 90% >= 85%",)),
                _status(1002.0, 0.6, None, cpu=None))
    fig = figure(charts.resource_figure(statuses, gpu_threshold=0.9, ram_threshold=0.85))
    traces = _traces(fig)
    assert list(traces["RAM"].y) == pytest.approx([50.0, 90.0, 60.0])
    assert list(traces["GPU memory"].y)[:2] == pytest.approx([20.0, 30.0])
    assert list(traces["CPU"].y)[:2] == pytest.approx([12.0, 12.0])
    assert len(traces["alert"].x) == 1 and traces["alert"].y[0] == pytest.approx(90.0)
    assert sorted(shape.y0 for shape in fig.layout.shapes) == pytest.approx([85.0, 90.0])
    assert charts.resource_alert(statuses) == ""
    assert charts.resource_alert(statuses[:2]) == "RAM 90% >= 85%"


def test_resource_figure_without_gpu_has_no_gpu_trace_or_limit() -> None:
    fig = figure(charts.resource_figure((_status(1.0, 0.4), _status(2.0, 0.41)), 0.9, 0.85))
    assert {t.name for t in fig.data} == {"RAM", "CPU"}
    assert [shape.y0 for shape in fig.layout.shapes] == pytest.approx([85.0])


def test_an_hour_of_readings_is_thinned_keeping_peaks_alerts_and_the_newest() -> None:
    statuses = [_status(1000.0 + i, 0.4) for i in range(3600)]  # the sampler's whole history
    statuses[1234] = _status(2234.0, 0.95, alerts=("RAM 95% >= 85%",))
    statuses[-1] = _status(4599.0, 0.41)
    fig = figure(charts.resource_figure(statuses, ram_threshold=0.85))
    ram = _traces(fig)["RAM"]
    assert len(ram.y) <= charts.MAX_RESOURCE_POINTS
    assert max(ram.y) == pytest.approx(95.0) and ram.y[-1] == pytest.approx(41.0)
    assert len(_traces(fig)["alert"].x) == 1
    assert charts.thin_statuses(statuses[:300]) == statuses[:300]  # short histories as they are


def test_a_full_resource_chart_stays_small() -> None:
    """Every open page gets it every few seconds: an hour of varied readings with a GPU, drawn
    to 0.1 s and 0.1 percent, stays under 32 KB (it was 67 KB, sent every second)."""
    statuses = [_status(1000.0 + i + 0.123456, 0.4 + (i % 97) / 1000.0, 0.2 + (i % 89) / 997.0,
                        cpu=(i % 83) * 1.2345678) for i in range(3600)]
    payload = charts.plot_payload(charts.resource_figure(statuses, 0.9, 0.85))
    assert len(payload["plot"]) < 32_000
    ram = _traces(figure(charts.resource_figure(statuses[:3], 0.9, 0.85)))["RAM"]
    assert list(ram.y) == [40.0, 40.1, 40.2]
    assert str(ram.x[1]).replace("T", " ") == f"{datetime.datetime.fromtimestamp(1001)}.1"
    # local time of the studio machine, which a page elsewhere must be told
    assert figure(charts.resource_figure(statuses[:3])).layout.xaxis.title.text == \
        "time (studio machine's clock)"


def test_a_long_history_is_thinned_to_a_bounded_line_with_the_newest_epochs_exact() -> None:
    from yolo_studio.ui.chart_points import EXACT_TAIL, MARKERS_UP_TO, MAX_EPOCH_POINTS

    exact = tuple(_epoch(i) for i in range(1, MAX_EPOCH_POINTS + 1))
    assert [len(t.x) for t in figure(charts.loss_figure(exact)).data] == [MAX_EPOCH_POINTS] * 6
    long = tuple(_epoch(i) for i in range(1, 1001))
    for fig in (charts.loss_figure(long), charts.metrics_figure(long, FINAL, "patience"),
                charts.lr_figure(long)):
        for trace in figure(fig).data:
            if trace.name == charts.FINAL_TRACE_NAME:
                continue
            x = list(trace.x)
            assert len(x) <= MAX_EPOCH_POINTS and x[0] == 1 and trace.mode == "lines"
            assert x[-EXACT_TAIL:] == list(range(1001 - EXACT_TAIL, 1001))
            assert x == sorted(set(x))
    short = figure(charts.lr_figure(HISTORY)).data[0]
    assert short.mode == "lines+markers" and len(HISTORY) <= MARKERS_UP_TO
