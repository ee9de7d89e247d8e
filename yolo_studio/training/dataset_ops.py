"""DatasetService: rename and delete datasets (the Train tab, the ``datasets`` CLI, the API).

The file work is ``persistence.dataset_changes`` (both folders moved together, under locks;
a dataset's models follow a rename and are deleted with it only when confirmed). Here a
dataset is refused while one of its jobs is queued or training: the job would lose its data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..errors import ValidationError
from ..persistence import dataset_changes
from .snapshot import JobState

#: Job states during which a job's dataset may be neither renamed nor deleted.
BUSY_STATES = (JobState.QUEUED, JobState.TRAINING)


class DatasetService:
    """Rename / delete datasets, refusing those with a queued or training job.

    Args:
        datasets: The ``DatasetStore``. models: The ``ModelStore``.
        jobs: Returns the job queue's ``JobRecord``s (``TrainingManager.jobs`` or
            ``JobQueue.list``).
    """

    def __init__(self, datasets: Any, models: Any, jobs: Callable[[], Sequence[Any]]) -> None:
        self.datasets = datasets
        self.models = models
        self._jobs = jobs

    def model_names(self, name: str) -> list[str]:
        """The models registered for dataset ``name`` (what a delete would take with it)."""
        return dataset_changes.model_names(self.models, name)

    def _require_idle(self, name: str, doing: str) -> None:
        busy = [job for job in self._jobs() if job.dataset == name and job.state in BUSY_STATES]
        if busy:
            jobs = ", ".join(f"{job.job_id} ({job.state.value})" for job in busy)
            raise ValidationError(f"Dataset {name!r} cannot be {doing}: job(s) {jobs} use it. "
                                  "Cancel them, or wait until they finish.")

    def rename(self, old: str, new: str) -> Any:
        """Rename dataset ``old`` to ``new``; its models follow.

        Returns:
            The ``DatasetInfo`` under the new name (None for a dataset with models only).

        Raises:
            ValidationError: a bad name, or a job of ``old`` is queued or training.
            NotFoundError: no such dataset. DatasetError: ``new`` is taken or a move failed.
        """
        self._require_idle(old, "renamed")
        return dataset_changes.rename_dataset(self.datasets, self.models, old, new)

    def delete(self, name: str, delete_models: bool = False) -> list[str]:
        """Delete dataset ``name``; its models too, only with ``delete_models``.

        Returns:
            The names of the models deleted with it.

        Raises:
            ValidationError: a job of it is queued or training. NotFoundError: no such
                dataset. RegistryError: it has models and ``delete_models`` is False (named).
            DatasetError: a folder could not be moved away (nothing deleted).
        """
        self._require_idle(name, "deleted")
        return dataset_changes.delete_dataset(self.datasets, self.models, name, delete_models)
