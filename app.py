"""YOLO Studio's web app (Hugging Face Spaces' ``app_file``): ``python app.py [--root DIR]
[--host H] [--port P] [--share] [--auth USER:PASS] [--hang-timeout MINUTES]
[--allow-weights-upload]``, the same as ``yolo-studio serve`` (see
``yolo_studio.serve_options`` and ``yolo_studio.ui.serve``).

Environment: ``YOLO_STUDIO_ROOT`` (storage root), ``YOLO_STUDIO_AUTH`` (``USER:PASS``),
``GRADIO_SERVER_NAME`` / ``GRADIO_SERVER_PORT`` (the address without ``--host`` / ``--port``),
``SPACE_ID`` (set by Hugging Face Spaces: listen on 0.0.0.0, authentication required),
``YOLO_STUDIO_HANG_TIMEOUT_MIN`` (same as ``--hang-timeout``: minutes without progress before a
training is killed, default 30), ``YOLO_STUDIO_ALLOW_WEIGHTS_UPLOAD=1`` (same as
``--allow-weights-upload``: let a studio that is reachable beyond this machine accept uploaded
.pt base weights; a local one always does).
Nothing happens at import time.
"""

from __future__ import annotations

import sys

if __name__ == "__main__":
    from yolo_studio.entry import app_main

    sys.exit(app_main())
