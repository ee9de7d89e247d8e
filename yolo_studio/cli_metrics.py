"""The ``models`` CLI's evaluation and registry-metric commands (``cli.py`` wires them in).

    models [list] [--sort KEY]          the table sorted by KEY (created, name, map50, map50_95,
                                        precision, recall, fitness, parameters, inference_ms)
    models eval NAME [--split val|test] [--on DATASET] [--imgsz N] [--device D]
                                        evaluate; the metrics are printed and kept with NAME
    models promote-metric [METRIC]      show / set what auto-promote and "best" compare
"""

from __future__ import annotations

import argparse
from typing import Any

from .persistence.registry_metrics import PROMOTE_METRICS
from .training.evaluation import EVAL_SPLITS
from .training.model_metrics import SORT_KEYS

#: The ``models`` actions ``run`` handles.
ACTIONS = ("eval", "promote-metric")


def add_sort_option(models: argparse.ArgumentParser, listing: argparse.ArgumentParser) -> None:
    """``--sort KEY`` on ``models`` (``models --sort map50_95``) and its ``list`` subcommand."""
    help_text = "sort the table by " + ", ".join(SORT_KEYS) + " (best first; default created)"
    models.add_argument("--sort", choices=tuple(SORT_KEYS), default=None, help=help_text)
    listing.add_argument("--sort", choices=tuple(SORT_KEYS), default=argparse.SUPPRESS,
                         help=help_text)


def add_parsers(add: Any) -> None:
    """``models eval`` and ``models promote-metric``; ``add(name, help)`` makes a subparser."""
    evaluate = add("eval", "evaluate a model on val or test; the metrics are kept with it")
    evaluate.add_argument("name")
    evaluate.add_argument("--split", choices=EVAL_SPLITS, default="val")
    evaluate.add_argument("--on", dest="on_dataset", metavar="DATASET", default=None,
                          help="evaluate on another dataset whose data.yaml names the same "
                               "classes in the same order (default: the model's own)")
    evaluate.add_argument("--imgsz", type=int, default=None, help="pixels (default: trained)")
    evaluate.add_argument("--device", default=None,
                          help="cpu, 0, cuda:0, mps (default: Ultralytics' choice)")
    metric = add("promote-metric", "show, or set, the metric auto-promote and 'best' use")
    metric.add_argument("metric", nargs="?", choices=PROMOTE_METRICS,
                        help="fitness (Ultralytics', the default), map50, map50_95, precision "
                             "or recall")


def run(service: Any, args: argparse.Namespace) -> str:
    """Run one of ``ACTIONS`` for ``args.dataset``; returns the text to print.

    Raises:
        StudioError: from ``ModelService`` / ``ModelStore`` (printed as ``error: ...``).
    """
    from .training.model_report import evaluation_text

    ds = args.dataset
    if args.action == "eval":
        return evaluation_text(service.evaluate_model(
            ds, args.name, args.split, on_dataset=args.on_dataset, imgsz=args.imgsz,
            device=args.device))
    if args.metric:
        service.models.set_promote_metric(ds, args.metric)
        return f"Auto-promote and 'best' of {ds} now compare {args.metric}."
    return f"Auto-promote and 'best' of {ds} compare {service.models.promote_metric(ds)}."


def evaluations_text(service: Any, dataset: str, name: str) -> str:
    """``models show``'s list of the evaluations kept with a model, newest first."""
    from .training.model_report import evaluations_table

    return "Evaluations (newest first):\n" + evaluations_table(
        service.evaluations(dataset, name))
