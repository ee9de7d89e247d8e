"""``python -m yolo_studio``: the headless CLI (see ``yolo_studio.cli``)."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
