"""The base models a job can start from, read from the installed Ultralytics, and where their
weights are on this machine.

``shipped_models()`` is every detection model Ultralytics ships: each model config under
``ultralytics/cfg/models`` whose last head module is ``Detect`` or ``v10Detect`` (not a
segment, pose, classify, OBB, World, YOLOE or RT-DETR head), once per scale of a config with
``scales`` (``yolo11.yaml`` gives ``yolo11n.yaml`` ... ``yolo11x.yaml``, names Ultralytics reads
back as that scale); and each release asset in ``GITHUB_ASSETS_NAMES`` that is such a model's
weights (Ultralytics' own suffixes: ``u`` for the anchor-free v3 / v5 weights, ``6`` for a P6
model, as ``yolov5n6u.pt`` for ``yolov5n-p6.yaml``). It imports Ultralytics (and torch) once per
process (in a subprocess when this one has not imported it yet: a server's threads never wait
on that import) and keeps the answer; ``prefetch()`` does that on a background thread.

Weights are on this machine when the file is in one of ``weights_folders(root)``: the working
folder and Ultralytics' weights folder (``SETTINGS["weights_dir"]``), where Ultralytics itself
finds a bare name, and the studio's ``<root>/weights`` (uploads, or files an operator put
there), which Ultralytics does not search: ``resolve_base_model`` turns such a name into the
file's path when a job is queued.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The base model when no release weights are on this machine: trains from scratch, offline.
DEFAULT_FROM_SCRATCH = "yolo11n.yaml"
#: Head modules of the configs kept: plain detection (YOLOv3 ... YOLO26, YOLOv10's own head).
DETECT_HEADS = ("Detect", "v10Detect")
#: Scales from the smallest to the largest (YOLOv9's t/c/e, YOLOv10's b among them).
SCALE_ORDER = "tnsmbclex"
#: The studio's folder of base weights under its storage root.
STUDIO_WEIGHTS_DIRNAME = "weights"
#: Seconds the subprocess that reads the list may take (``_read``).
READ_TIMEOUT_S = 120.0
_NAME = re.compile(r"yolo(v?)(\d+)([a-z]?)(.*)")
_PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])


@dataclass(frozen=True)
class ShippedModel:
    """One base model Ultralytics ships.

    Attributes:
        name: What ``TrainingConfig.base_model`` takes: ``yolo11n.pt`` (release weights,
            pretrained on COCO) or ``yolo11n.yaml`` (the model config: trains from scratch).
        arch: The model config's name without suffix, shared by a ``.pt`` and its ``.yaml``
            (``yolov5n`` for ``yolov5nu.pt``).
    """

    name: str
    arch: str

    @property
    def pretrained(self) -> bool:
        return self.name.endswith(".pt")

    @property
    def family(self) -> str:
        """``YOLO11``, ``YOLOv8``: Ultralytics' spelling of the generation."""
        match = _NAME.fullmatch(self.arch)
        return f"YOLO{match.group(1)}{match.group(2)}" if match else self.arch

    def sort_key(self) -> tuple[int, str, int, int]:
        """Newest generation first, the plain model before its variants (-p2, -tiny ...), the
        smallest scale first, the ``.pt`` before its ``.yaml``."""
        match = _NAME.fullmatch(self.arch)
        if match is None:
            return (0, self.arch, 0, 0)
        scale = match.group(3)
        rank = SCALE_ORDER.index(scale) if scale else len(SCALE_ORDER)
        return (-int(match.group(2)), match.group(4), rank, 0 if self.pretrained else 1)


@dataclass(frozen=True)
class BaseModelEntry:
    """A shipped model and, for a ``.pt``, its weights file on this machine (None: not here,
    Ultralytics downloads it when online)."""

    model: ShippedModel
    local: Path | None = None

    @property
    def name(self) -> str:
        return self.model.name


def _config_names(stem: str, config: dict) -> list[str]:
    """The model names one detection config gives: one per scale when the stem has none."""
    match = re.fullmatch(r"(yolov?\d+)(.*)", stem)
    scales = config.get("scales") or {}
    if match is None or not scales or match.group(2)[:1].isalpha():
        return [stem]
    return [f"{match.group(1)}{scale}{match.group(2)}" for scale in scales]


