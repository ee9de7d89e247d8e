"""The CLI's ``train`` command: its options, its trailing ``key=value`` train arguments, and the
run in the foreground.

    train --dataset D --base-model M [--epochs N ...] [KEY=VALUE ...]
          [--preset NAME | --from-job JOB_ID] [--save-preset NAME] [--print-command]
          [--no-estimate | --estimate-only] [--auto-promote] [--ray ADDRESS --ray-cpus-per-job N]

The configuration starts from the studio's defaults, or from a saved preset (``--preset``) or a
finished job's configuration (``--from-job``: "Retry with changes"); the options given and the
``KEY=VALUE`` pairs change it (``config_fields.config_from_cli``). Ultralytics' checks run before
anything is queued. ``--save-preset`` saves the result as a preset; ``--print-command`` prints
the equivalent yolo command and trains nothing. Without ``--base-model`` (or ``model=``, a
preset or a job) the base model is the studio's default (``base_models.default_base_model``: a
local ``.pt``, else ``yolo11n.yaml``). Before it starts, ``train`` prints the duration estimate
(``cli_train_info.print_estimate``; ``--no-estimate`` skips it, ``--estimate-only`` prints it
and trains nothing); after the first epoch, the paths of the augmented training batch mosaics.
A started configuration is remembered as its dataset's last one (the Train tab opens with it).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable
from typing import Any

from .config import StudioSettings, TrainingConfig
from .cli_train_info import print_estimate
from .config_fields import cli_fields, config_from_cli
from .errors import StudioError, ValidationError
from .serve_options import add_ray_arguments

#: The argparse type of each ``FieldSpec.kind`` (a whole float batch becomes an int in
#: ``TrainingConfig``).
_OPTION_TYPES = {"int": int, "float": float, "batch": float, "text": str, "choice": str}


def add_train_parser(sub: Any) -> None:
    """Add ``train`` to the subparsers ``sub``: an option per ``config_fields.cli_fields()``
    (absent from the parsed arguments unless given), the preset and command options, and the
    trailing ``KEY=VALUE`` train arguments."""
    train = sub.add_parser("train", help="train a model in the foreground and register it",
                           epilog="Any other Ultralytics train argument goes after the options "
                           "as key=value, as the yolo CLI takes it: mosaic=0.0 cos_lr=True.")
    for spec in cli_fields():
        train.add_argument(spec.option, type=_OPTION_TYPES[spec.kind],
                           default=argparse.SUPPRESS, help=spec.option_help or None)
    train.add_argument("--auto-promote", action="store_true",
                       help="make the new model active if it beats the active one by the "
                            "dataset's promote metric (models promote-metric)")
    train.add_argument("--preset", help="start from this saved preset (the options and "
                       "KEY=VALUE pairs given change it)")
    train.add_argument("--from-job", metavar="JOB_ID", help="start from a finished or failed "
                       "job's configuration (retry with changes)")
    train.add_argument("--save-preset", metavar="NAME",
                       help="save the configuration as a preset (the dataset and model name "
                       "are not part of it)")
    train.add_argument("--print-command", action="store_true",
                       help="print the equivalent yolo command after the checks; train nothing")
    train.add_argument("--no-estimate", action="store_true",
                       help="start without measuring a batch for the duration estimate")
    train.add_argument("--estimate-only", action="store_true",
                       help="print the duration estimate and train nothing")
    train.add_argument("train_args", nargs="*", metavar="KEY=VALUE",
                       help="Ultralytics train arguments (mosaic=0.0 fliplr=0.25 cos_lr=True)")
    add_ray_arguments(train)


def _base_config(args: argparse.Namespace, settings: StudioSettings) -> TrainingConfig | None:
    """The preset or finished job's configuration to start from, or None (the defaults).

    Raises:
        ValidationError: both given, or the job cannot be retried. NotFoundError: no such
            preset or job.
    """
    if args.preset and args.from_job:
        raise ValidationError("Give --preset or --from-job, not both.")
    if args.preset:
        from .persistence.train_presets import TrainPresets

        dataset = getattr(args, "dataset", TrainingConfig().dataset)
        return TrainPresets(settings.root).load(args.preset, dataset)
    if args.from_job:
        from .training.job_config import finished_job_config
        from .training.queue import JobQueue

        jobs = JobQueue(settings.jobs_dir / "queue.json").list()
        return finished_job_config(jobs, args.from_job)
    return None


def config_from_args(args: argparse.Namespace, settings: StudioSettings) -> TrainingConfig:
    """The TrainingConfig of ``train``'s arguments (see the module docstring).

    Raises:
        ValidationError, NotFoundError: as ``_base_config``, ``parse_pairs`` and
            ``config_from_cli`` raise them.
    """
    from .training.ultralytics_args import parse_pairs

    pairs = parse_pairs(args.train_args) if args.train_args else {}
    base, options = _base_config(args, settings), vars(args)
    if base is None and "base_model" not in options and "model" not in pairs:
        from .training.base_models import default_base_model

        options = {**options, "base_model": default_base_model(settings.root)}
    return config_from_cli(options, pairs, base)


def cmd_train(args: argparse.Namespace, settings: StudioSettings,
              stores: Callable[[StudioSettings], tuple[Any, Any]]) -> int:
    """Train in the foreground, print epoch lines, the final metrics and the model folder
    (``--save-preset`` first saves the configuration; ``--print-command`` only prints the yolo
    command).

    Args:
        stores: Builds the (DatasetStore, ModelStore) of ``settings`` (samples copied in).
    """
    config = config_from_args(args, settings)
    for note in config.notes:
        print(f"note: {note}")
    datasets, models = stores(settings)
    if args.save_preset or args.print_command:
        from .persistence.train_presets import TrainPresets
        from .training.train_command import job_command
        from .training.ultralytics_args import check_config

        config = check_config(config)
        if args.save_preset:
            saved = TrainPresets(settings.root).save(args.save_preset, config)
            print(f"Preset {saved} saved.")
        if args.print_command:
            print(job_command(config, datasets))
            return 0
    return _train(args, settings, config, (datasets, models))


def _train(args: argparse.Namespace, settings: StudioSettings, config: TrainingConfig,
           stores: tuple[Any, Any]) -> int:
    """Queue ``config``, follow its job to the end and report it; Ctrl-C cancels it (130)."""
    from .persistence.train_presets import TrainPresets
    from .training.executor_choice import make_executor
    from .training.manager import TrainingManager

    manager = TrainingManager(settings, datasets=stores[0], models=stores[1],
                              auto_promote=args.auto_promote,
                              executor=make_executor(args.ray, args.ray_cpus_per_job))
    if print_estimate(manager, config, args) and args.estimate_only:
        return 0
    ahead = len(manager.queue.queued())
    manager.start()  # takes the root's worker lock first: if another studio holds it, queue nothing
    job_id = None
    try:
        job_id = manager.start_training(config)
        _remember(TrainPresets(settings.root), config)
        if ahead:
            print(f"{ahead} job(s) queued earlier in {settings.jobs_dir} run first.")
        print(f"Job {job_id}: training {config.base_model} on {config.dataset} ...", flush=True)
        snap = _follow(manager, job_id)
    except KeyboardInterrupt:
        print("Cancelling ...", file=sys.stderr)
        with contextlib.suppress(StudioError):
            if job_id:
                manager.cancel(job_id)
        return 130
    finally:
        manager.close()
    return _report(snap, manager, config)


def _remember(presets: Any, config: TrainingConfig) -> None:
    """Keep ``config`` as its dataset's last one; a failure only warns (the job is queued)."""
    try:
        presets.remember(config)
    except StudioError as err:
        print(f"warning: the configuration was not kept as {config.dataset}'s last: {err}",
              file=sys.stderr)


