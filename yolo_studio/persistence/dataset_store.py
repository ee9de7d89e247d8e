"""Datasets on disk: ``<datasets_dir>/<name>/data.yaml`` with its images and labels.

Besides listing and describing datasets, the store keeps two things right for training:

- ``get_data_yaml_path`` returns a yaml Ultralytics reads as the user meant it (a relative
  ``path:`` resolved against the yaml's folder, unnamed class ids filled in);
- a stale Ultralytics ``labels/*.cache`` is deleted (by ``get_data_yaml_path``, before each
  training) when the dataset's content hash changed (Ultralytics only notices changed file
  sizes, not changed label contents). The last hash trained on is kept in
  ``<folder>/.studio_hash``. Describing a dataset (``get``) writes nothing.
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import DatasetError, NotFoundError, ValidationError
from ..names import validate_name
from .dataset_import import (copy_dataset, default_name, find_dataset_root, normalise_yaml_name,
                             safe_extract)
from .health import HealthReport, check_dataset
from .json_store import describe_os_error, write_text_atomic
from .yolo_format import SPLITS, class_names, label_path, load_yaml, resolve_root, split_images

HASH_FILE = ".studio_hash"
RESOLVED_YAML = ".studio_data.yaml"
#: Names of the sample datasets already copied once (``ensure_samples``), one a line.
SAMPLES_SEEN = ".studio_samples"


@dataclass(frozen=True)
class DatasetInfo:
    """One dataset as found on disk.

    Attributes:
        name: Folder name under ``datasets_dir``.
        folder: The dataset folder.
        data_yaml: ``folder/data.yaml`` (as written by the user).
        class_names: Names in class-id order (unnamed ids appear as ``class_<id>``).
        image_counts: ``{split: number of image files}`` for the splits data.yaml names.
        content_hash: sha256 hex over data.yaml, image file names and sizes, and label file
            contents; identical for identical copies (no timestamps or absolute paths).
    """

    name: str
    folder: Path
    data_yaml: Path
    class_names: tuple[str, ...]
    image_counts: dict[str, int]
    content_hash: str

    @property
    def snapshot(self) -> str:
        """E.g. "364 images, 3 classes" (all splits together)."""
        n, c = sum(self.image_counts.values()), len(self.class_names)
        return f"{n} image{'s' * (n != 1)}, {c} class{'es' * (c != 1)}"


def _content_hash(folder: Path, yaml_path: Path, images: dict[str, list[Path]]) -> str:
    digest = hashlib.sha256(yaml_path.read_bytes())
    for split in sorted(images):
        for image in images[split]:
            rel = os.path.relpath(image, folder)
            digest.update(f"\0{split}\0{rel}\0{image.stat().st_size}\0".encode())
            with contextlib.suppress(FileNotFoundError):
                digest.update(label_path(image).read_bytes())
    return digest.hexdigest()


class DatasetStore:
    """The datasets under ``datasets_dir`` (``StudioSettings.datasets_dir``)."""

    def __init__(self, datasets_dir: str | os.PathLike[str]) -> None:
        self.datasets_dir = Path(datasets_dir)

    def ensure_samples(self, samples_dir: str | os.PathLike[str]) -> builtins.list[str]:
        """Copy each sample dataset (a folder with data.yaml) of ``samples_dir`` that is not
        here yet and was never copied here before (label caches are not copied): a sample
        the user deleted or renamed does not come back. The samples seen are listed in
        ``<datasets_dir>/.studio_samples``. Returns the names copied."""
        samples = Path(samples_dir)
        if not samples.is_dir():
            return []
        copied, seen = [], self._samples_seen()
        for src in sorted(p for p in samples.iterdir() if (p / "data.yaml").is_file()):
            if src.name in seen or (self.datasets_dir / src.name).exists():
                self._mark_sample_seen(src.name, seen)
                continue
            tmp = self._tmp_dir()
            try:
                copy_dataset(src, tmp)
                os.rename(tmp, self.datasets_dir / validate_name(src.name, "Sample name"))
                copied.append(src.name)
                self._mark_sample_seen(src.name, seen)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        return copied

    def _samples_seen(self) -> set[str]:
        with contextlib.suppress(OSError):
            return set((self.datasets_dir / SAMPLES_SEEN).read_text(encoding="utf-8").split())
        return set()

    def _mark_sample_seen(self, name: str, seen: set[str]) -> None:
        if name not in seen:
            seen.add(name)
            with contextlib.suppress(OSError):  # read-only storage: nothing is deleted there
                write_text_atomic(self.datasets_dir / SAMPLES_SEEN,
                                  "".join(f"{n}\n" for n in sorted(seen)), durable=False)

    def _tmp_dir(self) -> Path:
        self.datasets_dir.mkdir(parents=True, exist_ok=True)
        return self.datasets_dir / f".import-{uuid.uuid4().hex[:12]}"

    def list(self) -> builtins.list[str]:
        """Sorted names of the folders that contain a data.yaml."""
        if not self.datasets_dir.is_dir():
            return []
        return sorted(p.name for p in self.datasets_dir.iterdir()
                      if not p.name.startswith(".") and (p / "data.yaml").is_file())

    def _folder(self, name: str) -> Path:
        name = validate_name(name, "Dataset name")  # NFC: as the folder was stored
        folder = self.datasets_dir / name
        if not (folder / "data.yaml").is_file():
            known = ", ".join(self.list()) or "none"
            raise NotFoundError(f"No dataset {name!r} in {self.datasets_dir} (available: {known}). "
                                "Import it first.")
        return folder

    def get(self, name: str) -> DatasetInfo:
        """Describe a dataset (reads only).

        Raises:
            NotFoundError: no such dataset. DatasetError: data.yaml cannot be parsed.
        """
        folder = self._folder(name)
        yaml_path = folder / "data.yaml"
        data = load_yaml(yaml_path)
        root, _ = resolve_root(data, yaml_path)
        images = split_images(data, root)
        names = class_names(data)
        try:
            digest = _content_hash(folder, yaml_path, images)
        except OSError as err:  # files vanishing while we read them
            raise DatasetError(f"Cannot read dataset {name!r}: {describe_os_error(err)}.") from err
        info = DatasetInfo(name=name, folder=folder, data_yaml=yaml_path,
                           class_names=tuple(names.filled().values()),
                           image_counts={s: len(v) for s, v in images.items()},
                           content_hash=digest)
        return info

    @staticmethod
    def _drop_stale_caches(info: DatasetInfo) -> None:
        marker = info.folder / HASH_FILE
        with contextlib.suppress(OSError):
            if marker.read_text(encoding="utf-8").strip() == info.content_hash:
                return
        for cache in info.folder.rglob("*.cache"):
            with contextlib.suppress(OSError):
                cache.unlink()
        with contextlib.suppress(OSError):  # read-only storage: caches simply get re-checked
            write_text_atomic(marker, info.content_hash + "\n", durable=False)

    def get_data_yaml_path(self, name: str, info: DatasetInfo | None = None) -> Path:
        """A data.yaml Ultralytics can train on as the user meant it; first deletes
        Ultralytics' label caches when the dataset's content changed since the last training.

        The dataset's own data.yaml when it needs nothing; else ``<folder>/.studio_data.yaml``, a
        copy with ``path:`` made absolute (a relative one resolved against the yaml's folder, a
        missing absolute one replaced by it) and unnamed class ids named ``class_<id>``.

        Args:
            info: ``get(name)`` when the caller has it already (saves a scan of the dataset).

        Raises:
            NotFoundError: no such dataset. DatasetError: data.yaml unusable (bad names).
        """
        info = info or self.get(name)
        self._drop_stale_caches(info)
        data = load_yaml(info.data_yaml)
        names = class_names(data)
        if names.problem:
            raise DatasetError(f"Dataset {name!r} cannot be trained: {names.problem}.")
        root, kind = resolve_root(data, info.data_yaml)
        if kind in ("none", "absolute") and not names.gaps:
            return info.data_yaml
        resolved = dict(data, path=str(root), names=names.filled())
        if "nc" in resolved:
            resolved["nc"] = len(resolved["names"])
        target = info.folder / RESOLVED_YAML
        try:
            write_text_atomic(target, "# Written by YOLO Studio from data.yaml; edit data.yaml.\n"
                              + yaml.safe_dump(resolved, sort_keys=False, allow_unicode=True),
                              durable=False)
        except OSError as err:
            raise DatasetError(f"Cannot write {target}: {describe_os_error(err)}.") from err
        return target

    def sample_images(self, name: str, split: str = "val",
                      limit: int = 50) -> builtins.list[Path]:
        """Up to ``limit`` image files of ``split`` (sorted by path), e.g. to try a model on.

        Raises:
            NotFoundError: no such dataset. ValidationError: ``split`` is not train/val/test
                or ``limit`` < 1. DatasetError: data.yaml cannot be parsed.
        """
        if split not in SPLITS or isinstance(limit, bool) or not isinstance(limit, int) \
                or limit < 1:
            raise ValidationError(f"sample_images needs a split in {', '.join(SPLITS)} and a "
                                  f"limit >= 1 (got {split!r}, {limit!r}).")
        yaml_path = self._folder(name) / "data.yaml"
        data = load_yaml(yaml_path)
        root, _ = resolve_root(data, yaml_path)
        return split_images(data, root, (split,)).get(split, [])[:limit]

    def check_health(self, name: str) -> HealthReport:
        """``check_dataset`` on a stored dataset. Raises NotFoundError for an unknown name."""
        return check_dataset(self._folder(name))

    def import_folder(self, src: str | os.PathLike[str], name: str | None = None) -> DatasetInfo:
        """Copy a YOLO dataset folder in under ``name`` (default: the folder's name).

        Raises:
            ValidationError: bad name. DatasetError: the name exists, no data.yaml, the health
                check found blocking problems (all listed), or copying failed; nothing is left
                in ``datasets_dir`` then.
        """
        src = Path(src)
        if not src.is_dir():
            raise DatasetError(f"{src} is not a folder.")
        root = find_dataset_root(src)
        name = validate_name(name if name is not None else default_name(src.resolve().name),
                             "Dataset name")
        self._require_new(name)
        tmp = self._tmp_dir()
        try:
            copy_dataset(root, tmp)
            return self._finish_import(tmp, name, str(src))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def import_zip(self, zip_path: str | os.PathLike[str], name: str | None = None) -> DatasetInfo:
        """Extract a zipped YOLO dataset in under ``name`` (default: the archive's name).

        The data.yaml may be at the top of the archive or inside one top folder. Unsafe members
        (absolute paths, ``..``, links) refuse the whole archive.

        Raises:
            ValidationError / DatasetError: as for ``import_folder``, plus a bad archive.
        """
        zip_path = Path(zip_path)
        if not zip_path.is_file():
            raise DatasetError(f"{zip_path.name} does not exist.")
        name = validate_name(name if name is not None else default_name(zip_path.stem),
                             "Dataset name")
        self._require_new(name)
        extracted, tmp = self._tmp_dir(), self._tmp_dir()
        try:
            safe_extract(zip_path, extracted)
            os.rename(find_dataset_root(extracted, zip_path.name), tmp)  # same depth as the final folder
            return self._finish_import(tmp, name, zip_path.name)
        finally:
            shutil.rmtree(extracted, ignore_errors=True)
            shutil.rmtree(tmp, ignore_errors=True)

    def _require_new(self, name: str) -> None:
        if (self.datasets_dir / name).exists():
            raise DatasetError(f"A dataset named {name!r} already exists; choose another name "
                               "or delete the existing one first.")

    def _finish_import(self, tmp: Path, name: str, source: str | None = None) -> DatasetInfo:
        """Check the dataset copied to ``tmp`` and store it as ``name``. A refusal names
        ``source`` (the user's archive or folder), never ``tmp``."""
        normalise_yaml_name(tmp, source)
        report = check_dataset(tmp, confined=True)
        if not report.ok:
            origin = f" (from {source})" if source else ""
            raise DatasetError(f"Dataset {name!r}{origin} was not imported because training "
                               f"could not work on it:\n{report.summary()}", report=report)
        self._require_new(name)
        try:
            os.rename(tmp, self.datasets_dir / name)
        except OSError as err:
            raise DatasetError(f"Could not store dataset {name!r}: "
                               f"{describe_os_error(err)}.") from err
        return self.get(name)
