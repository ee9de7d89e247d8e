"""Launch options: where the app listens, the rule that a reachable app needs a password, and
what a browser may do with the server's files (``ServerAccess``: .pt uploads, folder imports).

Pure functions (no Gradio import), called by ``app.py`` and tested directly.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import ValidationError

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


@dataclass(frozen=True)
class HostingPlan:
    """How to launch: ``server_name``, ``server_port``, ``share``, ``auth`` pairs and why auth
    is required (``public_reason``; None when the app is reachable from this machine only)."""

    host: str
    port: int
    share: bool
    auth: tuple[tuple[str, str], ...]
    public_reason: str | None


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
         env: Mapping[str, str]) -> HostingPlan:
    """Decide the launch options and enforce authentication when the app is reachable.

    On Hugging Face Spaces (``SPACE_ID`` set) the host defaults to ``0.0.0.0``, elsewhere to
    ``127.0.0.1``. ``auth_text`` (the ``--auth`` flag) wins over ``YOLO_STUDIO_AUTH``.

    Raises:
        ValidationError: the app would be reachable beyond localhost (``share``, a non-loopback
            host, or Spaces) and no authentication is configured; or the auth text is malformed;
            or the port is outside 1-65535.
    """
    on_spaces = bool(env.get("SPACE_ID"))
    host = host or ("0.0.0.0" if on_spaces else "127.0.0.1")
    if not 0 < port < 65536:
        raise ValidationError(f"Port {port} is not between 1 and 65535.")
    auth = parse_auth(auth_text if auth_text else env.get("YOLO_STUDIO_AUTH"))
    reasons = [why for cond, why in ((share, "a public share link (--share)"),
                                     (not is_loopback(host), f"listening on {host}"),
                                     (on_spaces, "running on Hugging Face Spaces"))
               if cond]
    reason = ", ".join(reasons) or None
    if reason and not auth:
        raise ValidationError(
            f"Refusing to start without authentication: the studio would be reachable beyond "
            f"this machine ({reason}). Set --auth USER:PASS or the environment variable "
            f"YOLO_STUDIO_AUTH=USER:PASS, or listen on 127.0.0.1 without --share.")
    return HostingPlan(host=host, port=port, share=share, auth=auth, public_reason=reason)


#: Environment variable that turns base-weights uploads on for a reachable studio.
ALLOW_UPLOAD_ENV = "YOLO_STUDIO_ALLOW_WEIGHTS_UPLOAD"
_TRUE = {"1", "true", "yes", "on"}
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
    """

    weights_upload: bool = False
    weights_note: str = (f"Uploading base weights is off: {_PICKLE}. The operator can turn it "
                         f"on with --allow-weights-upload or {ALLOW_UPLOAD_ENV}=1.")
    folder_import: bool = False
    folder_note: str = ("Importing a dataset from a server folder is off: the studio was not "
                        "started as a local app. Upload a .zip instead.")


def server_access(hosting: HostingPlan, allow_weights_upload: bool = False,
                  env: Mapping[str, str] | None = None) -> ServerAccess:
    """Decide what the UI may do with the server's files.

    Local (``hosting.public_reason`` is None: loopback host, no share link, not on Spaces):
    weights uploads and folder imports are on. Reachable: folder imports are off; weights
    uploads are off unless ``allow_weights_upload`` (``--allow-weights-upload``) or
    ``YOLO_STUDIO_ALLOW_WEIGHTS_UPLOAD`` is ``1``/``true``/``yes``/``on``.
    """
    env = env if env is not None else {}
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
