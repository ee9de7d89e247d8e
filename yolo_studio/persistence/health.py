"""Dataset health check: what would stop or spoil a training, per file, with counts.

``check_dataset`` reads a data.yaml and every image and label it points at, and reports issues at
two levels: ``blocking`` (training cannot work, or would silently train on wrong data) and
``warning`` (training works; the user should know). Each issue carries up to ``MAX_EXAMPLES``
example files (paths relative to the dataset folder) and the total count.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DatasetError
from .health_files import check_images, check_label
from .yolo_format import (SPLITS, ClassNames, class_names, find_data_yaml, label_path,
                          list_images, load_yaml, resolve_root, split_sources, split_value)

BLOCKING = "blocking"
WARNING = "warning"
MAX_EXAMPLES = 20
_NO_CLASS_LIMIT = 1 << 31

#: Per-file issue codes: (level, message with {n} = number of files).
_FILE_ISSUES = {
    "class_out_of_range": (BLOCKING, "{n} label file(s) use a class id that data.yaml's names "
                                     "do not define; fix the labels or add the classes."),
    "bad_coordinates": (BLOCKING, "{n} label file(s) have coordinates outside 0-1; YOLO labels "
                                  "are x_center y_center width height as fractions of the image "
                                  "size."),
    "bad_columns": (BLOCKING, "{n} label file(s) have rows with the wrong number of values; each "
                              "row must be 'class x_center y_center width height'."),
    "bad_number": (BLOCKING, "{n} label file(s) contain values that are not numbers."),
    "label_unreadable": (BLOCKING, "{n} label file(s) cannot be read as UTF-8 text."),
    "image_unreadable": (WARNING, "{n} image(s) are corrupt or unreadable (truncated, or not an "
                                  "image); Ultralytics skips them. Replace or remove them."),
    "background_image": (WARNING, "{n} image(s) have no label file; they train as background "
                                  "images (no objects). Fine if intended."),
    "orphan_label": (WARNING, "{n} label file(s) have no matching image and are ignored."),
}


@dataclass(frozen=True)
class HealthIssue:
    """One kind of problem found in a dataset.

    Attributes:
        level: "blocking" (training cannot work) or "warning".
        code: Stable identifier, e.g. "class_out_of_range", "background_image".
        message: What is wrong and what to do, for the user.
        files: Up to ``MAX_EXAMPLES`` example files, relative to the dataset folder.
        count: Total number of files (or occurrences) affected.
        details: Per example file, what is wrong in it (same order as ``files``).
    """

    level: str
    code: str
    message: str
    files: tuple[str, ...] = ()
    count: int = 0
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class HealthReport:
    """Result of ``check_dataset``.

    Attributes:
        issues: Blocking issues first, then warnings.
        counts: ``classes``, ``images`` (distinct image files), ``labels`` (label files found),
            ``objects`` (label rows), and ``<split>_images`` per split.
    """

    issues: tuple[HealthIssue, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def blocking(self) -> tuple[HealthIssue, ...]:
        return tuple(i for i in self.issues if i.level == BLOCKING)

    @property
    def warnings(self) -> tuple[HealthIssue, ...]:
        return tuple(i for i in self.issues if i.level == WARNING)

    @property
    def ok(self) -> bool:
        """True when nothing blocks training (warnings allowed)."""
        return not self.blocking

    def summary(self) -> str:
        """A few lines of text: the verdict with counts, then one line per issue."""
        c = self.counts
        splits = ", ".join(f"{s} {c[f'{s}_images']}" for s in SPLITS if f"{s}_images" in c)
        size = (f"{c.get('images', 0)} images ({splits}), {c.get('classes', 0)} classes, "
                f"{c.get('objects', 0)} objects")
        nb, nw = len(self.blocking), len(self.warnings)
        head = (f"Not trainable: {nb} blocking problem(s), {nw} warning(s). {size}." if nb else
                f"OK with {nw} warning(s): {size}." if nw else f"Healthy: {size}.")
        lines = [head]
        for issue in self.issues:
            mark = "✗" if issue.level == BLOCKING else "⚠"
            example = f" e.g. {issue.files[0]}" if issue.files else ""
            detail = f" ({issue.details[0]})" if issue.details and issue.details[0] else ""
            lines.append(f"{mark} {issue.message}{example}{detail}")
        return "\n".join(lines)


class _Collector:
    """Groups findings by code into ``HealthIssue``s."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self._groups: dict[str, dict] = {}

    def add(self, code: str, level: str, message: str, file: Path | None = None,
            detail: str = "") -> None:
        group = self._groups.setdefault(code, {"level": level, "message": message, "files": [],
                                               "details": [], "count": 0})
        group["count"] += 1
        if file is not None and len(group["files"]) < MAX_EXAMPLES:
            group["files"].append(self.rel(file))
            group["details"].append(detail)

    def rel(self, path: Path) -> str:
        """``path`` relative to the dataset folder (posix), else as is."""
        try:
            return Path(os.path.relpath(path, self.base)).as_posix()
        except ValueError:
            return str(path)

    def report(self, counts: dict[str, int]) -> HealthReport:
        issues = []
        for code, g in self._groups.items():
            message = g["message"].format(n=g["count"]) if code in _FILE_ISSUES else g["message"]
            issues.append(HealthIssue(g["level"], code, message, tuple(g["files"]), g["count"],
                                      tuple(g["details"])))
        issues.sort(key=lambda i: i.level != BLOCKING)
        return HealthReport(tuple(issues), dict(counts))