def _follow(manager: Any, job_id: str) -> Any:
    """Print each epoch of job ``job_id`` as it ends, and once the paths of Ultralytics'
    augmented training batches after the first epoch; return the job's last snapshot."""
    from .persistence.model_artifacts import train_batch_images
    from .training.progress import format_epoch
    from .training.snapshot import JobState

    snap, printed, mosaics = manager.snapshot(), 0, False
    while not (snap.job_id == job_id and snap.state not in (JobState.TRAINING, JobState.IDLE)):
        snap = manager.wait_for_change(snap.version, 1.0, major_only=True)  # epochs, states
        if snap.job_id == job_id:
            for i in range(printed, len(snap.history)):
                previous = snap.history[i - 1] if i else None
                print(format_epoch(snap.history[i], snap.epochs, previous), flush=True)
            printed = max(printed, len(snap.history))
            images = train_batch_images(manager.settings.run_dir(job_id)) if printed else []
            if images and not mosaics:
                print("Augmented training batches: " + ", ".join(map(str, images)), flush=True)
                mosaics = True
    return snap


def _report(snap: Any, manager: Any, config: TrainingConfig) -> int:
    """Print how job ``snap`` ended; 0 when it completed (its model registered), else 1."""
    from .training.progress import format_metrics
    from .training.snapshot import JobState

    if snap.state != JobState.COMPLETED:
        reason = snap.error or snap.stop_reason or snap.state.value
        print(f"error: job {snap.job_id} ended {snap.state.value}: {reason}", file=sys.stderr)
        return 1
    if snap.stop_reason:
        print(f"Stopped early: {snap.stop_reason}")
    if snap.final is not None:
        print(f"Final (best.pt on val): {format_metrics(snap.final)}")
    record = manager.models.get(config.dataset, snap.model_name)
    print(f"Registered model {record.name} for {config.dataset}"
          f"{' (active)' if record.active else ''}: {record.folder}")
    return 0
