"""The job queue panel of the Train tab: the table of jobs and the buttons that act on one job
(move up/down, remove, retry, resume from last.pt)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..errors import NotFoundError, StudioError, ValidationError
from . import formatting as fmt
from .errors import shows_errors

#: States a user can act on from the panel (TRAINING: use Cancel; COMPLETED: nothing to do).
ACTIONABLE = ("QUEUED", "INTERRUPTED", "ERROR", "CANCELLED")
#: Completed jobs kept in the table (the newest); their models are in the Models tab.
COMPLETED_SHOWN = 3


@dataclass
class JobsPanel:
    """The panel's components."""

    table: gr.Dataframe
    select: gr.Dropdown
    buttons: dict[str, gr.Button]


def visible_jobs(jobs: Sequence[Any], completed_shown: int = COMPLETED_SHOWN) -> list[Any]:
    """The jobs the table shows, in queue order: every job that is not COMPLETED (queued,
    training, interrupted, failed, cancelled) and the ``completed_shown`` newest COMPLETED."""
    completed = [j for j in jobs if fmt.job_state(j) == "COMPLETED"]
    recent = {j.job_id for j in completed[-completed_shown:]} if completed_shown > 0 else set()
    return [j for j in jobs if fmt.job_state(j) != "COMPLETED" or j.job_id in recent]


def job_choices(jobs: Sequence[Any]) -> list[tuple[str, str]]:
    """Dropdown choices (label, job id) of the jobs a user can act on (``ACTIONABLE``), in
    queue order. (A job an idle trainer starts at once is never published as QUEUED, so a
    job's start does not change them: ``TrainingManager._publish_queued``.)"""
    return [(f"{j.job_id} · {fmt.job_state(j)} · {j.model_name}", j.job_id) for j in jobs
            if fmt.job_state(j) in ACTIONABLE]


def gone_models(models: Any, jobs: Sequence[Any]) -> set[str]:
    """Ids of the COMPLETED ``jobs`` whose model is no longer registered (deleted or renamed
    since), reading each dataset's registry once; none when ``models`` is None or a registry
    cannot be read."""
    done = [j for j in jobs if fmt.job_state(j) == "COMPLETED"]
    if models is None or not done:
        return set()
    names: dict[str, set[str]] = {}
    try:
        for dataset in {j.dataset for j in done}:
            names[dataset] = {r.name for r in models.list(dataset)}
    except StudioError:
        return set()
    return {j.job_id for j in done if j.model_name not in names[j.dataset]}


def jobs_value(manager: Any, jobs: Sequence[Any] | None = None) -> list[list[Any]]:
    """Rows of the job-queue table (see ``formatting.JOB_COLUMNS``) of ``jobs`` (default: the
    queue file, read now); a completed job whose model is gone says so."""
    shown = visible_jobs(manager.jobs() if jobs is None else jobs)
    return fmt.job_rows(shown, gone_models(getattr(manager, "models", None), shown))


def table_payload(table: gr.Dataframe, jobs: Sequence[Any],
                  models: Any = None) -> dict[str, Any]:
    """The rows of ``jobs`` in the form Gradio sends for ``table`` (``Dataframe.postprocess``
    done here, for an event with ``postprocess=False``: the monitor feed builds it once per
    queue change for every open page).

    Args:
        table: The job table component (its headers shape the payload).
        jobs: ``JobRecord``s in queue order; ``visible_jobs`` of them become rows.
        models: The ``ModelStore``: a completed job whose model is gone says so
            (``gone_models``); None = not checked.

    Returns:
        ``{"headers": [...], "data": [[row], ...], "metadata": None}``.
    """
    shown = visible_jobs(jobs)
    return table.postprocess(fmt.job_rows(shown, gone_models(models, shown))).model_dump()


def selection_after(jobs: Sequence[Any], selected: str | None) -> dict[str, Any]:
    """The job selector's value after an action: ``selected`` while it can still be acted on
    (``ACTIONABLE`` in ``jobs``), else empty. Its choices are left to ``refresh_choices_on``,
    their one writer: a handler's choices could be older than the last refill, which runs
    only when the choices change."""
    ids = {value for _, value in job_choices(jobs)}
    return gr.update(value=selected if selected in ids else None)


