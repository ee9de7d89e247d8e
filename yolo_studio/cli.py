"""Headless command line: ``yolo-studio train|models|datasets ...`` (or ``python -m
yolo_studio ...``); ``serve`` (the web app, the options of ``app.py``) is parsed here and run by
``yolo_studio.entry``.

    models [list] --dataset D [--sort K] the registry table (* marks the active model)
    models show NAME                     config, metrics per epoch and per class, plots
    models rename OLD NEW | notes NAME TEXT | tag NAME [TAG ...]   (no TAG clears the tags)
    models set-active NAME | rollback | delete NAME [--allow-active]
    models compare A B [C ...]           config differences and final metrics
    models predict (NAME | --active) IMAGE [--conf 0.25 --iou 0.7 --imgsz N --save out.jpg]
    models formats                       Ultralytics' export formats: offered here? options, packages
    models export NAME --format F [--imgsz N --batch N --half|--int8 --dynamic --no-simplify
                  --max-drop 0.02]        export, validate against best.pt on val (exit 1: INT8
                                         drop over --max-drop)
    models download NAME [--format pt|onnx|openvino|...]   prints the file's path
    models eval NAME [--split val|test] [--on DATASET] | promote-metric [METRIC]  (cli_metrics)
    base-models                          the detection models Ultralytics ships, weights here

``train`` and its options are ``cli_train``'s; ``base-models`` is ``cli_train_info``'s.

Every ``models`` subcommand takes ``--dataset`` (before or after it).

Every command works on the storage root chosen by ``--root`` (else ``$YOLO_STUDIO_ROOT``, else
the default of ``StudioSettings.resolve``). Errors the studio raises on purpose are printed as
``error: <message>`` with exit code 2; Ctrl-C during training cancels the job (exit code 130).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, Sequence

from . import cli_metrics
from .cli_train import add_train_parser, cmd_train
from .cli_train_info import cmd_base_models
from .config import SAMPLES_DIR, StudioSettings, TrainingConfig
from .errors import StudioError, ValidationError
from .cli_models import export_command, models_try_parsers, predict_text
from .serve_options import add_serve_arguments


ROOT_HELP = ("storage root (default: $YOLO_STUDIO_ROOT, else /data/yolo_studio, the source "
             "checkout or the user data folder)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="yolo-studio", description="YOLO Studio: serve the "
                                     "web app, or train and manage models without the browser.")
    parser.add_argument("--root", help=ROOT_HELP)
    sub = parser.add_subparsers(dest="command", required=True)
    add_serve_arguments(sub.add_parser("serve", help="serve the web app (the options of "
                                       "app.py)"), root_default=argparse.SUPPRESS)
    add_train_parser(sub)
    sub.add_parser("base-models", help="list the detection models Ultralytics ships and "
                   "where their weights are on this machine")
    _models_parser(sub, TrainingConfig().dataset)
    _datasets_parser(sub)
    _root_everywhere(parser)
    return parser


def _root_everywhere(parser: argparse.ArgumentParser) -> None:
    """Let ``--root`` come after any subcommand too (``models list --root X``); given there,
    it wins over one given before."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in dict.fromkeys(action.choices.values()):
                if "--root" not in subparser._option_string_actions:
                    subparser.add_argument("--root", default=argparse.SUPPRESS, help=ROOT_HELP)
                _root_everywhere(subparser)


def _datasets_parser(sub: Any) -> None:
    """Add ``datasets [list|import PATH|delete NAME|rename OLD NEW]`` to ``sub``."""
    datasets = sub.add_parser("datasets", help="list, import, rename or delete datasets")
    datasets.add_argument("action", nargs="?", default="list",
                          choices=("list", "import", "delete", "rename"))
    datasets.add_argument("path", nargs="?", metavar="PATH|NAME",
                          help="import: folder or .zip in YOLO format; delete / rename: the "
                               "dataset")
    datasets.add_argument("new_name", nargs="?", help="rename: the new name")
    datasets.add_argument("--name", default=None, help="name for the imported dataset")
    datasets.add_argument("--with-models", action="store_true",
                          help="delete: also delete the dataset's registered models")