def _detection_configs(folder: Path) -> list[str]:
    """The detection model names of the configs under ``folder`` (Ultralytics' cfg/models)."""
    from ultralytics.utils import YAML

    names: list[str] = []
    for path in sorted(folder.rglob("*.yaml")):
        config = YAML.load(path)
        head = config.get("head") if isinstance(config, dict) else None
        if head and len(head[-1]) > 2 and head[-1][2] in DETECT_HEADS:
            names += _config_names(path.stem, config)
    return names


def _weights_arch(stem: str, archs: set[str]) -> str | None:
    """The config a release asset's stem holds weights of (``yolov5n6u`` -> ``yolov5n-p6``),
    or None when it is no detection config's (``yolov8n-seg``, ``yolov8n-oiv7``)."""
    plain = stem[:-1] if stem.endswith("u") else stem
    for candidate in (stem, plain, re.sub(r"(\d+)([nslmx])6$", r"\1\2-p6", plain)):
        if candidate in archs:
            return candidate
    return None


def _read_here() -> dict[str, Any]:
    """What Ultralytics ships (``[name, arch]`` pairs, unsorted) and its weights folder, read
    in this process (imports Ultralytics and torch)."""
    from .ultralytics_backend import _ultralytics

    ultralytics = _ultralytics()
    from ultralytics.utils import SETTINGS
    from ultralytics.utils.downloads import GITHUB_ASSETS_NAMES

    archs = _detection_configs(Path(ultralytics.__file__).parent / "cfg" / "models")
    models = [[f"{arch}.yaml", arch] for arch in dict.fromkeys(archs)]
    for asset in sorted(GITHUB_ASSETS_NAMES):
        arch = _weights_arch(asset.removesuffix(".pt"), set(archs))
        if asset.endswith(".pt") and arch is not None:
            models.append([asset, arch])
    return {"models": models, "weights_dir": str(SETTINGS["weights_dir"])}


def studio_python_env() -> dict[str, str]:
    """The environment of a ``python -m yolo_studio...`` subprocess: this one's, with this
    package first on ``PYTHONPATH`` and Ultralytics' pip auto-install off."""
    env = dict(os.environ, YOLO_AUTOINSTALL="False")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_PARENT, env.get("PYTHONPATH"))
                                        if p)
    return env


_READ_LOCK = threading.Lock()  # one read at a time: a second caller waits for its answer


def _read() -> dict[str, Any]:
    """``_read_here()``'s answer, read once per process (callers meanwhile wait for it). In
    this process when Ultralytics is imported here already; else from ``python -m
    yolo_studio.training.base_models`` at a low CPU priority (``nice -n 10`` where there is
    one), so that no thread
    of this process (a server's) waits on importing torch and its pages stay responsive; read
    here when that fails."""
    with _READ_LOCK:
        return _read_once()


@functools.lru_cache(maxsize=1)
def _read_once() -> dict[str, Any]:
    if "ultralytics" in sys.modules:
        return _read_here()
    try:
        nice = [path, "-n", "10"] if (path := shutil.which("nice")) else []
        done = subprocess.run([*nice, sys.executable, "-m", __name__], capture_output=True,
                              text=True, timeout=READ_TIMEOUT_S, env=studio_python_env(),
                              check=True)
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (subprocess.SubprocessError, OSError, ValueError, IndexError):
        return _read_here()


@functools.lru_cache(maxsize=1)
def shipped_models() -> tuple[ShippedModel, ...]:
    """Every detection base model the installed Ultralytics ships, ``.pt`` and ``.yaml``, in
    ``ShippedModel.sort_key`` order (see the module docstring for the rule). The first call
    takes seconds (``_read``: Ultralytics is imported, here or in a subprocess); later ones
    answer from memory."""
    models = [ShippedModel(name, arch) for name, arch in _read()["models"]]
    return tuple(sorted(models, key=ShippedModel.sort_key))


def is_shipped(name: str) -> bool:
    """True when ``name`` is one of ``shipped_models()`` by its exact name."""
    return any(model.name == name for model in shipped_models())


