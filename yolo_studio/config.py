"""Training configuration and storage settings.

``TrainingConfig`` holds every training parameter, validated on construction, with its
defaults. ``StudioSettings`` says where datasets and models live on disk.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from .errors import ValidationError
from .extra_args import check_extra_args
from .names import validate_name

OPTIMIZERS = ("AdamW", "Adam", "SGD", "RMSProp", "NAdam", "RAdam")

Batch = Union[int, float]


def _check(cond: bool, message: str) -> None:
    if not cond:
        raise ValidationError(message)


#: The device strings a job accepts (after strip and lower case): automatic (empty), CPU, Apple
#: MPS, one CUDA GPU (``0``, ``cuda:0``, ``cuda``: GPU 0) or ``-1`` (Ultralytics picks the
#: idlest GPU). Several GPUs are a list (``GPU_LIST_PATTERN``), trained with Ultralytics' DDP.
DEVICE_PATTERN = re.compile(r"|cpu|mps|cuda|-1|(cuda:)?\d+")
#: A list of two or more GPU indices, each ``N`` or ``cuda:N`` (spaces allowed around commas).
GPU_LIST_PATTERN = re.compile(r"(cuda:)?\d+(\s*,\s*(cuda:)?\d+)+")


def device_gpus(device: str) -> tuple[int, ...] | None:
    """The GPU indices a ``TrainingConfig.device`` names, or None when it names none for sure.

    Args:
        device: A validated ``TrainingConfig.device``: ``"0,1"`` -> (0, 1), ``"cuda:1"`` ->
            (1,), ``"cuda"`` -> (0,); ``""`` (automatic), ``"-1"`` (the idlest GPU, chosen by
            Ultralytics at run time), ``"cpu"`` and ``"mps"`` -> None.
    """
    if device == "cuda":
        return (0,)
    parts = [part.strip().removeprefix("cuda:") for part in device.split(",")]
    if not all(part.isdigit() for part in parts):
        return None
    return tuple(int(part) for part in parts)


#: Leading modules frozen when training from pretrained weights and freeze_layers is not given.
DEFAULT_FREEZE_LAYERS = 10

#: Largest imgsz a job accepts (pixels). Training memory (Ultralytics' image buffer among it)
#: grows with its square, so a larger size would exhaust RAM before the run could fail cleanly.
MAX_IMGSZ = 4096


@dataclass(frozen=True)
class TrainingConfig:
    """Every parameter of one training job, validated on construction.

    Attributes:
        dataset: Dataset name in the DatasetStore.
        base_model: ``yolo11n.pt``-style weights (pretrained), a ``.yaml`` architecture (train from
            scratch), or a path to a local ``.pt`` file.
        epochs: Number of epochs, >= 1.
        batch: Images per batch: an int >= 1, ``-1`` for Ultralytics AutoBatch, or a float in
            (0, 1) meaning that fraction of GPU memory for AutoBatch.
        imgsz: Training image size in pixels, 32 to ``MAX_IMGSZ``; not a multiple of 32 is
            rounded up, with a note.
        patience: Epochs without val improvement before early stopping (0 disables it).
        freeze_layers: Number of leading model modules to freeze (0 = none). None (not given)
            = the studio's default: ``DEFAULT_FREEZE_LAYERS`` for pretrained weights, 0 for a
            ``.yaml``; always a number after construction. A number given for a ``.yaml`` is
            ignored (it would freeze random weights), with a note only when it is not 0.
        lr0: Initial learning rate. Reaches the optimizer because ``optimizer`` is explicit.
        lrf: Final learning rate as a fraction (0-1) of lr0.
        model_name: Name to register the model under; None = generated from time.
        max_gpu_memory_percent: Cap on this process's CUDA memory, a fraction 0-1 (not 0-100);
            also the AutoBatch fraction when batch is -1.
        optimizer: Ultralytics optimizer name; never "auto" (auto ignores lr0).
        workers: Dataloader worker processes.
        device: Ultralytics device string: "" = automatic, "cpu", "mps", "0" or "cuda:0" (a
            GPU index), "-1" (the idlest GPU) (``DEVICE_PATTERN``), or several GPUs such as
            "0,1" (``GPU_LIST_PATTERN``: Ultralytics trains them with DDP, one process per GPU;
            stored as bare indices "0,1", each once; batch must then be a whole number, not
            AutoBatch). Stored stripped and lower case.
        seed: Random seed for reproducible runs.
        stop_on_resource_alert: Request a graceful stop when a resource threshold is exceeded.
        extra_args: The other Ultralytics train arguments a user changed (``mosaic``,
            ``cos_lr``, ...), argument -> plain value, sorted by key; never a key of
            ``extra_args.STUDIO_FIELDS`` (set through its field) or ``extra_args.CONTROLLED``
            (``extra_args.check_extra_args``). Passed to Ultralytics after the studio's own
            arguments; Ultralytics' checks run at Start. Files written before it existed load
            with none.
        notes: Messages about adjustments made during validation (read-only, filled in).
    """

    dataset: str = "bccd"
    base_model: str = "yolo11n.pt"
    epochs: int = 100
    batch: Batch = 16
    imgsz: int = 640
    patience: int = 20
    freeze_layers: int | None = None
    lr0: float = 0.001
    lrf: float = 0.01
    model_name: str | None = None
    max_gpu_memory_percent: float = 0.8
    optimizer: str = "AdamW"
    workers: int = 2
    device: str = ""
    seed: int = 0
    stop_on_resource_alert: bool = False
    extra_args: dict[str, Any] = field(default_factory=dict, hash=False)
    notes: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        notes = list(self.notes)
        validate_name(self.dataset, "Dataset name")
        if self.model_name is not None:
            validate_name(self.model_name, "Model name")
        _check(bool(str(self.base_model).strip()), "Choose a base model.")
        _check(isinstance(self.epochs, int) and self.epochs >= 1, "epochs must be an integer >= 1.")
        self._check_batch()
        _check(isinstance(self.imgsz, int) and 32 <= self.imgsz <= MAX_IMGSZ,
               f"imgsz must be an integer from 32 to {MAX_IMGSZ} (pixels): training memory "
               "grows with its square.")
        if self.imgsz % 32:
            rounded = (self.imgsz + 31) // 32 * 32
            notes.append(f"imgsz {self.imgsz} is not a multiple of 32; using {rounded}.")
            object.__setattr__(self, "imgsz", rounded)
        _check(isinstance(self.patience, int) and self.patience >= 0, "patience must be >= 0.")
        self._resolve_freeze(notes)
        _check(0 < self.lr0 <= 1, "lr0 must be in (0, 1].")
        _check(0 <= self.lrf <= 1, "lrf must be between 0 and 1 (a fraction of lr0).")
        _check(0 <= self.max_gpu_memory_percent <= 1,
               "max_gpu_memory_percent must be a fraction between 0 and 1 (0.8 = 80%).")
        _check(self.optimizer in OPTIMIZERS,
               f"optimizer must be one of {', '.join(OPTIMIZERS)} (not 'auto', which ignores lr0).")
        _check(isinstance(self.workers, int) and self.workers >= 0, "workers must be >= 0.")
        cores = os.cpu_count() or 1
        if self.workers > cores:
            notes.append(f"workers {self.workers} is more than this machine's {cores} CPU cores: "
                         f"Ultralytics starts at most {cores} dataloader workers.")
        self._check_device()
        object.__setattr__(self, "extra_args", check_extra_args(self.extra_args))
        object.__setattr__(self, "notes", tuple(dict.fromkeys(notes)))

    def _resolve_freeze(self, notes: list[str]) -> None:
        """Check ``freeze_layers``, fill in the default when it was not given, and set it to 0
        for a from-scratch model (a note says so when the user asked for a freeze)."""
        given = self.freeze_layers
        _check(given is None or (isinstance(given, int) and not isinstance(given, bool)
                                 and given >= 0), "freeze_layers must be a whole number >= 0.")
        if self.from_scratch:
            if given:
                notes.append(f"freeze_layers={given} ignored: {self.base_model} trains from "
                             "scratch, freezing would freeze random weights.")
            object.__setattr__(self, "freeze_layers", 0)
        elif given is None:
            object.__setattr__(self, "freeze_layers", DEFAULT_FREEZE_LAYERS)

    def _check_batch(self) -> None:
        b = self.batch
        ok = (isinstance(b, int) and not isinstance(b, bool) and (b >= 1 or b == -1)) or (
            isinstance(b, float) and (0 < b < 1 or b == -1 or (b >= 1 and b.is_integer())))
        _check(ok, "batch must be an integer >= 1, -1 for AutoBatch, or a fraction in (0, 1) "
                   "of GPU memory.")
        if isinstance(b, float) and (b >= 1 or b == -1):
            object.__setattr__(self, "batch", int(b))

    def _check_device(self) -> None:
        device = str(self.device).strip().lower()
        if "," in device:
            device = self._check_gpu_list(device)
        _check(DEVICE_PATTERN.fullmatch(device) is not None or "," in device,
               f"device {self.device!r} is not a device: leave it empty (automatic), or give "
               "cpu, mps, one GPU index such as 0 or cuda:0, or several such as 0,1.")
        object.__setattr__(self, "device", device)

    def _check_gpu_list(self, device: str) -> str:
        """``device`` naming several GPUs, as bare indices ``"0,1"``; raises when it is not a
        list of distinct GPU indices or the batch is AutoBatch."""
        parts = [part.strip() for part in device.split(",")]
        _check(not ({"cpu", "mps"} & set(parts)),
               f"device {self.device!r} mixes cpu or mps with GPUs: give either one of them "
               "alone, or GPU indices only, such as 0,1.")
        _check(GPU_LIST_PATTERN.fullmatch(device) is not None,
               f"device {self.device!r} is not a list of GPUs: give GPU indices separated by "
               "commas, such as 0,1 (each a number, or cuda:N; no empty entry, no -1).")
        ids = device_gpus(device) or ()
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        _check(not repeated, f"device {self.device!r} names GPU "
               f"{', '.join(map(str, repeated))} more than once: list each GPU once, such as 0,1.")
        _check(isinstance(self.batch, int) and self.batch >= 1,
               f"batch {self.batch} asks for AutoBatch, which Ultralytics runs on one GPU only: "
               f"with several GPUs ({self.device!r}) give a whole batch size, such as 16 "
               "(split evenly across the GPUs).")
        return ",".join(map(str, ids))

    @property
    def from_scratch(self) -> bool:
        """True when the base model is an architecture ``.yaml`` (random initial weights)."""
        return str(self.base_model).lower().endswith((".yaml", ".yml"))

    def to_train_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for Ultralytics ``model.train()`` (without data/project/name): the
        studio's fields, then ``extra_args`` (which may override ``plots`` and ``verbose``).

        ``batch=-1`` becomes the fraction ``max_gpu_memory_percent`` so AutoBatch respects the cap.
        """
        batch: Batch = self.batch
        if batch == -1 and 0 < self.max_gpu_memory_percent < 1:
            batch = self.max_gpu_memory_percent
        kwargs: dict[str, Any] = dict(
            epochs=self.epochs, batch=batch, imgsz=self.imgsz, patience=self.patience,
            lr0=self.lr0, lrf=self.lrf, optimizer=self.optimizer, workers=self.workers, seed=self.seed, plots=True, exist_ok=True, verbose=False)
        if self.freeze_layers:
            kwargs["freeze"] = self.freeze_layers
        if self.device:
            kwargs["device"] = self.device
        kwargs.update(self.extra_args)
        return kwargs

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the fields (for config.yaml and the job queue)."""
        data = dataclasses.asdict(self)
        data["notes"] = list(self.notes)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainingConfig":
        """Build from ``to_dict()`` output; unknown keys are ignored.

        Raises:
            ValidationError: a field is invalid.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["notes"] = tuple(values.get("notes") or ())
        return cls(**values)


