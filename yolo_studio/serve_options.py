"""The web app's command-line options, shared by ``python app.py`` and ``yolo-studio serve``.

Pure argparse definitions (no Gradio import); ``yolo_studio.ui.serve.serve`` acts on them.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from .errors import ValidationError

#: The port the app listens on when neither ``--port`` nor ``$GRADIO_SERVER_PORT`` names one.
DEFAULT_PORT = 7860


def add_serve_arguments(parser: argparse.ArgumentParser, root_default: Any = None) -> None:
    """Add the app's options to ``parser``.

    Args:
        parser: ``app.py``'s parser or the ``serve`` subcommand's.
        root_default: Default of ``--root``; ``argparse.SUPPRESS`` keeps the value of a
            ``--root`` given before the subcommand.

    The parsed namespace has ``root``, ``host`` (None: ``$GRADIO_SERVER_NAME``, else the
    hosting default), ``port`` (None: ``$GRADIO_SERVER_PORT``, else ``DEFAULT_PORT``),
    ``share``, ``auth``, ``hang_timeout``, ``demo``, ``allow_weights_upload``, ``ray`` and
    ``ray_cpus_per_job``.
    """
    parser.add_argument("--root", default=root_default,
                        help="storage root (default: $YOLO_STUDIO_ROOT, /data/yolo_studio when "
                        "/data is writable, the source checkout, else the user data folder)")
    parser.add_argument("--host", help="address to listen on (default $GRADIO_SERVER_NAME, "
                        "else 127.0.0.1; 0.0.0.0 on Spaces)")
    parser.add_argument("--port", type=int, help=f"port to listen on (default "
                        f"$GRADIO_SERVER_PORT, else {DEFAULT_PORT})")
    parser.add_argument("--share", action="store_true", help="create a public Gradio share link "
                        "(the full studio with --auth, else the read-only demo)")
    parser.add_argument("--auth", help="USER:PASS (several separated by commas); default "
                        "$YOLO_STUDIO_AUTH")
    parser.add_argument("--hang-timeout", metavar="MINUTES",
                        help="kill a training that sends no progress for this long and end its "
                        "job in ERROR (default $YOLO_STUDIO_HANG_TIMEOUT_MIN, else 30)")
    add_ray_arguments(parser)
    parser.add_argument("--demo", action="store_true",
                        help="serve the read-only demo (registry, Inspect, Compare, Try; no "
                        "training); default $YOLO_STUDIO_DEMO; a studio reachable beyond this "
                        "machine without a password is always the demo")
    parser.add_argument("--allow-weights-upload", action="store_true",
                        help="accept uploaded .pt base weights although the studio is reachable "
                        "beyond this machine (a .pt is a pickle: it can run code); default "
                        "$YOLO_STUDIO_ALLOW_WEIGHTS_UPLOAD; a local studio always accepts them")


def add_ray_arguments(parser: argparse.ArgumentParser) -> None:
    """``--ray ADDRESS`` and ``--ray-cpus-per-job N`` (jobs on a Ray cluster; see README
    "Several machines")."""
    parser.add_argument("--ray", metavar="ADDRESS",
                        help="run jobs on a Ray cluster, several at once: 'auto' (the cluster "
                        "this machine joined), ray://HOST:10001, or 'local' (a Ray instance on "
                        "this machine, loopback only: one job per GPU); default "
                        "$YOLO_STUDIO_RAY_ADDRESS, else no Ray")
    parser.add_argument("--ray-cpus-per-job", type=int, default=1, metavar="N",
                        help="CPUs each job asks the Ray cluster for (default 1)")


def listen_address(host: str | None, port: int | None,
                   env: Mapping[str, str]) -> tuple[str | None, int]:
    """Where to listen: each flag, else Gradio's own variable (``GRADIO_SERVER_NAME``,
    ``GRADIO_SERVER_PORT``, which Spaces and Docker set), else the default (host None:
    ``ui.hosting.plan`` picks 127.0.0.1, or 0.0.0.0 on Spaces; port ``DEFAULT_PORT``).

    Raises:
        ValidationError: ``GRADIO_SERVER_PORT`` is set but not a whole number.
    """
    host = host or env.get("GRADIO_SERVER_NAME", "").strip() or None
    if port is None:
        text = env.get("GRADIO_SERVER_PORT", "").strip()
        if not text:
            return host, DEFAULT_PORT
        try:
            port = int(text)
        except ValueError:
            raise ValidationError(f"GRADIO_SERVER_PORT={text!r} is not a port number.") from None
    return host, port
