"""YOLO Studio entry point: ``python app.py [--root DIR] [--host H] [--port P] [--share]
[--auth USER:PASS] [--hang-timeout MINUTES] [--allow-weights-upload]``.

Environment: ``YOLO_STUDIO_ROOT`` (storage root), ``YOLO_STUDIO_AUTH`` (``USER:PASS``),
``SPACE_ID`` (set by Hugging Face Spaces: listen on 0.0.0.0, authentication required),
``YOLO_STUDIO_HANG_TIMEOUT_MIN`` (same as ``--hang-timeout``: minutes without progress before a
training is killed, default 30), ``YOLO_STUDIO_ALLOW_WEIGHTS_UPLOAD=1`` (same as
``--allow-weights-upload``: let a studio that is reachable beyond this machine accept uploaded
.pt base weights; a local one always does).
Nothing happens at import time; everything runs in ``main()``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # type names only; the modules are imported inside main()
    from yolo_studio.config import StudioSettings
    from yolo_studio.resources import ResourceMonitor
    from yolo_studio.training.executors import ProcessExecutor, hang_timeout_from
    from yolo_studio.training.manager import TrainingManager

    executor = ProcessExecutor(hang_timeout_s=hang_timeout_from(hang_timeout_min))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    parser = argparse.ArgumentParser(
        description="YOLO Studio: train YOLO detectors in the browser.")
    parser.add_argument("--root", help="storage root (default: $YOLO_STUDIO_ROOT, "
                        "/data/yolo_studio on Spaces, else this folder)")
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1; "
                        "0.0.0.0 on Spaces)")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--share", action="store_true", help="create a public Gradio share link "
                        "(needs --auth)")
    parser.add_argument("--auth", help="USER:PASS (several separated by commas); default "
                        "$YOLO_STUDIO_AUTH")
    parser.add_argument("--hang-timeout", metavar="MINUTES",
                        help="kill a training that sends no progress for this long and end its "
                        "job in ERROR (default $YOLO_STUDIO_HANG_TIMEOUT_MIN, else 30)")
    parser.add_argument("--allow-weights-upload", action="store_true",
                        help="accept uploaded .pt base weights although the studio is reachable "
                        "beyond this machine (a .pt is a pickle: it can run code); default "
                        "$YOLO_STUDIO_ALLOW_WEIGHTS_UPLOAD; a local studio always accepts them")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Resolve settings, copy the samples, start the trainer and the monitor, serve the UI."""
    args = parse_args(argv)
    from yolo_studio.config import SAMPLES_DIR, StudioSettings
    from yolo_studio.errors import StudioError
    from yolo_studio.ui.hosting import plan, server_access

    try:
        hosting = plan(args.host, args.port, args.share, args.auth, os.environ)
        settings = StudioSettings.resolve(args.root)
        manager, monitor = _start_services(settings, SAMPLES_DIR, args.hang_timeout)
    except StudioError as err:
        print(f"yolo-studio: {err}", file=sys.stderr)
        return 2
    from yolo_studio.ui.app import MAX_THREADS, build_app, queued

    print(f"YOLO Studio: storage root {settings.root}", flush=True)
    try:
        access = server_access(hosting, args.allow_weights_upload, os.environ)
        queued(build_app(manager, monitor, access)).launch(
            server_name=hosting.host, server_port=hosting.port, share=hosting.share,
            auth=list(hosting.auth) or None, allowed_paths=[str(settings.root)],
            show_error=True, max_threads=MAX_THREADS)
    finally:
        manager.close()
        monitor.stop()
    return 0


def _start_services(settings: StudioSettings, samples_dir: Path,
                    hang_timeout_min: str | None = None) -> tuple[TrainingManager, ResourceMonitor]:
    """Create the storage folders, copy the built-in samples, start the monitor and manager
    (each job in a worker process, killed after ``hang_timeout_min`` minutes without progress).

    Raises:
        StudioError: a sample cannot be copied, another studio process already runs jobs
            from the same storage root, or the hang timeout is not a number of minutes.
    """
    from yolo_studio.persistence.dataset_store import DatasetStore
    from yolo_studio.resources import ResourceMonitor
    from yolo_studio.training.executors import ProcessExecutor, hang_timeout_from
    from yolo_studio.training.manager import TrainingManager

    executor = ProcessExecutor(hang_timeout_s=hang_timeout_from(hang_timeout_min))

    for folder in (settings.datasets_dir, settings.models_dir, settings.jobs_dir):
        folder.mkdir(parents=True, exist_ok=True)
    datasets = DatasetStore(settings.datasets_dir)
    datasets.ensure_samples(samples_dir)
    monitor = ResourceMonitor()
    monitor.start()
    manager = TrainingManager(settings, datasets=datasets, monitor=monitor, executor=executor)
    try:
        manager.start()
    except BaseException:
        monitor.stop()
        raise
    return manager, monitor


if __name__ == "__main__":
    sys.exit(main())
