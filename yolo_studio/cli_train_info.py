"""What ``yolo-studio train`` can start from and how long it will take: the ``base-models``
command (every detection model Ultralytics ships, and its weights on this machine) and the
duration estimate ``train`` prints before it starts (``training.estimate``)."""

from __future__ import annotations

import argparse
from typing import Any

from .config import StudioSettings, TrainingConfig
from .errors import EstimateUnavailable, ValidationError


def cmd_base_models(args: argparse.Namespace, settings: StudioSettings) -> int:
    """``base-models``: every detection model Ultralytics ships and its weights here."""
    from .training.base_models import listing_rows, weights_folders
    from .training.model_report import text_table

    print(text_table(listing_rows(settings.root), "Ultralytics ships no detection model."))
    print("Weights are looked for in: " + ", ".join(map(str, weights_folders(settings.root))))
    return 0


def print_estimate(manager: Any, config: TrainingConfig, args: argparse.Namespace) -> bool:
    """Print the duration estimate (``training.estimate``) unless ``--no-estimate``; returns
    whether it was printed. One that cannot be made is a note (an error with
    ``--estimate-only``); a base model or device Start would refuse raises as at Start."""
    from .training.estimate import DurationEstimator, estimate_job

    if args.no_estimate:
        if args.estimate_only:
            raise ValidationError("--estimate-only and --no-estimate contradict each other.")
        return False
    try:
        estimate = estimate_job(manager, config, DurationEstimator())
    except EstimateUnavailable as err:
        if args.estimate_only:
            raise
        print(f"note: no duration estimate: {err}", flush=True)
        return False
    print(f"Estimated duration: {estimate.text()}.\n  {estimate.details()}", flush=True)
    return True
