"""Launch options: where the app listens, when it is a read-only demo, and what a browser may do
with the server's files (``ServerAccess``: .pt uploads, folder imports, the demo's banner).

The rule: a studio reachable beyond this machine (a share link, a non-loopback host, Hugging Face
Spaces) without a password is served as a read-only demo (the registry, Inspect, Compare, Try),
never as the full studio; ``--demo`` (or ``YOLO_STUDIO_DEMO=1``) asks for the demo anywhere.
Pure functions (no Gradio import), called by ``ui.serve`` (``app.py``, ``yolo-studio serve``) and tested directly.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from ..config import SPACES_DATA_DIR
from ..errors import ValidationError

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
#: Environment variable that asks for the read-only demo (same as ``--demo``).
DEMO_ENV = "YOLO_STUDIO_DEMO"
#: Environment variable holding the studio's ``USER:PASS`` pairs (same as ``--auth``).
AUTH_ENV = "YOLO_STUDIO_AUTH"
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class HostingPlan:
    """How to launch.

    Attributes:
        host / port / share / auth: Gradio's ``server_name``, ``server_port``, ``share`` and
            ``auth`` pairs (empty: no login).
        public_reason: Why the studio is reachable beyond this machine (None: from this
            machine only).
        demo: Serve the read-only demo (no training, imports, uploads, deletes, exports).
        demo_reason: Why it is a demo, as a clause ("it was started as a demo ...", ...);
            None when ``demo`` is False.
        demo_asked: The demo was asked for (``--demo`` or ``YOLO_STUDIO_DEMO``).
        on_spaces: Running on Hugging Face Spaces (``SPACE_ID`` set).
    """

    host: str
    port: int
    share: bool
    auth: tuple[tuple[str, str], ...]
    public_reason: str | None
    demo: bool = False
    demo_reason: str | None = None
    demo_asked: bool = False
    on_spaces: bool = False


def parse_auth(text: str | None) -> tuple[tuple[str, str], ...]:
    """``"user:pass"`` or ``"u1:p1,u2:p2"`` -> ((user, pass), ...); empty/None -> ().

    Raises:
        ValidationError: a pair has no ``:``, or an empty user name or password.
    """
    if not text or not text.strip():
        return ()
    pairs = []
    for item in text.split(","):
        user, sep, password = item.strip().partition(":")
        if not sep or not user or not password:
            raise ValidationError("Authentication must be USER:PASS (several separated by "
                                  "commas), with a non-empty user name and password.")
        pairs.append((user, password))
    return tuple(pairs)


def is_loopback(host: str) -> bool:
    """True when ``host`` can only be reached from this machine (127.x, ::1, localhost)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def plan(host: str | None, port: int, share: bool, auth_text: str | None,
         env: Mapping[str, str], demo: bool = False) -> HostingPlan:
    """Decide the launch options, and whether the studio is the full one or a read-only demo.

    On Hugging Face Spaces (``SPACE_ID`` set) the host defaults to ``0.0.0.0``, elsewhere to
    ``127.0.0.1``. ``auth_text`` (the ``--auth`` flag) wins over ``YOLO_STUDIO_AUTH``.

    Demo mode: asked for (``demo``, i.e. ``--demo``, or ``YOLO_STUDIO_DEMO`` set to
    ``1``/``true``/``yes``/``on``; a password, if set, still guards it), or chosen because the
    studio is reachable beyond this machine (``share``, a non-loopback host, or Spaces) and
    no password is set. A reachable studio with a password, and a local one, are the full
    studio. Nothing here refuses a reachable studio any more: without a password it is a demo.

    Raises:
        ValidationError: the auth text is malformed, or the port is outside 1-65535.
    """
    on_spaces = bool(env.get("SPACE_ID"))
    host = host or ("0.0.0.0" if on_spaces else "127.0.0.1")
    if not 0 < port < 65536:
        raise ValidationError(f"Port {port} is not between 1 and 65535.")
    auth = parse_auth(auth_text if auth_text else env.get(AUTH_ENV))
    reasons = [why for cond, why in ((share, "a public share link (--share)"),
                                     (not is_loopback(host), f"listening on {host}"),
                                     (on_spaces, "running on Hugging Face Spaces"))
               if cond]
    reason = ", ".join(reasons) or None
    asked = demo or env.get(DEMO_ENV, "").strip().lower() in _TRUE
    if asked:
        demo_reason: str | None = f"it was started as a demo (--demo or {DEMO_ENV}=1)"
    elif reason and not auth:
        demo_reason = (f"it is reachable beyond this machine ({reason}) and no password is "
                       f"set")
    else:
        demo_reason = None
    return HostingPlan(host=host, port=port, share=share, auth=auth, public_reason=reason,
                       demo=demo_reason is not None, demo_reason=demo_reason,
                       demo_asked=asked, on_spaces=on_spaces)


def demo_banner(hosting: HostingPlan) -> str:
    """The demo's banner (Markdown): what it offers, why it is a demo, how to get the full
    studio (on Spaces: duplicate the Space and set the ``YOLO_STUDIO_AUTH`` secret; elsewhere:
    restart with a password, or without ``--demo``). "" when ``hosting`` is not a demo."""
    if not hosting.demo:
        return ""
    if hosting.on_spaces:
        how = (f"duplicate this Space (the ⋮ menu at the top right, *Duplicate this Space*), "
               f"add the secret `{AUTH_ENV}` = `user:password` in its settings"
               + (f" and remove `{DEMO_ENV}`" if hosting.demo_asked else "")
               + ", then log in with that user name and password")
        return _banner(hosting, how)
    steps = [f"without `--demo` (and without `{DEMO_ENV}`)"] if hosting.demo_asked else []
    if hosting.public_reason and not hosting.auth:
        steps.append(f"with a password, `--auth USER:PASS` or `{AUTH_ENV}=USER:PASS` (or, for "
                     f"this machine only, on 127.0.0.1 without `--share`)")
    return _banner(hosting, "restart it " + " and ".join(steps))


