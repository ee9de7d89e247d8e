"""The Train tab's duration estimate: a button under Start and the estimate beside it
(``training.estimate``: a real batch measured in a process of its own, kept per base model,
imgsz, batch and device; never measured while a job trains).

The handler runs in one of Gradio's worker threads (the event loop never waits on it) and takes
the form's values in ``config_fields.form_fields()`` order, as ``/start_training`` does; it is
``/estimate_duration`` in the Gradio API.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gradio as gr

from ..config_fields import config_from_values, form_fields
from ..training.estimate import DurationEstimate, DurationEstimator, estimate_job
from .errors import shows_errors

#: What the estimate line says before the first estimate.
HINT = ("Estimate duration measures a few real training batches of the chosen base model at "
        "the chosen imgsz and batch on the chosen device (seconds on a GPU, up to a minute on "
        "a CPU), never while a job trains.")


def estimate_markdown(estimate: DurationEstimate) -> str:
    """The estimate in bold, then its arithmetic."""
    return f"**Estimated duration: {estimate.text()}.**  \n{estimate.details()}"


def build(manager: Any, inputs: Sequence[gr.components.Component],
          check: Callable[[str], None] = lambda base_model: None,
          estimator: DurationEstimator | None = None) -> gr.Markdown:
    """Lay out the button and the estimate line, and wire them.

    Args:
        manager: The TrainingManager (datasets, backend, jobs, settings are read).
        inputs: The form's components in ``form_fields()`` order.
        check: Called with the form's base model before measuring; raises to refuse it (a
            hosted studio's rule for ``.pt`` files, ``train_tab.check_base_model_allowed``).
        estimator: Keeps the measurements; default a new ``DurationEstimator``.
    """
    estimator = estimator or DurationEstimator()
    with gr.Row(equal_height=True):
        button = gr.Button("Estimate duration", elem_id="estimate-btn", scale=0,
                           min_width=180)
        text = gr.Markdown(HINT, elem_id="estimate-text")

    @shows_errors
    def on_estimate(*values: Any) -> str:
        config = config_from_values(form_fields(), values)
        check(config.base_model)
        return estimate_markdown(estimate_job(manager, config, estimator))

    button.click(on_estimate, list(inputs), text, api_name="estimate_duration",
                 concurrency_limit=None)
    return text
