"""Headless command line: ``python -m yolo_studio train|models|datasets ...``.

Every command works on the storage root chosen by ``--root`` (else ``$YOLO_STUDIO_ROOT``, else
the default of ``StudioSettings.resolve``). Errors the studio raises on purpose are printed as
``error: <message>`` with exit code 2; Ctrl-C during training cancels the job (exit code 130).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import Any, Sequence

from .config import SAMPLES_DIR, StudioSettings, TrainingConfig
from .errors import StudioError, ValidationError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m yolo_studio",
                                     description="YOLO Studio without the browser.")
    parser.add_argument("--root", help="storage root (default: $YOLO_STUDIO_ROOT or the project)")
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train a model in the foreground and register it")
    defaults = TrainingConfig()
    train.add_argument("--dataset", default=defaults.dataset)
    train.add_argument("--base-model", default=defaults.base_model,
                       help="yolo11n.pt / .yaml (from scratch) or a local .pt path")
    for name, kind in (("epochs", int), ("batch", float), ("imgsz", int), ("patience", int),
                       ("freeze-layers", int), ("lr0", float), ("lrf", float),
                       ("workers", int), ("seed", int), ("max-gpu-memory-percent", float)):
        train.add_argument(f"--{name}", type=kind,
                           default=getattr(defaults, name.replace("-", "_")))
    train.add_argument("--optimizer", default=defaults.optimizer)
    train.add_argument("--device", default=defaults.device, help='"", "cpu", "0", ...')
    train.add_argument("--model-name", default=None)
    models = sub.add_parser("models", help="list / manage a dataset's registered models")
    models.add_argument("action", nargs="?", default="list", choices=("list", "set-active",
                                                                     "delete"))
    models.add_argument("name", nargs="?", help="model name (set-active, delete)")
    models.add_argument("--dataset", default=defaults.dataset)
    models.add_argument("--allow-active", action="store_true",
                        help="delete even the active model")
    datasets = sub.add_parser("datasets", help="list or import datasets")
    datasets.add_argument("action", nargs="?", default="list", choices=("list", "import"))
    datasets.add_argument("path", nargs="?", help="folder or .zip in YOLO format (import)")
    datasets.add_argument("--name", default=None, help="name for the imported dataset")
    return parser


def _stores(settings: StudioSettings) -> tuple[Any, Any]:
    from .persistence.dataset_store import DatasetStore
    from .persistence.model_store import ModelStore

    datasets = DatasetStore(settings.datasets_dir)
    datasets.ensure_samples(SAMPLES_DIR)
    return datasets, ModelStore(settings.models_dir)


def _config_from(args: argparse.Namespace) -> TrainingConfig:
    batch = args.batch
    if isinstance(batch, float) and batch.is_integer():
        batch = int(batch)
    return TrainingConfig(
        dataset=args.dataset, base_model=args.base_model, epochs=args.epochs, batch=batch,
        imgsz=args.imgsz, patience=args.patience, freeze_layers=args.freeze_layers, lr0=args.lr0,
        lrf=args.lrf, workers=args.workers, seed=args.seed, optimizer=args.optimizer,
        device=args.device, model_name=args.model_name,
        max_gpu_memory_percent=args.max_gpu_memory_percent)


def _models_table(models: Any, dataset: str) -> str:
    import pandas as pd

    records = models.list(dataset)
    if not records:
        return f"No models registered for dataset {dataset!r}."
    rows = [{"active": "*" if r.active else "", "name": r.name, "created": r.created,
             "base_model": r.base_model, "epochs": r.epochs_completed,
             "best_mAP50": "-" if r.best_map50 is None else f"{r.best_map50:.4f}",
             "dataset_snapshot": r.dataset_snapshot} for r in records]
    return pd.DataFrame(rows).to_string(index=False)


def cmd_models(args: argparse.Namespace, settings: StudioSettings) -> int:
    """``models [list|set-active NAME|delete NAME]`` for ``--dataset``."""
    _, models = _stores(settings)
    if args.action != "list":
        if not args.name:
            raise ValidationError(f"models {args.action} needs a model name.")
        if args.action == "set-active":
            models.set_active(args.dataset, args.name)
            print(f"{args.name} is now the active model of {args.dataset}.")
        else:
            models.delete(args.dataset, args.name, allow_active=args.allow_active)
            print(f"Deleted {args.name} from {args.dataset}.")
    print(_models_table(models, args.dataset))
    return 0


def cmd_datasets(args: argparse.Namespace, settings: StudioSettings) -> int:
    """``datasets [list|import PATH [--name NAME]]``."""
    import pandas as pd

    datasets, _ = _stores(settings)
    if args.action == "import":
        if not args.path:
            raise ValidationError("datasets import needs a folder or .zip path.")
        importer = datasets.import_zip if args.path.lower().endswith(".zip") else \
            datasets.import_folder
        info = importer(args.path, name=args.name)
        print(f"Imported {info.name}: {info.snapshot}.")
    infos = [datasets.get(name) for name in datasets.list()]
    rows = [{"name": i.name, "images": i.snapshot, "classes": ", ".join(i.class_names),
             "folder": str(i.folder)} for i in infos]
    print(pd.DataFrame(rows).to_string(index=False) if rows else "No datasets.")
    return 0


def cmd_train(args: argparse.Namespace, settings: StudioSettings) -> int:
    """Train in the foreground, print epoch lines, the final metrics and the model folder."""
    from .training.manager import TrainingManager
    from .training.progress import format_epoch, format_metrics
    from .training.snapshot import JobState

    config = _config_from(args)
    for note in config.notes:
        print(f"note: {note}")
    datasets, models = _stores(settings)
    manager = TrainingManager(settings, datasets=datasets, models=models)
    ahead = len(manager.queue.queued())
    job_id = manager.start_training(config)
    if ahead:
        print(f"{ahead} job(s) queued earlier in {settings.jobs_dir} run first.")
    manager.start()
    print(f"Job {job_id}: training {config.base_model} on {config.dataset} ...", flush=True)
    snap, printed = manager.snapshot(), 0
    try:
        while not (snap.job_id == job_id and snap.state not in (JobState.TRAINING,
                                                                  JobState.IDLE)):
            snap = manager.wait_for_change(snap.version, 1.0)
            if snap.job_id == job_id:
                for metrics in snap.history[printed:]:
                    print(format_epoch(metrics, snap.epochs), flush=True)
                printed = max(printed, len(snap.history))
    except KeyboardInterrupt:
        print("Cancelling ...", file=sys.stderr)
        with contextlib.suppress(StudioError):
            manager.cancel(job_id)
        return 130
    finally:
        manager.close()
    return _report(snap, manager, config, JobState, format_metrics)


def _report(snap: Any, manager: Any, config: TrainingConfig, states: Any, fmt: Any) -> int:
    if snap.state != states.COMPLETED:
        reason = snap.error or snap.stop_reason or snap.state.value
        print(f"error: job {snap.job_id} ended {snap.state.value}: {reason}", file=sys.stderr)
        return 1
    if snap.stop_reason:
        print(f"Stopped early: {snap.stop_reason}")
    if snap.final is not None:
        print(f"Final (best.pt on val): {fmt(snap.final)}")
    record = manager.models.get(config.dataset, snap.model_name)
    print(f"Registered model {record.name} for {config.dataset}"
          f"{' (active)' if record.active else ''}: {record.folder}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 job failed, 2 error, 130 interrupted)."""
    args = _parser().parse_args(argv)
    try:
        settings = StudioSettings.resolve(args.root)
        command = {"train": cmd_train, "models": cmd_models, "datasets": cmd_datasets}
        return command[args.command](args, settings)
    except StudioError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
