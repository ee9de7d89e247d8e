"""Validation of user-chosen names (datasets, models) before anything touches the disk.

Names may hold letters and digits of any script (``str.isalnum``: ``células``, ``細胞``) plus
``-``, ``_`` and ``.``; they are compared and stored in Unicode NFC form, so a name typed in a
browser and the same name read from a macOS folder (NFD) are one name.
"""

from __future__ import annotations

import unicodedata

from .errors import ValidationError

MAX_NAME_LENGTH = 64
#: What a name may hold besides letters and digits (any script).
PUNCTUATION = "-_."
ALLOWED_TEXT = "letters (any script), digits, '-', '_' and '.'"
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
             *(f"lpt{i}" for i in range(1, 10))}


def name_char_ok(char: str) -> bool:
    """True for a character a name may hold: a letter or digit (``str.isalnum``) or one of
    ``PUNCTUATION``."""
    return char.isalnum() or char in PUNCTUATION


def validate_name(name: object, what: str = "Name") -> str:
    """Return ``name`` in NFC form if it is safe as a single folder name, else raise.

    Allowed: ``ALLOWED_TEXT``; 1-64 characters; not ``.``/``..`` or starting with a dot; not a
    Windows reserved device name (``con``, ``nul``, ``com1`` ...).

    Raises:
        ValidationError: with a message naming ``what``, the rule broken and, for a bad
            character, the characters allowed.
    """
    if not isinstance(name, str) or not name:
        raise ValidationError(f"{what} is empty; use {ALLOWED_TEXT}.")
    name = unicodedata.normalize("NFC", name)
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError(f"{what} is {len(name)} characters long; at most {MAX_NAME_LENGTH}.")
    bad = sorted({char for char in name if not name_char_ok(char)})
    if bad:
        shown = ", ".join(repr(char) for char in bad)
        raise ValidationError(f"{what} {name!r} has characters other than {ALLOWED_TEXT} "
                              f"({shown}; no spaces or path separators).")
    if name.startswith("."):
        raise ValidationError(f"{what} {name!r} must not start with '.'.")
    if name.split(".")[0].lower() in _RESERVED:
        raise ValidationError(f"{what} {name!r} is a reserved device name on Windows.")
    return name