def _banner(hosting: HostingPlan, how: str) -> str:
    return (f"**Read-only demo.** Browse the model registry, inspect and compare models, and "
            f"try them on an image. Training, dataset imports, uploads, renames, deletes and "
            f"exports are off, because {hosting.demo_reason}. "
            f"For the full studio, {how}.")


def storage_note(env: Mapping[str, str], root: str | Path | None,
                 data_dir: Path = SPACES_DATA_DIR) -> str:
    """A warning (Markdown) when models will not survive a restart: on Spaces (``SPACE_ID``
    set) with the storage ``root`` not inside a writable ``data_dir`` (Spaces' persistent
    disk, ``/data``). "" elsewhere, or when ``root`` is None."""
    if not env.get("SPACE_ID") or root is None:
        return ""
    persistent = data_dir.is_dir() and os.access(data_dir, os.W_OK)
    try:
        inside = Path(root).resolve().is_relative_to(data_dir.resolve())
    except OSError:
        inside = False
    if persistent and inside:
        return ""
    where = (f"this Space has no persistent storage (no writable {data_dir})" if not persistent
             else f"the storage root {root} is outside the persistent {data_dir}")
    return (f"**Models are lost when this Space restarts:** {where}, so datasets and models "
            f"trained here are kept in {root} only until the Space restarts, sleeps or is "
            f"rebuilt. Download what you want to keep, or add persistent storage in the "
            f"Space's settings (mounted at {data_dir}).")


#: Environment variable that turns base-weights uploads on for a reachable studio.
ALLOW_UPLOAD_ENV = "YOLO_STUDIO_ALLOW_WEIGHTS_UPLOAD"
_PICKLE = ("loading a .pt file runs Python code (it is a pickle), so an uploaded file could "
           "run anything on this machine")


@dataclass(frozen=True)
class ServerAccess:
    """What the UI lets a browser do with the server's files.

    Attributes:
        weights_upload: Base weights (``.pt``) may be uploaded and trained from.
        weights_note: Why uploads are off (shown in place of the upload), or a caution when on.
        folder_import: A dataset may be imported from a folder path on the server.
        folder_note: Why folder import is off ("" when on).
        demo: Serve the read-only demo (``HostingPlan.demo``): no Train tab, no action that
            trains, imports, uploads, renames, deletes or exports, and no API endpoint for one.
        demo_note: The demo's banner (``demo_banner``); "" when not a demo.
        storage_note: The warning that models are lost at a restart (``storage_note``); "" when
            the storage is persistent.
    """

    weights_upload: bool = False
    weights_note: str = (f"Uploading base weights is off: {_PICKLE}. The operator can turn it "
                         f"on with --allow-weights-upload or {ALLOW_UPLOAD_ENV}=1.")
    folder_import: bool = False
    folder_note: str = ("Importing a dataset from a server folder is off: the studio was not "
                        "started as a local app. Upload a .zip instead.")
    demo: bool = False
    demo_note: str = ""
    storage_note: str = ""


def server_access(hosting: HostingPlan, allow_weights_upload: bool = False,
                  env: Mapping[str, str] | None = None,
                  storage_root: str | Path | None = None) -> ServerAccess:
    """Decide what the UI may do with the server's files, and the notices it shows.

    A demo (``hosting.demo``): uploads and folder imports are off whatever the flags say, and
    ``demo_note`` is its banner. Local (``hosting.public_reason`` is None: loopback host, no
    share link, not on Spaces): weights uploads and folder imports are on. Reachable: folder
    imports are off; weights uploads are off unless ``allow_weights_upload``
    (``--allow-weights-upload``) or ``YOLO_STUDIO_ALLOW_WEIGHTS_UPLOAD`` is
    ``1``/``true``/``yes``/``on``. ``storage_note``: ``storage_note(env, storage_root)``.
    """
    env = env if env is not None else {}
    notes = {"storage_note": storage_note(env, storage_root)}
    if hosting.demo:
        off = "Off in this read-only demo."
        return ServerAccess(False, off, False, off, demo=True, demo_note=demo_banner(hosting),
                            **notes)
    return replace(_file_access(hosting, allow_weights_upload, env), **notes)


def _file_access(hosting: HostingPlan, allow_weights_upload: bool,
                 env: Mapping[str, str]) -> ServerAccess:
    """``server_access``'s upload and folder-import rules for the full studio."""
    local = hosting.public_reason is None
    if local:
        return ServerAccess(True, "Uploads are on because the studio runs on this machine only.",
                            True, "")
    operator = allow_weights_upload or env.get(ALLOW_UPLOAD_ENV, "").strip().lower() in _TRUE
    reason = hosting.public_reason
    weights_note = (f"Uploads are on by the operator's choice although the studio is reachable "
                    f"({reason}): {_PICKLE}. Upload only files you trust." if operator else
                    f"Uploading base weights is off because the studio is reachable beyond this "
                    f"machine ({reason}) and {_PICKLE}. The operator can turn it on with "
                    f"--allow-weights-upload or {ALLOW_UPLOAD_ENV}=1.")
    folder_note = (f"Importing a dataset from a server folder is off because the studio is "
                   f"reachable beyond this machine ({reason}). Upload a .zip instead.")
    return ServerAccess(operator, weights_note, False, folder_note)