def _models_parser(sub: Any, default_dataset: str) -> None:
    """Add ``models`` and its subcommands (see the module docstring) to ``sub``."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--dataset", default=argparse.SUPPRESS, help="dataset name")
    models = sub.add_parser("models", help="list / inspect / manage / try / export models")
    models.add_argument("--dataset", default=default_dataset)
    actions = models.add_subparsers(dest="action")

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        return actions.add_parser(name, parents=[common], help=help_text)

    cli_metrics.add_sort_option(models, add("list", "the registry table"))
    add("show", "one model in detail").add_argument("name")
    rename = add("rename", "rename a model")
    rename.add_argument("name")
    rename.add_argument("new_name")
    notes = add("notes", "set a model's notes")
    notes.add_argument("name")
    notes.add_argument("text")
    tag = add("tag", "set a model's tags (none given: clear them)")
    tag.add_argument("name")
    tag.add_argument("tags", nargs="*")
    add("set-active", "make a model active").add_argument("name")
    add("rollback", "make the previously active model active again")
    delete = add("delete", "delete a model")
    delete.add_argument("name")
    delete.add_argument("--allow-active", action="store_true", help="even the active model")
    add("compare", "compare two or more models").add_argument("names", nargs="+")
    models_try_parsers(add)
    cli_metrics.add_parsers(add)


def _stores(settings: StudioSettings) -> tuple[Any, Any]:
    from .persistence.dataset_store import DatasetStore
    from .persistence.model_store import ModelStore

    datasets = DatasetStore(settings.datasets_dir)
    datasets.ensure_samples(SAMPLES_DIR)
    return datasets, ModelStore(settings.models_dir)


def _change(service: Any, args: argparse.Namespace) -> str:
    """The ``models`` subcommands that change the registry; returns the message to print."""
    from .training.model_report import weak_model_warning

    ds = args.dataset
    if args.action == "rename":
        service.rename_model(ds, args.name, args.new_name)
        return f"Renamed {args.name} to {args.new_name}."
    if args.action == "notes":
        service.update_model_info(ds, args.name, notes=args.text)
        return f"Notes of {args.name} saved."
    if args.action == "tag":
        record = service.update_model_info(ds, args.name, tags=list(args.tags))
        return f"Tags of {args.name}: {', '.join(record.tags) or 'none'}."
    if args.action == "set-active":
        warning = weak_model_warning(service.set_active(ds, args.name))
        return f"{args.name} is now the active model of {ds}." + (
            f"\nwarning: {warning}" if warning else "")
    if args.action == "rollback":
        record = service.rollback_active(ds)
        return f"Rolled back: {record.name} is the active model of {ds} again."
    service.delete_model(ds, args.name, allow_active=args.allow_active)
    return f"Deleted {args.name} from {ds}."


def cmd_models(args: argparse.Namespace, settings: StudioSettings) -> int:
    """``models [SUBCOMMAND]`` for ``--dataset``; after a change the table is printed."""
    from .training import model_report as report
    from .training.model_metrics import registry_view
    from .training.model_service import ModelService

    datasets, models = _stores(settings)
    service = ModelService(models, datasets)
    action, ds = args.action or "list", args.dataset
    if action == "show":
        print(report.details_text(service.model_details(ds, args.name)))
        print(cli_metrics.evaluations_text(service, ds, args.name))
    elif action in cli_metrics.ACTIONS:
        print(cli_metrics.run(service, args))
    elif action == "compare":
        print(report.comparison_text(service.compare_models(ds, args.names)))
    elif action == "predict":
        print(predict_text(service, args))
    elif action == "export":
        return export_command(service, args)
    elif action == "formats":
        from .training.export_service import FORMAT_COLUMNS

        print(report.formats_text(service.export_formats_table(), FORMAT_COLUMNS))
    elif action == "download":
        print(service.weights_path(ds, args.name, args.format))
    else:
        if action != "list":
            print(_change(service, args))
        print(report.registry_table(registry_view(models, ds, args.sort), ds))
    return 0


def _change_dataset(datasets: Any, models: Any, args: argparse.Namespace,
                    settings: StudioSettings) -> str:
    """``datasets delete NAME [--with-models]`` / ``rename OLD NEW``; returns what to print.
    Refused while a job of the dataset is queued or training in the root's job queue."""
    from .training.dataset_ops import DatasetService
    from .training.queue import JobQueue

    if not args.path or (args.action == "rename") != bool(args.new_name):
        raise ValidationError("Use: datasets delete NAME [--with-models], or datasets rename "
                              "OLD NEW.")
    service = DatasetService(datasets, models, JobQueue(settings.jobs_dir / "queue.json").list)
    if args.action == "rename":
        service.rename(args.path, args.new_name)
        return f"Renamed dataset {args.path} to {args.new_name} (its models follow)."
    deleted = service.delete(args.path, delete_models=args.with_models)
    return (f"Deleted dataset {args.path}"
            + (f" and its models: {', '.join(deleted)}." if deleted else "."))


def cmd_datasets(args: argparse.Namespace, settings: StudioSettings) -> int:
    """``datasets [list|import PATH [--name NAME]|delete NAME [--with-models]|rename OLD
    NEW]``; the table of datasets is printed after."""
    from .training.model_report import text_table

    datasets, models = _stores(settings)
    if args.action in ("delete", "rename"):
        print(_change_dataset(datasets, models, args, settings))
    elif args.action == "import":
        if not args.path:
            raise ValidationError("datasets import needs a folder or .zip path.")
        importer = datasets.import_zip if args.path.lower().endswith(".zip") else \
            datasets.import_folder
        info = importer(args.path, name=args.name)
        print(f"Imported {info.name}: {info.snapshot}.")
    infos = [datasets.get(name) for name in datasets.list()]
    rows = [{"name": i.name, "images": i.snapshot, "classes": ", ".join(i.class_names),
             "folder": str(i.folder)} for i in infos]
    print(text_table(rows, "No datasets."))
    return 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse a command line of ``yolo-studio`` (``serve`` included); exits on a usage error."""
    return _parser().parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run a headless command (``serve`` is ``yolo_studio.entry``'s); returns the exit code."""
    return run(parse_args(argv))


def run(args: argparse.Namespace) -> int:
    """Run parsed headless command ``args``; returns the exit code (0 ok, 1 job failed, 2 error,
    130 interrupted)."""
    if args.command == "serve":
        print("error: serve runs from the yolo-studio command or app.py.", file=sys.stderr)
        return 2
    try:
        settings = StudioSettings.resolve(args.root)
        if args.command == "train":
            return cmd_train(args, settings, _stores)
        command = {"models": cmd_models, "datasets": cmd_datasets,
                   "base-models": cmd_base_models}
        return command[args.command](args, settings)
    except StudioError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
