"""How ``TrainingManager``'s worker runs one claimed job: train, register, explain failures.

``JobExecutionMixin`` holds the worker-side steps of ``TrainingManager`` (kept apart so the
manager module stays small; same pattern as ``ModelArtifactsMixin``). A failure never escapes
the worker: the job ends ERROR with a cause a user understands (``explain_failure``) and the
registry untouched, and the jobs behind it still run.
"""

from __future__ import annotations

import logging
import traceback
from pathlib import Path
from typing import Any

from ..config import TrainingConfig
from ..errors import NodeLostError, RegistryError, StudioError
from .progress import ProgressTracker, begin_snapshot
from .queue import JobRecord, utc_now
from .registration import earlier_epochs, final_stop_reason, register
from .runs import JobRun
from .snapshot import JobState

_LOG = logging.getLogger(__name__)


def explain_failure(err: BaseException, dataset: Any, run_dir: Path) -> str:
    """The user-facing cause of a failed job.

    Args:
        err: What ended the job (usually a ``StudioError`` from the backend or the stores).
        dataset: The ``DatasetInfo`` read when the job began, or None if it was never read.
        run_dir: The job's run folder (``<root>/jobs/runs/<job_id>``).

    Returns:
        One message: a dataset folder that vanished (removed or renamed) while training is said
        in so many words; a failed registration says where the trained weights still are.
    """
    cause = str(err) if isinstance(err, StudioError) else f"{type(err).__name__}: {err}"
    if dataset is not None and not Path(dataset.data_yaml).is_file():
        return (f"The dataset folder {dataset.folder} was removed or renamed during training, "
                f"so training could not go on ({cause}). Put the folder back (or import the "
                "dataset again) and retry the job; nothing was registered.")
    best = run_dir / "weights" / "best.pt"
    if isinstance(err, RegistryError) and best.is_file():
        return (f"{cause} The trained weights are still in {best}; free the space (or fix the "
                "cause) and train again, or copy them out by hand.")
    if isinstance(err, StudioError):
        return cause
    return f"Unexpected error: {cause}"


class JobExecutionMixin:
    """Worker steps of ``TrainingManager`` (uses its settings, executor, datasets, models,
    queue, auto_promote and ``_queued_ids``); each job's snapshots and stop request are its
    ``runs.JobRun``'s."""

    settings: Any
    executor: Any
    datasets: Any
    models: Any
    queue: Any
    auto_promote: bool
    _queued_ids: Any

    def _run(self, run: JobRun) -> None:
        job = run.job
        config = TrainingConfig.from_dict(job.config)
        begin_snapshot(run.board, job.job_id, config.dataset, job.model_name,
                       config.base_model, config.epochs, self._queued_ids(), config.device)
        tracker = ProgressTracker(run.board, lambda: run.stop is not None,
                                  lambda: run.cancelled)
        tracker.on_placed = lambda node: self._placed(job.job_id, node)
        local = getattr(self.executor, "node", None)
        if local is not None:  # where local executors train: known before the job starts
            tracker.on_node(local)
        tracker.log(f"Job {job.job_id}: {config.base_model} on {config.dataset}, "
                    f"{config.epochs} epochs -> model {job.model_name}")
        for note in config.notes:
            tracker.log(f"Note: {note}")
        run_dir = self.settings.run_dir(job.job_id)
        dataset = None
        try:
            if run.cancelled:
                state, changes = JobState.CANCELLED, {"stop_reason": run.stop.reason}
            else:
                dataset = self.datasets.get(config.dataset)  # what the model is trained on
                state, changes = self._train_and_register(run, config, tracker, dataset,
                                                          run_dir)
        except Exception as err:  # never let one job kill the worker or the jobs behind it
            if not isinstance(err, StudioError):
                _LOG.exception("job %s crashed", job.job_id)
                tracker.log(traceback.format_exc().strip().splitlines()[-1])
            state = JobState.INTERRUPTED if isinstance(err, NodeLostError) else JobState.ERROR
            changes = {"error": explain_failure(err, dataset, run_dir)}
        # after the error and its traceback are dropped
        self.executor.release(failed=state is not JobState.COMPLETED)
        ended = getattr(self.executor, "job_ended", None)  # executors that reserve room
        if ended is not None:
            ended(job.job_id)
        self._finish(run, state, changes)

    def _placed(self, job_id: str, node: str) -> None:
        try:
            self.queue.update(job_id, node=node)
        except StudioError as err:
            _LOG.warning("could not record the node of job %s: %s", job_id, err)

    def _train_and_register(self, run: JobRun, config: TrainingConfig,
                            tracker: ProgressTracker, dataset: Any,
                            run_dir: Path) -> tuple[JobState, dict[str, Any]]:
        job = run.job
        data_yaml = self.datasets.get_data_yaml_path(config.dataset, dataset)
        if job.resume:
            tracker.on_resume(earlier_epochs(run_dir))
        outcome = self.executor.train(config, Path(data_yaml), run_dir, tracker, job.resume)
        stop = run.stop
        if stop is not None and stop.kind == "cancel":
            return JobState.CANCELLED, {"stop_reason": stop.reason,
                                        "batch_used": outcome.batch_used}
        reason = final_stop_reason(outcome, stop)
        if outcome.batch_used is not None and outcome.batch_used != config.batch:
            tracker.log(f"Batch size really used: {outcome.batch_used} (configured "
                        f"{config.batch}).")
        record = register(self.models, dataset, config, job.model_name, outcome, reason,
                          self.auto_promote, tracker.log)
        tracker.log(f"Registered model {record.name} ({record.weights_path})"
                    + (" and made it active" if record.active else ""))
        return JobState.COMPLETED, {"stop_reason": reason, "batch_used": outcome.batch_used}

    def _finish(self, run: JobRun, state: JobState, changes: dict[str, Any]) -> None:
        job, board = run.job, run.board
        try:
            self.queue.update(job.job_id, state=state, finished=utc_now(), **changes)
        except StudioError as err:
            self._board.append_log(f"Could not update the job queue: {err}")
        if changes.get("error"):
            board.append_log(f"{state.value if state is JobState.INTERRUPTED else 'ERROR'}: "
                             f"{changes['error']}")
        elif changes.get("stop_reason"):
            board.append_log(f"Stopped: {changes['stop_reason']}")
        done = {"last_completed": (job.job_id, job.dataset)} if state is JobState.COMPLETED else {}
        board.publish(state=state, error=changes.get("error"),
                            stop_reason=changes.get("stop_reason"), eta_s=None, **done)
