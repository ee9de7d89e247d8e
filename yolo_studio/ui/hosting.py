"""Launch options: where the app listens, and the rule that a reachable app needs a password.

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
