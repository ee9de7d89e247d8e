"""Entry points: the console script ``yolo-studio`` (and ``python -m yolo_studio``) and
``python app.py``.

``main`` parses with ``cli`` and runs ``serve`` through ``ui.serve`` (the only path from the
package's entry to the UI and Gradio, imported only for ``serve``), every other command through
``cli.run``. Nothing happens at import time.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from . import cli
from .serve_options import add_serve_arguments


def main(argv: Sequence[str] | None = None) -> int:
    """``yolo-studio [--root DIR] serve|train|models|datasets ...``; returns the exit code."""
    args = cli.parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    return cli.run(args)


def app_main(argv: Sequence[str] | None = None) -> int:
    """``python app.py [serve options]``: the same as ``yolo-studio serve``; returns the exit
    code (see ``ui.serve.serve``)."""
    parser = argparse.ArgumentParser(
        prog="app.py", description="YOLO Studio: train YOLO detectors in the browser "
        "(the same as yolo-studio serve).")
    add_serve_arguments(parser)
    return _serve(parser.parse_args(argv))


def _serve(args: argparse.Namespace) -> int:
    from .ui.serve import serve

    return serve(args, os.environ)