def prefetch() -> threading.Thread:
    """Read ``shipped_models()`` on a daemon thread (a page built later finds it ready)."""
    thread = threading.Thread(target=shipped_models, name="yolo-studio-base-models",
                              daemon=True)
    thread.start()
    return thread


def is_ready() -> bool:
    """True once ``shipped_models()`` has been read in this process."""
    return shipped_models.cache_info().currsize > 0


def studio_weights_dir(root: str | os.PathLike[str]) -> Path:
    """``<root>/weights``: the studio's base weights (uploads, or put there by hand)."""
    return Path(root) / STUDIO_WEIGHTS_DIRNAME


def weights_folders(root: str | os.PathLike[str]) -> tuple[Path, ...]:
    """Where a bare ``.pt`` name is looked for, in order: the working folder and Ultralytics'
    weights folder (``SETTINGS["weights_dir"]``, read live once Ultralytics is imported here,
    else as ``_read`` found it; both searched by Ultralytics itself), then the studio's
    ``<root>/weights``."""
    if "ultralytics.utils" in sys.modules:
        from ultralytics.utils import SETTINGS

        ultralytics_dir = Path(SETTINGS["weights_dir"])
    else:
        ultralytics_dir = Path(_read()["weights_dir"])
    return (Path.cwd(), ultralytics_dir, studio_weights_dir(root))


def local_weights(name: str, folders: tuple[Path, ...]) -> Path | None:
    """The first ``folder / name`` that is a file, for a bare ``.pt`` name; else None."""
    if not name.endswith(".pt") or Path(name).name != name:
        return None
    return next((folder / name for folder in folders if (folder / name).is_file()), None)


def base_model_list(root: str | os.PathLike[str],
                    folders: tuple[Path, ...] | None = None) -> list[BaseModelEntry]:
    """``shipped_models()`` with the weights found on this machine (``local_weights`` in
    ``folders``, default ``weights_folders(root)``); a ``.yaml`` needs no file."""
    folders = weights_folders(root) if folders is None else folders
    return [BaseModelEntry(model, local_weights(model.name, folders))
            for model in shipped_models()]


def listing_rows(root: str | os.PathLike[str],
                 folders: tuple[Path, ...] | None = None) -> list[dict[str, str]]:
    """One row per shipped model for a table: ``base model`` (the name), ``kind``
    (generation; pretrained weights or from scratch) and ``weights`` (the file on this
    machine, "download (needs internet)", or "none needed" for a ``.yaml``)."""
    rows = []
    for entry in base_model_list(root, folders):
        if entry.model.pretrained:
            kind = "pretrained weights (COCO)"
            weights = str(entry.local) if entry.local else "download (needs internet)"
        else:
            kind, weights = "from scratch (model config)", "none needed"
        rows.append({"base model": entry.name, "kind": f"{entry.model.family}, {kind}",
                     "weights": weights})
    return rows


def default_base_model(root: str | os.PathLike[str],
                       folders: tuple[Path, ...] | None = None) -> str:
    """The form's and ``train``'s base model when none is given: the smallest release ``.pt``
    on this machine (the newest generation among equals), else ``DEFAULT_FROM_SCRATCH``,
    which needs no download."""
    local = [entry.model for entry in base_model_list(root, folders) if entry.local]
    if not local:
        return DEFAULT_FROM_SCRATCH
    return min(local, key=lambda m: (m.sort_key()[2], m.sort_key()[0], m.sort_key()[1])).name


def resolve_base_model(base_model: str, root: str | os.PathLike[str]) -> str:
    """``base_model`` as the job should load it: a bare ``.pt`` name that only the studio's
    ``<root>/weights`` holds becomes that file's absolute path (Ultralytics would not find
    it there and would try a download); anything else is returned unchanged."""
    name = str(base_model).strip()
    if local_weights(name, (studio_weights_dir(root),)) is None:
        return base_model  # not a bare .pt name, or not in <root>/weights: no Ultralytics import
    folders = weights_folders(root)
    found = local_weights(name, folders)
    if found is None or found.parent != folders[-1]:
        return base_model
    return str(found.resolve())


if __name__ == "__main__":  # _read's subprocess: the list and the folder as one JSON line
    print(json.dumps(_read_here()))