def check_dataset(folder_or_yaml: str | os.PathLike[str], confined: bool = False) -> HealthReport:
    """Check a dataset folder (its data.yaml) or a data.yaml file.

    Reads every image (Pillow, decoded at reduced scale, in threads, so the check stays fast
    enough to run at every Start) and every label file. Never raises for a bad dataset:
    everything is in the report.

    Args:
        folder_or_yaml: The dataset folder or its data.yaml.
        confined: Also block images outside the dataset folder (for imports: an uploaded
            data.yaml must not make the studio read other folders of the server).
    """
    target = Path(folder_or_yaml)
    yaml_path = target if target.is_file() else find_data_yaml(target)
    issues = _Collector(target if target.is_dir() else target.parent)
    if yaml_path is None:
        issues.add("no_data_yaml", BLOCKING, f"No data.yaml found in {target}; a YOLO dataset "
                   "needs one naming the train/val image folders and the class names.")
        return issues.report({})
    try:
        data = load_yaml(yaml_path)
    except DatasetError as err:
        issues.add("yaml_malformed", BLOCKING, str(err), yaml_path)
        return issues.report({})
    names = _check_names(data, issues)
    root = _check_root(data, yaml_path, issues)
    images, label_dirs = _check_splits(data, root, issues)
    outside = confined and _check_confined(data, root, images, yaml_path.resolve().parent,
                                           issues)
    nc = len(names.filled()) if names.names else 0
    counts = _check_files(images, nc or _NO_CLASS_LIMIT, issues)
    if not outside:  # else the dataset's own labels look orphaned: the fix is the paths
        _check_orphans(images, label_dirs, issues)
    counts["classes"] = nc
    return issues.report(counts)


def _check_names(data: dict, issues: _Collector) -> ClassNames:
    names = class_names(data)
    if names.problem:
        issues.add("names_invalid", BLOCKING, f"Class names: {names.problem}.")
    elif names.gaps:
        shown = ", ".join(map(str, names.gaps[:10]))
        issues.add("names_gaps", WARNING, f"Class ids {shown} have no name in data.yaml; training "
                   "uses a copy of data.yaml that names them class_<id>.")
    elif names.generated:
        issues.add("names_generated", WARNING, "data.yaml has nc but no names; the classes are "
                   "called class_0, class_1 ...")
    return names


def _check_root(data: dict, yaml_path: Path, issues: _Collector) -> Path:
    root, kind = resolve_root(data, yaml_path)
    if kind == "relative":
        issues.add("relative_path", WARNING, f"data.yaml has a relative path: {data['path']!r}; "
                   f"it is resolved against the data.yaml's folder ({root}), not Ultralytics' "
                   "datasets folder. Training uses a copy of data.yaml with that absolute path.")
    elif kind == "absolute-missing":
        issues.add("path_missing", WARNING, f"data.yaml's path {data['path']!r} does not exist "
                   "on this machine; the data.yaml's own folder is used instead.")
    return root


