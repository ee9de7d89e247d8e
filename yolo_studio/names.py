"""Validation of user-chosen names (datasets, models) before anything touches the disk."""

from __future__ import annotations

import re

from .errors import ValidationError

MAX_NAME_LENGTH = 64
_ALLOWED = re.compile(r"^[A-Za-z0-9_.\-]+$")
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
             *(f"lpt{i}" for i in range(1, 10))}


def validate_name(name: object, what: str = "Name") -> str:
    """Return ``name`` if it is safe as a single folder name, else raise.

    Allowed: letters, digits, ``-``, ``_``, ``.``; 1-64 characters; not ``.``/``..`` or starting
    with a dot; not a Windows reserved device name (``con``, ``nul``, ``com1`` ...).

    Raises:
        ValidationError: with a message naming ``what`` and the rule broken.
    """
    if not isinstance(name, str) or not name:
        raise ValidationError(f"{what} is empty; use letters, digits, '-', '_' or '.'.")
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError(f"{what} is {len(name)} characters long; at most {MAX_NAME_LENGTH}.")
    if not _ALLOWED.match(name):
        raise ValidationError(f"{what} {name!r} has characters other than letters, digits, "
                              "'-', '_' and '.' (no spaces or path separators).")
    if name.startswith("."):
        raise ValidationError(f"{what} {name!r} must not start with '.'.")
    if name.split(".")[0].lower() in _RESERVED:
        raise ValidationError(f"{what} {name!r} is a reserved device name on Windows.")
    return name
