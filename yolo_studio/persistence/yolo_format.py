"""Reading a YOLO-format dataset the way Ultralytics 8.4 does, except for a relative ``path:``.

Ultralytics rules mirrored here (checked in ``ultralytics/data/utils.py`` and ``data/base.py``):
``train``/``val``/``test`` are folders (searched recursively), ``.txt`` lists of images, or lists of
those, relative to the dataset root; a missing ``../x`` is retried as ``x``; the label of
``.../images/.../a.jpg`` is ``.../labels/.../a.txt``; ``names`` is a list or an ``{id: name}`` dict;
without ``names`` an integer ``nc`` gives ``class_0``... The one deliberate difference: a relative
``path:`` is resolved against the data.yaml's folder (what users mean), not Ultralytics' own
datasets folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import DatasetError

#: Image suffixes Ultralytics trains on (``ultralytics.data.utils.IMG_FORMATS``).
IMG_SUFFIXES = frozenset({"bmp", "dng", "jpeg", "jpg", "mpo", "png", "tif", "tiff", "webp",
                          "pfm", "heic", "heif", "avif", "jp2"})
SPLITS = ("train", "val", "test")


def find_data_yaml(folder: Path) -> Path | None:
    """``folder/data.yaml`` (or ``.yml``), else the only ``*.yaml`` in ``folder``, else None."""
    for name in ("data.yaml", "data.yml"):
        if (folder / name).is_file():
            return folder / name
    found = [p for p in folder.glob("*.y*ml") if p.suffix in (".yaml", ".yml")
             and not p.name.startswith(".")]
    return found[0] if len(found) == 1 else None


def load_yaml(path: Path) -> dict[str, Any]:
    """Parse a data.yaml.

    Raises:
        DatasetError: unreadable, not YAML, or not a mapping; the message says which.
    """
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8-sig"))
    except OSError as err:
        raise DatasetError(f"Cannot read {path}: {err.strerror or err}.") from err
    except UnicodeDecodeError as err:
        raise DatasetError(f"{path.name} is not UTF-8 text.") from err
    except yaml.YAMLError as err:
        where = getattr(err, "problem_mark", None)
        at = f" (line {where.line + 1}, column {where.column + 1})" if where else ""
        raise DatasetError(f"{path.name} is not valid YAML{at}: "
                           f"{getattr(err, 'problem', None) or err}.") from err
    if not isinstance(data, dict):
        raise DatasetError(f"{path.name} must be a YAML mapping with train, val and names keys.")
    return data


def resolve_root(data: dict[str, Any], yaml_path: Path) -> tuple[Path, str]:
    """The dataset root and how it was found.

    Returns:
        (root, kind) with kind "none" (no ``path:``: the yaml's folder), "relative" (resolved
        against the yaml's folder), "absolute", or "absolute-missing" (the path does not exist;
        the yaml's folder is used instead).
    """
    folder = yaml_path.resolve().parent
    value = data.get("path")
    if value in (None, ""):
        return folder, "none"
    path = Path(str(value)).expanduser()
    if not path.is_absolute():
        return (folder / path).resolve(), "relative"
    return (path, "absolute") if path.exists() else (folder, "absolute-missing")


def split_value(data: dict[str, Any], split: str) -> Any:
    """The yaml value of a split; Ultralytics also accepts ``validation`` for ``val``."""
    if split == "val" and data.get("val") is None:
        return data.get("validation")
    return data.get(split)


def split_sources(root: Path, value: Any) -> list[Path]:
    """Absolute paths a split's yaml value points at (``../x`` retried as ``x`` when missing)."""
    values = value if isinstance(value, list) else [value]
    paths = []
    for item in values:
        text = str(item)
        path = (root / text).resolve()
        if not path.exists() and text.startswith("../"):
            path = (root / text[3:]).resolve()
        paths.append(path)
    return paths


def list_images(sources: list[Path]) -> list[Path]:
    """Image files of a split, sorted: folders searched recursively, ``.txt`` files read as lists
    (lines relative to the list's folder). Missing sources contribute nothing."""
    found: list[Path] = []
    for src in sources:
        if src.is_dir():
            found += [Path(dirpath) / f for dirpath, _, files in os.walk(src) for f in files]
        elif src.is_file():
            lines = src.read_text(encoding="utf-8-sig", errors="replace").splitlines()
            found += [(src.parent / line.strip()).resolve() for line in lines if line.strip()]
    return sorted({p for p in found if p.suffix[1:].lower() in IMG_SUFFIXES})


def label_path(image: Path) -> Path:
    """The label file Ultralytics reads for ``image`` (last ``/images/`` -> ``/labels/``)."""
    text = os.fspath(image)
    marker, replacement = f"{os.sep}images{os.sep}", f"{os.sep}labels{os.sep}"
    if marker in text:
        head, tail = text.rsplit(marker, 1)
        text = head + replacement + tail
    return Path(text.rsplit(".", 1)[0] + ".txt")


@dataclass(frozen=True)
class ClassNames:
    """Class names of a data.yaml.

    Attributes:
        names: ``{id: name}`` as written (None when neither names nor nc is usable).
        problem: Why the names are unusable (None when usable).
        gaps: Class ids below the largest id that have no name.
        generated: True when the names were generated from ``nc``.
    """

    names: dict[int, str] | None
    problem: str | None = None
    gaps: tuple[int, ...] = ()
    generated: bool = False

    def filled(self) -> dict[int, str]:
        """Names for ids 0..max, gaps named ``class_<id>`` (what training uses)."""
        if not self.names:
            return {}
        return {i: self.names.get(i, f"class_{i}") for i in range(max(self.names) + 1)}


def class_names(data: dict[str, Any]) -> ClassNames:
    """Read ``names`` (a list or an ``{id: name}`` dict) or, failing that, ``nc``."""
    names, nc = data.get("names"), data.get("nc")
    if names is None:
        if isinstance(nc, int) and not isinstance(nc, bool) and nc > 0:
            return ClassNames({i: f"class_{i}" for i in range(nc)}, generated=True)
        return ClassNames(None, "data.yaml has no 'names' (class names); add e.g. "
                                "names: [cat, dog]")
    if isinstance(names, list):
        mapping = {i: str(v) for i, v in enumerate(names)}
    elif isinstance(names, dict):
        try:
            mapping = {int(k): str(v) for k, v in names.items()}
        except (TypeError, ValueError):
            return ClassNames(None, "the keys of 'names' must be class ids 0, 1, 2 ...")
        if any(k < 0 for k in mapping):
            return ClassNames(None, "class ids in 'names' must be >= 0")
    else:
        return ClassNames(None, "'names' must be a list or a {class id: name} mapping")
    if not mapping:
        return ClassNames(None, "'names' is empty; at least one class is needed")
    if nc is not None and nc not in (len(mapping), max(mapping) + 1):
        return ClassNames(mapping, f"'nc: {nc}' does not match the {len(mapping)} entries of "
                                   "'names'; fix or remove nc")
    gaps = tuple(sorted(set(range(max(mapping) + 1)) - set(mapping)))
    return ClassNames(mapping, gaps=gaps)


def split_images(data: dict[str, Any], root: Path,
                 splits: tuple[str, ...] = SPLITS) -> dict[str, list[Path]]:
    """Sorted image files per split of ``splits`` that data.yaml names (splits it leaves out or
    empty are absent), paths resolved against ``root`` (see ``resolve_root``)."""
    values = {split: split_value(data, split) for split in splits}
    return {split: list_images(split_sources(root, value)) for split, value in values.items()
            if value not in (None, "", [])}
