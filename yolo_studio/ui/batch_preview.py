"""The Monitor tab's augmentation preview: Ultralytics' mosaics of augmented training batches
(``train_batch<N>.jpg``, the images and boxes as the model sees them), which it writes into the
job's run folder during the first batches of the first epoch (and again when mosaic
augmentation closes). They are kept with the registered model too (``plots/``, Inspect).

Nothing follows them in the monitor feed: a ``gr.Timer`` per page lists the run folder
(``StudioSettings.run_dir``) of the job the page's Monitor follows (its Follow list: a picked
job, else the newest running one, the manager's ``snapshot()``) every ``POLL_S`` seconds while
that job trains, and stops itself when it does not; a change of the Train tab's training flag
(a job started or ended) or of the Follow list starts it again. A page gets new images only
when the list of files changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from ..errors import StudioError
from ..persistence.model_artifacts import train_batch_images
from ..training.snapshot import JobState, TrainingSnapshot
from .monitor_follow import NEWEST

#: Seconds between two looks at the run folder while a job trains.
POLL_S = 2.0
LABEL = "Augmentation preview: training batches as the model sees them (Ultralytics)"


def preview(manager: Any, follow: str | None = None) -> tuple[str, list[Path], bool]:
    """(job id, its ``train_batch_images``, whether it trains) for job ``follow`` (a job id of
    the Monitor's Follow list), else (None or ``NEWEST``) for the snapshot's job: the newest
    running one, else the last one; ``""`` and [] before any."""
    job = follow if follow and follow != NEWEST else None
    try:
        snap = manager.snapshot(job) if job else manager.snapshot()
    except StudioError:  # a job the studio no longer keeps: its folder may still be there
        snap = TrainingSnapshot(job_id=job or "")
    if not snap.job_id:
        return "", [], False
    images = train_batch_images(manager.settings.run_dir(snap.job_id))
    return snap.job_id, images, snap.state is JobState.TRAINING


def gallery_items(images: list[Path]) -> list[tuple[str, str]]:
    """Gallery items: (path, "train batch N")."""
    return [(str(path), path.stem.replace("_", " ")) for path in images]


def build(manager: Any, training_flag: gr.HTML | None,
          follow: gr.Dropdown | None = None) -> gr.Gallery:
    """Lay out the preview inside the current tab and wire its timer, the changes of the
    training flag and the Follow list (``follow``), and the API's ``/training_batches`` (the
    newest running or last job's mosaics)."""
    with gr.Accordion("Augmentation preview", open=True, elem_id="batch-preview"):
        gallery = gr.Gallery(label=LABEL, columns=3, height="auto", object_fit="contain",
                             elem_id="batch-preview-gallery")
    shown = gr.State(None)  # what this page shows: (job id, file names)
    timer = gr.Timer(POLL_S)

    def on_tick(last: Any, followed: str | None = None) -> tuple[Any, Any, Any]:
        job_id, images, training = preview(manager, followed)
        key = (job_id, tuple(path.name for path in images))
        still = gr.skip() if training else gr.Timer(active=False)
        if key == last:
            return gr.skip(), last, still
        label = f"{LABEL}: job {job_id}" if job_id else LABEL
        return gr.Gallery(value=gallery_items(images), label=label), key, still

    timer.tick(on_tick, [shown] + ([follow] if follow is not None else []),
               [gallery, shown, timer], concurrency_limit=None, api_visibility="private",
               show_progress="hidden")
    for trigger in (training_flag, follow):
        if trigger is not None:
            trigger.change(lambda: gr.Timer(active=True), None, timer, concurrency_limit=None,
                           api_visibility="private", show_progress="hidden")
    api = gr.Button(visible=False, elem_id="batch-preview-api")
    api.click(lambda: gallery_items(preview(manager)[1]), None, gallery,
              api_name="training_batches", concurrency_limit=None)
    return gallery
