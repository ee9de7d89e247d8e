"""Turn the studio's errors into Gradio toasts: ``StudioError`` -> ``gr.Error`` with its message.

The message of every :class:`~yolo_studio.errors.StudioError` is already written for the user, so
it is shown as is, under a title naming the kind of problem. Anything else is a bug: Gradio shows
its generic error and the traceback goes to the server log.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import gradio as gr

from ..errors import (DatasetError, EstimateUnavailable, NotFoundError, RegistryError,
                      StudioError, TrainingError, ValidationError)

F = TypeVar("F", bound=Callable[..., Any])

_TITLES = ((ValidationError, "Invalid input"), (NotFoundError, "Not found"),
           (DatasetError, "Dataset problem"), (RegistryError, "Model registry problem"),
           (EstimateUnavailable, "No duration estimate"), (TrainingError, "Training problem"))


def error_title(err: StudioError) -> str:
    """Toast title for an error: "Invalid input", "Not found", ... or "Error"."""
    for kind, title in _TITLES:
        if isinstance(err, kind):
            return title
    return "Error"


def to_gradio_error(err: StudioError) -> gr.Error:
    """A ``gr.Error`` showing ``str(err)`` (no traceback printed: the error is expected)."""
    return gr.Error(str(err), title=error_title(err), print_exception=False)


def shows_errors(fn: F) -> F:
    """Decorate a Gradio event handler so a ``StudioError`` becomes a ``gr.Error`` toast.

    The event then ends without changing its outputs, as Gradio does for ``gr.Error``.
    """
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except StudioError as err:
            raise to_gradio_error(err) from err
    return wrapper  # type: ignore[return-value]
