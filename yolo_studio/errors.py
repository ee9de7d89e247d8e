"""The studio's one error hierarchy.

Every error carries a message written for the user: what went wrong and what to do. The UI alone
turns these into ``gr.Warning`` / ``gr.Error``; the CLI prints them and exits non-zero.
"""

from __future__ import annotations


class StudioError(Exception):
    """Base of every error the studio raises on purpose. ``str(err)`` is user-facing."""


class ValidationError(StudioError, ValueError):
    """A value given by the user (config field, name, path) is not acceptable."""


class NotFoundError(StudioError, KeyError):
    """A dataset, model or job that was asked for does not exist."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DatasetError(StudioError):
    """A dataset cannot be imported or trained on (bad data.yaml, missing split, bad labels).

    Attributes:
        report: The ``HealthReport`` behind the refusal, when a health check was run (the UI
            shows its per-file table), else None.
    """

    def __init__(self, message: str, report: object | None = None) -> None:
        super().__init__(message)
        self.report = report


class RegistryError(StudioError):
    """The model registry cannot be read or written (corrupt file, disk full, duplicate name)."""


class TrainingError(StudioError):
    """A training job failed: weights unavailable offline, out of memory, NaN losses, crash."""


class NodeLostError(TrainingError):
    """The machine (a Ray node) that trained a job died or left the cluster mid-run: the job
    ends INTERRUPTED, and can be resumed from the last.pt the studio holds, on any node."""


class EstimateUnavailable(TrainingError):
    """No duration estimate now: the batch is AutoBatch's to choose, a job is training (a
    measurement would slow it and read wrong), or measuring a batch failed. Training itself
    may still work."""
