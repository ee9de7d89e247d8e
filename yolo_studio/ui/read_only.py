"""The read-only studio behind the demo: what the demo's handlers get in place of a
``TrainingManager``.

It has no job queue, no executor and no queue thread, so nothing in a demo process can start a
job; and its stores and registry are views that pass on reads only (listing, details,
comparisons, predictions). Any other method of them raises a ``ValidationError`` saying the
studio is a read-only demo. No Gradio here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from ..config import StudioSettings
from ..errors import ValidationError
from ..persistence.dataset_store import DatasetStore
from ..persistence.model_store import ModelStore
from ..training.model_service import ModelService

#: Methods of ``ModelService`` the demo may call (reads; ``predict`` writes no file).
REGISTRY_READS = frozenset({"model_details", "compare_models", "resolve", "sample_images",
                            "predict"})
#: Methods of ``ModelStore`` the demo may call.
MODEL_READS = frozenset({"list", "get", "get_active", "datasets", "load_metrics",
                         "load_config", "plots", "exports", "promote_metric", "evaluations"})
#: Methods of ``DatasetStore`` the demo may call.
DATASET_READS = frozenset({"list", "get", "sample_images"})


def refuse(action: str) -> NoReturn:
    """Raise the demo's refusal for ``action`` (a method name).

    Raises:
        ValidationError: always, naming the action and how to get the full studio.
    """
    raise ValidationError(f"This studio is a read-only demo: {action.replace('_', ' ')} is off. "
                          "Its banner says how to run the full studio.")


def _refusing(name: str) -> Callable[..., NoReturn]:
    """A method (or function) that refuses ``name`` whatever its arguments."""
    def refused(*_args: Any, **_kwargs: Any) -> NoReturn:
        refuse(name)
    refused.__name__ = name
    return refused


class ReadOnlyView:
    """Passes on the ``allowed`` methods (and plain attributes) of ``target``; any other
    method is replaced by one that calls ``refuse``.

    Args:
        target: The store or service to read from.
        allowed: Names of its methods that only read.
    """

    def __init__(self, target: Any, allowed: frozenset[str]) -> None:
        self._target = target
        self._allowed = allowed

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)  # AttributeError for a missing name, as usual
        if name in self._allowed or name.startswith("_") or not callable(value):
            return value
        return _refusing(name)


class ReadOnlyStudio:
    """The demo's stand-in for ``TrainingManager``: ``settings``, ``datasets``, ``models`` and
    ``registry`` (read-only views), ``auto_promote`` (False) and ``close()`` (nothing to stop).

    ``TrainingManager``'s job actions (``start_training``, ``retry_job``, ``cancel``,
    ``remove_job``, ``move_job``, ``reset``) raise the demo's ``ValidationError``
    (``refuse``); ``jobs()`` is empty.

    Args:
        settings: Storage locations (read only; no folder is created here).
        datasets / models / registry: The stores and service to read (default: ones under
            ``settings``).
    """

    auto_promote = False
    demo = True

    def __init__(self, settings: StudioSettings, datasets: Any = None, models: Any = None,
                 registry: Any = None) -> None:
        datasets = datasets if datasets is not None else DatasetStore(settings.datasets_dir)
        models = models if models is not None else ModelStore(settings.models_dir)
        registry = registry if registry is not None else ModelService(models, datasets)
        self.settings = settings
        self.datasets = ReadOnlyView(datasets, DATASET_READS)
        self.models = ReadOnlyView(models, MODEL_READS)
        self.registry = ReadOnlyView(registry, REGISTRY_READS)

    def jobs(self) -> list[Any]:
        """No jobs: a demo has no queue."""
        return []

    def close(self) -> None:
        """Nothing to stop: no thread, no worker process, no lock."""

    start_training = _refusing("start_training")
    retry_job = _refusing("retry_job")
    cancel = _refusing("cancel")
    remove_job = _refusing("remove_job")
    move_job = _refusing("move_job")
    reset = _refusing("reset")
