"""The web app's process: what ``python app.py`` and ``yolo-studio serve`` run.

``serve(args, env)`` checks the launch options (``hosting.plan``, the listen address, a free
port) before it writes anything, starts the trainer and the resource monitor (a read-only demo:
a ``ReadOnlyStudio`` and no monitor), builds the UI and serves it until interrupted. Gradio is
imported inside ``serve`` only, through ``ui.app``.
"""

from __future__ import annotations

import argparse
import errno
import socket
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import StudioError, ValidationError
from ..serve_options import listen_address
from .hosting import HostingPlan, plan, server_access

if TYPE_CHECKING:  # type names only; the modules are imported inside the functions
    from ..config import StudioSettings
    from ..resources import ResourceMonitor
    from ..training.manager import TrainingManager

#: Gradio's error when its port cannot be had (``launch(server_port=...)``).
_GRADIO_PORT_ERROR = "Cannot find empty port"


def port_in_use_message(port: int) -> str:
    """The plain message for a port another program listens on."""
    return (f"port {port} is already in use: stop the other program or pass --port N "
            f"(or set GRADIO_SERVER_PORT=N).")


def check_port(host: str, port: int) -> None:
    """Fail early when the app could not listen on ``host:port`` (the way Gradio will bind it,
    with ``SO_REUSEADDR``, so a port left in TIME_WAIT counts as free).

    Raises:
        ValidationError: the port is in use (``port_in_use_message``), or the address cannot
            be bound (an unknown host name, a privileged port, ...).
    """
    bare = host.strip("[]")
    family = socket.AF_INET6 if ":" in bare else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((bare, port))
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise ValidationError(port_in_use_message(port)) from None
            reason = err.strerror or str(err)
            raise ValidationError(f"cannot listen on {host}:{port}: {reason}.") from None


def startup_lines(hosting: HostingPlan, local_url: str, env: Mapping[str, str]) -> list[str]:
    """What the studio prints once it listens, in place of Gradio's own startup lines (whose
    hint "set `share=True` in `launch()`" names no option of the studio)."""
    lines = [f"YOLO Studio: running on {local_url}"]
    if hosting.demo:
        lines.append(f"Serving the read-only demo: {hosting.demo_reason}.")
    elif not hosting.share and not env.get("SPACE_ID"):
        lines.append("For a public share link, restart with --share: with --auth USER:PASS "
                     "(or YOLO_STUDIO_AUTH=USER:PASS) the full studio, without it the "
                     "read-only demo.")
    return lines


def serve(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """Run the app with ``args`` (``serve_options.add_serve_arguments``) until interrupted.

    Returns:
        0 after a normal shutdown; 2 when a launch option is refused, the port is taken or the
        services cannot start (the reason printed on stderr as ``yolo-studio: <reason>``,
        without a traceback; nothing is written to the storage root before the checks).
    """
    from ..config import SAMPLES_DIR, StudioSettings

    try:
        host, port = listen_address(args.host, args.port, env)
        hosting = plan(host, port, args.share, args.auth, env, demo=args.demo)
        check_port(hosting.host, hosting.port)
        settings = StudioSettings.resolve(args.root)
        if hosting.demo:
            from .read_only import ReadOnlyStudio

            manager, monitor = ReadOnlyStudio(settings), None
        else:
            manager, monitor = start_services(settings, SAMPLES_DIR, args.hang_timeout,
                                              args.ray, args.ray_cpus_per_job)
    except StudioError as err:
        print(f"yolo-studio: {err}", file=sys.stderr)
        return 2
    print(f"YOLO Studio: storage root {settings.root}", flush=True)
    try:
        access = server_access(hosting, args.allow_weights_upload, env, settings.root)
        _launch(manager, monitor, hosting, settings, access, env)
    except StudioError as err:
        print(f"yolo-studio: {err}", file=sys.stderr)
        return 2
    finally:
        manager.close()
        if monitor is not None:
            monitor.stop()
    return 0


def _launch(manager: object, monitor: ResourceMonitor | None, hosting: HostingPlan,
            settings: StudioSettings, access: object, env: Mapping[str, str]) -> None:
    """Build the UI, serve it, print ``startup_lines``, start reading the base models
    Ultralytics ships (``base_models.prefetch``; not for a demo) and block until interrupted.

    Raises:
        ValidationError: Gradio could not have the port after all (taken since the check).
    """
    from .app import MAX_THREADS, build_app, queued

    blocks = queued(build_app(manager, monitor, access))
    try:
        blocks.launch(server_name=hosting.host, server_port=hosting.port, share=hosting.share,
                      auth=list(hosting.auth) or None, allowed_paths=[str(settings.root)],
                      show_error=True, max_threads=MAX_THREADS, quiet=True,
                      prevent_thread_lock=True)
    except OSError as err:
        if _GRADIO_PORT_ERROR in str(err):
            raise ValidationError(port_in_use_message(hosting.port)) from None
        raise
    for line in startup_lines(hosting, blocks.local_url, env):
        print(line, flush=True)
    if not hosting.demo:  # the Train tab's base models: a page's load waits for them
        from ..training.base_models import prefetch

        prefetch()
    blocks.block_thread()


def start_services(settings: StudioSettings, samples_dir: Path,
                   hang_timeout_min: str | None = None, ray: str | None = None,
                   ray_cpus_per_job: int = 1) -> tuple[TrainingManager, ResourceMonitor]:
    """Create the storage folders, copy the built-in samples, start the monitor and manager
    (each job in a worker process, killed after ``hang_timeout_min`` minutes without progress;
    with ``ray``, on that Ray cluster: ``training.executor_choice.make_executor``).

    Raises:
        StudioError: a sample cannot be copied, another studio process already runs jobs
            from the same storage root, the hang timeout is not a number of minutes, or the
            Ray cluster cannot be used.
    """
    from ..persistence.dataset_store import DatasetStore
    from ..resources import ResourceMonitor
    from ..training.executor_choice import make_executor
    from ..training.manager import TrainingManager

    executor = make_executor(ray, ray_cpus_per_job, hang_timeout_min)
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
