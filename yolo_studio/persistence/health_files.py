"""Per-file checks of a YOLO dataset: one label file, one image file.

Label rules follow Ultralytics' ``verify_image_label`` (8.4): a row is ``class x y w h`` (5 values)
or a polygon ``class x1 y1 x2 y2 ...`` (odd count > 6), not both kinds in one file; values are
numbers, the class an integer id in ``0..nc-1``, coordinates normalised to 0-1 (Ultralytics
tolerates 1% beyond, so do we). Images must open, verify and fully decode with Pillow and be at
least 10 pixels on each side (Ultralytics' ``check_image``). Any failure to do so reads "corrupt or
unreadable image", also when an ``Image.open`` patch raises instead of Pillow (Ultralytics' import
replaces it with one that tries to load the pi-heif plugin for files Pillow cannot identify).
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image

#: Coordinate tolerance Ultralytics applies (values up to 1.01 and down to -0.01 pass).
COORD_TOLERANCE = 0.01
MIN_IMAGE_SIDE_PX = 10

Problem = tuple[str, str]  # (issue code, detail such as "line 3: 7 values")


def check_label(path: Path, nc: int) -> tuple[int, list[Problem]]:
    """Check one label file against ``nc`` classes.

    Returns:
        (number of objects, problems) with at most one problem per code (the first found).
    """
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        return 0, [("label_unreadable", f"{type(err).__name__}: {err}")]
    problems: dict[str, str] = {}
    kinds: set[str] = set()
    objects = 0
    for lineno, line in enumerate(lines, 1):
        row = line.split()
        if not row:
            continue
        objects += 1
        kind, problem = _check_row(row, nc)
        kinds.add(kind)
        if problem and problem[0] not in problems:
            problems[problem[0]] = f"line {lineno}: {problem[1]}"
    if {"box", "polygon"} <= kinds and "bad_columns" not in problems:
        problems["bad_columns"] = "mixes box rows (5 values) and polygon rows"
    return objects, list(problems.items())


def _check_row(row: list[str], nc: int) -> tuple[str, Problem | None]:
    n = len(row)
    if n == 5:
        kind = "box"
    elif n > 6 and n % 2 == 1:
        kind = "polygon"
    else:
        return "bad", ("bad_columns", f"{n} values; a box needs 5 (class x_center y_center "
                                      "width height)")
    try:
        values = [float(v) for v in row]
    except ValueError:
        return kind, ("bad_number", f"not a number in {' '.join(row)!r}")
    if not all(math.isfinite(v) for v in values):
        return kind, ("bad_number", f"nan or inf in {' '.join(row)!r}")
    cls = values[0]
    if cls % 1 or cls < 0:
        return kind, ("class_out_of_range", f"class {row[0]} is not a class id 0..{nc - 1}")
    if cls >= nc:
        return kind, ("class_out_of_range", f"class {int(cls)}, but data.yaml defines ids "
                                            f"0..{nc - 1}")
    coords = values[1:]
    if max(coords) > 1 + COORD_TOLERANCE or min(coords) < -COORD_TOLERANCE:
        return kind, ("bad_coordinates", f"coordinates {' '.join(row[1:])} are not within 0-1 "
                                         "(pixel values instead of fractions of the image size?)")
    return kind, None


def check_image(path: Path) -> str | None:
    """Open, verify and decode one image; return why it is unusable, or None when it is fine.

    JPEGs are decoded at 1/8 scale (Pillow's ``draft``): the whole file is still read, so a
    truncated file is still caught, in a fraction of the time.

    Returns:
        None, "image is WxH pixels; ..." for a too small image, or "corrupt or unreadable image
        <file name> (<Pillow's reason>)" for whatever exception opening, verifying or decoding
        raised (ImportError included, see ``_reason``).
    """
    try:
        with Image.open(path) as im:
            size = im.size
            im.verify()
        with Image.open(path) as im:
            im.draft("RGB", (max(1, size[0] // 8), max(1, size[1] // 8)))
            im.load()
    except Exception as err:  # Pillow raises OSError, SyntaxError, ValueError, bomb errors...
        return f"corrupt or unreadable image {path.name} ({_reason(err, path)})"
    if min(size) < MIN_IMAGE_SIDE_PX:
        return f"image is {size[0]}x{size[1]} pixels; Ultralytics needs at least 10 on each side"
    return None


def _reason(err: BaseException, path: Path) -> str:
    """``err`` as "Type: message", the file named by its name only.

    An ImportError comes from an ``Image.open`` patch that tried to load a plugin while it
    handled Pillow's own error (Ultralytics' pi-heif fallback): Pillow's error is reported, never
    the missing module.
    """
    if isinstance(err, ImportError):
        handled = err.__cause__ or err.__context__
        if handled is None or isinstance(handled, ImportError):
            return "not an image format Pillow can identify"
        err = handled
    return f"{type(err).__name__}: {err}".replace(repr(str(path)), repr(path.name))


def check_images(paths: list[Path], workers: int = 4) -> dict[Path, str]:
    """``check_image`` on many files in threads (Pillow decodes without the GIL).

    Returns:
        {path: reason} for the unusable images only.
    """
    if not paths:
        return {}
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(paths)))) as pool:
        results = pool.map(check_image, paths)
        return {p: r for p, r in zip(paths, results) if r}
