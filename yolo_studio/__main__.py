"""``python -m yolo_studio``: the same as the ``yolo-studio`` command (``yolo_studio.entry``)."""

from __future__ import annotations

import sys

from .entry import main

if __name__ == "__main__":
    sys.exit(main())