def _check_splits(data: dict, root: Path,
                  issues: _Collector) -> tuple[dict[str, list[Path]], set[Path]]:
    """Images per split, and the label folders of the splits' image folders."""
    found: dict[str, list[Path]] = {}
    label_dirs: set[Path] = set()
    for split in SPLITS:
        level = WARNING if split == "test" else BLOCKING
        value = split_value(data, split)
        if value in (None, "", []):
            if split != "test":
                issues.add("split_missing", BLOCKING, f"data.yaml has no '{split}' key; "
                           "Ultralytics needs both train and val image folders.")
            continue
        sources = split_sources(root, value)
        missing = [p for p in sources if not p.exists()]
        for path in missing:  # shown inside the dataset: an import's folder is temporary
            shown = path.relative_to(root) if path.is_relative_to(root) else path
            issues.add("split_not_found", level, f"The {split} split points at a path that does "
                       f"not exist: {shown}.", path)
        found[split] = list_images(sources)
        label_dirs.update(label_path(p / "x.jpg").parent for p in sources if p.is_dir())
        if not found[split] and not missing:
            issues.add(f"{split}_empty", level, f"The {split} split has no images (jpg, png, "
                       "bmp, tif, webp ...).")
    return found, label_dirs


def _check_confined(data: dict, root: Path, images: dict[str, list[Path]], folder: Path,
                    issues: _Collector) -> bool:
    """Block images outside ``folder``, naming what needs the fix: a split's list file
    (``val.txt``) whose lines point outside, else data.yaml's paths. True if any was found."""
    found = False
    for split, paths in images.items():
        lists = [src for src in split_sources(root, split_value(data, split)) if src.is_file()]
        listed = {p: src for src in lists for p in list_images([src])}
        for path in paths:
            if path.resolve().is_relative_to(folder):
                continue
            found = True
            source = listed.get(path)
            if source is None:
                issues.add("outside_dataset", BLOCKING, f"The {split} split reaches files "
                           "outside the dataset folder; an imported dataset must keep its "
                           "images and labels inside it (fix path:/train:/val: in data.yaml).",
                           path)
                continue
            issues.add("outside_list_file", BLOCKING, f"The list file {issues.rel(source)} "
                       f"({split} split) names images outside the dataset folder; an imported "
                       "dataset must keep its images and labels inside it: fix the lines of "
                       f"{source.name} (paths relative to its folder, e.g. images/{split}/a.jpg)"
                       ".", path, f"listed in {issues.rel(source)}")
    return found


def _check_files(images: dict[str, list[Path]], nc: int,
                 issues: _Collector) -> dict[str, int]:
    every = sorted({p for split in images.values() for p in split})
    expected = {label_path(p): p for p in every}
    objects = labels = 0
    for label, image in expected.items():
        if not label.is_file():
            issues.add("background_image", WARNING, _FILE_ISSUES["background_image"][1], image)
            continue
        labels += 1
        rows, problems = check_label(label, nc)
        objects += rows
        for code, detail in problems:
            issues.add(code, _FILE_ISSUES[code][0], _FILE_ISSUES[code][1], label, detail)
    bad = check_images(every)
    for image, reason in bad.items():
        issues.add("image_unreadable", WARNING, _FILE_ISSUES["image_unreadable"][1], image, reason)
    for split, paths in images.items():
        if paths and all(p in bad for p in paths) and split != "test":
            issues.add("all_images_unreadable", BLOCKING, f"None of the {len(paths)} images of "
                       f"the {split} split can be read; training cannot use this split.")
    counts = {"images": len(every), "labels": labels, "objects": objects}
    counts.update({f"{split}_images": len(paths) for split, paths in images.items()})
    return counts


def _check_orphans(images: dict[str, list[Path]], label_dirs: set[Path],
                   issues: _Collector) -> None:
    expected = {label_path(p) for split in images.values() for p in split}
    for folder in sorted(label_dirs | {label.parent for label in expected}):
        if not folder.is_dir():
            continue
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            path = Path(entry.path)
            if entry.name.endswith(".txt") and entry.is_file() and path not in expected:
                issues.add("orphan_label", WARNING, _FILE_ISSUES["orphan_label"][1], path)