def refresh_choices_on(choices: gr.State, select: gr.Dropdown) -> None:
    """Set ``select``'s choices whenever the ``choices`` State changes (the app's jobs stream
    sets it to ``job_choices`` of the queue it read; nothing is read again per page).

    An ordinary event, not the stream: a page applies a stream's later updates as diffs, and
    Gradio 6.31's page gets a Dropdown's choices wrong from the diff of a component update
    (seen in Chromium: emptied, or a job that had started kept as QUEUED). ``always_last``:
    a change during a refill runs one more, with the newest choices.
    """
    def refresh_job_choices(pairs: list[list[str]]) -> gr.Dropdown:
        return gr.Dropdown(choices=[tuple(pair) for pair in pairs])
    choices.change(refresh_job_choices, choices, select, trigger_mode="always_last",
                   concurrency_limit=None, api_visibility="private", show_progress="hidden")


def actions(manager: Any) -> dict[str, tuple[str, Callable[[str], Any], str]]:
    """Button key -> (label, action on a job id, done message with {job})."""
    return {
        "up": ("Move up", lambda j: manager.move_job(j, -1), "Job {job} moved up."),
        "down": ("Move down", lambda j: manager.move_job(j, 1), "Job {job} moved down."),
        "remove": ("Remove", manager.remove_job, "Job {job} removed."),
        "retry": ("Retry", lambda j: manager.retry_job(j, resume=False),
                  "Job {job} queued again (starts over)."),
        "resume": ("Resume", lambda j: manager.retry_job(j, resume=True),
                   "Job {job} queued to resume from its last.pt."),
    }


def build(manager: Any) -> JobsPanel:
    """Lay out the panel (inside the current Blocks context) and wire its buttons."""
    gr.Markdown("### Job queue\nQueued, running, interrupted, failed and cancelled jobs, and the "
                f"{COMPLETED_SHOWN} newest completed ones (their models are in the Models tab). "
                "Pick a queued, interrupted, failed or cancelled job to move, remove, retry "
                "(start over) or resume (continue from its last.pt).")
    table = gr.Dataframe(headers=fmt.JOB_COLUMNS, value=[], interactive=False,
                         elem_id="jobs-table", wrap=True)
    acts = actions(manager)
    # a row of its own: a job's label (id, state, model name) is about 60 characters
    # a custom value: a job removed from another page may still be selected here; the
    # action then says it is gone (Gradio would refuse a value not in the choices)
    select = gr.Dropdown(label="Job", choices=[], allow_custom_value=True, elem_id="job-select")
    with gr.Row():
        buttons = {key: gr.Button(label, elem_id=f"job-{key}-btn", size="sm")
                   for key, (label, _, _) in acts.items()}
    panel = JobsPanel(table, select, buttons)
    for key, (_, action, done) in acts.items():
        event = panel.buttons[key].click(_handler(manager, action, done), select,
                                         [table, select], concurrency_limit=None,
                                         api_name=_API_NAMES[key], show_progress="hidden")
        refresh_after(event, manager, table)
    return panel


def refresh_after(event: Any, manager: Any, table: gr.Dataframe) -> None:
    """Re-read the job table once ``event`` is done (``.success``).

    Another tab's Start may queue a job between this handler reading the queue and its result
    reaching the page, after the live stream already drew the newer table: the handler's older
    rows would then stay on screen. The re-read's rows are at least as new as the stream's.
    """
    event.success(lambda: jobs_value(manager), None, table, concurrency_limit=None,
                  api_visibility="private", show_progress="hidden")


_API_NAMES = {"up": "move_job_up", "down": "move_job_down", "remove": "remove_job",
              "retry": "retry_job", "resume": "resume_job"}


def _handler(manager: Any, action: Callable[[str], Any], done: str) -> Callable[..., Any]:
    @shows_errors
    def handler(job_id: str | None) -> tuple[list[list[Any]], dict[str, Any]]:
        if not job_id:
            raise ValidationError("Choose a job first.")
        try:
            action(job_id)
            gr.Info(done.format(job=job_id))
        except NotFoundError:  # the list lags behind another page's remove
            if any(job.job_id == job_id for job in manager.jobs()):
                raise  # something else is missing (e.g. the job's dataset)
            # a warning, not an error, so the gone job leaves the selector (an error would
            # leave every output as it was)
            gr.Warning(f"Job {job_id} is no longer in the queue: it was removed, maybe from "
                       "another page. Pick a job from the list again.", title="Not found")
        jobs = manager.jobs()
        return jobs_value(manager, jobs), selection_after(jobs, job_id)
    return handler