@dataclass(frozen=True)
class StudioSettings:
    """Where the studio keeps its files.

    Attributes:
        root: Storage root. ``root/datasets/<name>/`` holds datasets, ``root/models/<dataset>/``
            the registries and model folders, ``root/jobs/`` the queue and run folders.
    """

    root: Path

    @property
    def datasets_dir(self) -> Path:
        return self.root / "datasets"

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    @property
    def jobs_dir(self) -> Path:
        return self.root / "jobs"

    def run_dir(self, job_id: str) -> Path:
        """A job's Ultralytics run folder (``weights/last.pt``, ``results.csv``, plots)."""
        return self.jobs_dir / "runs" / job_id

    @classmethod
    def resolve(cls, root: str | os.PathLike[str] | None = None) -> "StudioSettings":
        """Pick the storage root: the argument, else ``$YOLO_STUDIO_ROOT``, else
        ``default_root()``."""
        chosen = root or os.environ.get("YOLO_STUDIO_ROOT") or default_root()
        return cls(root=Path(chosen).expanduser().resolve())


#: Hugging Face Spaces' persistent disk: the default root is ``/data/yolo_studio`` when writable.
SPACES_DATA_DIR = Path("/data")


def source_checkout(package_dir: Path | None = None) -> Path | None:
    """The source checkout this package runs from, or None for an installed package.

    Args:
        package_dir: The ``yolo_studio`` folder (default: this module's). It is a checkout's
            when its parent holds ``app.py`` and lies in no ``site-packages`` or
            ``dist-packages`` folder.
    """
    parent = (package_dir or Path(__file__).resolve().parent).parent
    installed = {"site-packages", "dist-packages"} & set(parent.parts)
    return parent if (parent / "app.py").is_file() and not installed else None


def default_root(package_dir: Path | None = None) -> Path:
    """The storage root when neither ``--root`` nor ``$YOLO_STUDIO_ROOT`` names one.

    ``/data/yolo_studio`` when ``/data`` is a writable folder (Spaces), else the source
    checkout's folder (``source_checkout(package_dir)``), else the user data folder of an
    installed studio (``platformdirs.user_data_dir("yolo-studio")``, e.g.
    ``~/.local/share/yolo-studio`` on Linux), never a folder inside ``site-packages``.
    """
    if SPACES_DATA_DIR.is_dir() and os.access(SPACES_DATA_DIR, os.W_OK):
        return SPACES_DATA_DIR / "yolo_studio"
    checkout = source_checkout(package_dir)
    if checkout is not None:
        return checkout
    import platformdirs

    return Path(platformdirs.user_data_dir("yolo-studio", appauthor=False))


#: The built-in sample datasets, package data of ``yolo_studio`` (copied into the storage root on
#: start).
SAMPLES_DIR = Path(__file__).resolve().parent / "samples"
