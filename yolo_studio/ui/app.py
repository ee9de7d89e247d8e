"""The studio's Gradio Blocks: Train, Monitor and Models tabs and the wiring between them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import gradio as gr

from ..training.snapshot import JobState, TrainingSnapshot
from . import models_tab, monitor_tab, train_tab

TITLE = "YOLO Studio"


def build_app(manager: Any, monitor: Any = None, access: Any = None) -> gr.Blocks:
    """Build the studio UI around a started TrainingManager and an optional ResourceMonitor.

    Every page load starts one monitor stream (a generator following the manager's snapshots)
    with unlimited concurrency, so watching tabs never delay Start or Cancel, which also run
    with ``concurrency_limit=None`` (they only enqueue or flag; the manager does the work).

    Args:
        manager: ``TrainingManager`` (already started).
        monitor: ``ResourceMonitor`` (started) or None to hide resource figures.
        access: ``hosting.ServerAccess`` (weights upload, server-folder import); None = off.

    Returns:
        The Blocks; call ``.launch()`` on it.
    """
    with gr.Blocks(title=TITLE) as demo:
        gr.Markdown(f"# {TITLE}\nTrain Ultralytics YOLO detectors on your datasets.")
        finished = gr.State("")  # "<job_id>:<dataset>" of the last COMPLETED job seen
        with gr.Tabs(elem_id="tabs"):
            with gr.Tab("Train", id="train", elem_id="tab-train"):
                train = train_tab.build(manager, access)
            with gr.Tab("Monitor", id="monitor", elem_id="tab-monitor") as monitor_tab_block:
                mon = monitor_tab.build()
            with gr.Tab("Models", id="models", elem_id="tab-models") as models_tab_block:
                models = models_tab.build(manager)
        _wire(demo, manager, monitor, train, mon, models, finished,
              {"monitor": monitor_tab_block, "models": models_tab_block})
    return demo


def _finished_key(snap: TrainingSnapshot) -> str:
    return f"{snap.job_id}:{snap.dataset}" if snap.state is JobState.COMPLETED else gr.skip()


def cancel_button(snap: TrainingSnapshot, last: TrainingSnapshot | None) -> Any:
    """The Cancel buttons can be pressed only while a job is training."""
    if last is not None and (snap.state is JobState.TRAINING) == (
            last.state is JobState.TRAINING):
        return gr.skip()
    return gr.Button(interactive=snap.state is JobState.TRAINING)


def _wire(demo: gr.Blocks, manager: Any, monitor: Any, train: train_tab.TrainTab,
          mon: monitor_tab.MonitorTab, models: models_tab.ModelsTab, finished: gr.State,
          tab_blocks: dict[str, gr.Tab]) -> None:
    def extra(snap: TrainingSnapshot, last: TrainingSnapshot | None) -> list[Any]:
        jobs_changed = last is None or (snap.state, snap.queue_rev, snap.job_id) != (
            last.state, last.queue_rev, last.job_id)
        jobs = train_tab.stream_values(manager) if jobs_changed else [gr.skip(), gr.skip()]
        return [*jobs, _finished_key(snap), *[cancel_button(snap, last)] * 2]

    limiter = anyio.CapacityLimiter(monitor_tab.STREAM_THREADS)
    figures = monitor_tab.FigureCache()  # shared by every open tab's stream

    async def follow() -> AsyncIterator[list[Any]]:
        async for item in monitor_tab.follow(
                monitor_tab.stream(manager, monitor, extra, 5, cache=figures), limiter):
            yield item

    def on_load() -> list[Any]:
        names = models_tab.dataset_choices(manager)
        models_value = gr.Dropdown(choices=names, value=names[0] if names else None)
        return [*train_tab.load_values(manager), models_value]

    def on_finished(key: str, selected: str | None) -> list[Any]:
        dataset = key.split(":", 1)[1] if ":" in key else None
        if not dataset:
            return [gr.skip(), *[gr.skip()] * len(models.refresh_outputs)]
        names = models_tab.dataset_choices(manager)
        return [gr.Dropdown(choices=names, value=dataset),
                *models_tab.refresh(manager, dataset, selected)]

    demo.load(on_load, None, [*train.load_outputs, models.dataset],
              concurrency_limit=None, api_visibility="private")
    demo.load(follow, None, [*mon.snapshot_outputs, *mon.resource_outputs, *train.stream_outputs,
                             finished, mon.cancel_btn, train.cancel_btn], concurrency_limit=None,
              concurrency_id="monitor-stream",
              show_progress="hidden", api_visibility="private")
    train.dataset_added.change(  # an imported dataset appears in the Models tab's list too
        lambda _name: gr.Dropdown(choices=models_tab.dataset_choices(manager)),
        train.dataset_added, models.dataset, concurrency_limit=None, api_visibility="private")
    finished.change(on_finished, [finished, models.model], [models.dataset,
                    *models.refresh_outputs], concurrency_limit=None, api_visibility="private")
    # Gradio mounts an inactive tab's children lazily and drops updates sent to them before,
    # so the stream's first update (the whole history) is lost when the page opens on another
    # tab; the charts are redrawn from the shared cache when the Monitor tab is shown.
    tab_blocks["monitor"].select(
        lambda: [*figures.charts(manager.snapshot()), *figures.resources(monitor)], None,
        [mon.loss_plot, mon.metrics_plot, mon.lr_plot, *mon.resource_outputs],
        concurrency_limit=None, api_visibility="private", show_progress="hidden")
    tab_blocks["models"].select(lambda d, m: models_tab.refresh(manager, d, m),
                            [models.dataset, models.model], models.refresh_outputs,
                            concurrency_limit=None, api_visibility="private")
    mon.cancel_btn.click(train_tab.cancel_handler(manager), None, train.jobs_table,
                         concurrency_limit=None, api_visibility="private", show_progress="hidden")
