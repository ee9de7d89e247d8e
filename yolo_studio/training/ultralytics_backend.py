"""The Ultralytics training wrapper: with ``ultralytics_args`` and ``ultralytics_export``, the
only modules that import ``ultralytics`` (lazily).

Ultralytics callbacks go in, ``TrainHooks`` calls and a stop flag come out; ``predict`` runs
registered weights (result types and checks live in ``inference``); exporting and validating
come from ``UltralyticsExportMixin`` (``ultralytics_export``). Facts this relies
on (ultralytics 8.4, ``engine/trainer.py``): ``_setup_train`` resets ``trainer.stop``, the loop
breaks after a batch whose ``on_train_batch_end`` left ``trainer.stop`` True (then validates the
epoch and best.pt), an exception raised in a callback leaves ``train()`` at once (a user cancel
uses that: ``RunAborted``), and ``final_eval`` fires ``on_fit_epoch_end`` once more after the loop
(validation of best.pt) without an ``on_train_epoch_start`` before it.

Every Ultralytics import here goes through ``_ultralytics()``: pip auto-install is off for good in
any process that uses this backend (server and training worker), the ``Image.open`` patch included.
"""

from __future__ import annotations

import gc
import importlib
import logging
import sys
import time
from pathlib import Path
from typing import Any, Callable

from ..config import TrainingConfig
from ..errors import NotFoundError, RegistryError, StudioError, TrainingError, ValidationError
from .bridge import CallbackBridge, LogForwarder, RunAborted
from .hooks import TrainHooks, TrainOutcome
from .ultralytics_export import UltralyticsExportMixin
from .inference import (ModelCache, PredictionResult, check_thresholds, detections_from_result,
                        rgb_array)
from .ultralytics_val import ValidationMixin

_OOM_ADVICE = ("Out of GPU memory. Lower the batch size (or use -1 for AutoBatch), lower imgsz, "
               "or pick a smaller base model, then start again.")


def _ultralytics() -> Any:
    """Import Ultralytics with its pip auto-install off; returns the ``ultralytics`` package.

    ``AUTOINSTALL`` is process-wide and is only ever set to False (never toggled back), so
    setting it at every call is safe from any thread and wins over a value set since.
    """
    import ultralytics
    from ultralytics import utils
    from ultralytics.utils import checks

    utils.AUTOINSTALL = checks.AUTOINSTALL = False
    return ultralytics


def _missing_weights_message(base_model: str) -> str:
    """Why a release ``.pt`` cannot be had offline, and the two ways out (Ultralytics is
    imported)."""
    from ultralytics.utils import SETTINGS

    name, stem = Path(base_model).name, Path(base_model).stem
    return (f"Base model weights '{base_model}' are not on this machine and cannot be "
            f"downloaded (offline). Pick '{stem}.yaml' to train from scratch, or put {name} in "
            "a local weights folder: the studio's weights/ in its storage root (the Train "
            f"tab's Base weights upload) or Ultralytics' {SETTINGS['weights_dir']}.")


class UltralyticsBackend(ValidationMixin, UltralyticsExportMixin):
    """Trains with Ultralytics and reports progress through ``TrainHooks``; validates
    registered models (``ValidationMixin``: ``evaluate``, ``class_names``) and exports them
    (``UltralyticsExportMixin``).

    Args:
        model_factory: Called with the base model name/path and returns a model with
            ``add_callback(event, fn)`` and ``train(**kwargs)``; defaults to ``ultralytics.YOLO``.
    """

    def __init__(self, model_factory: Callable[[str], Any] | None = None,
                 cache_size: int = 4) -> None:
        self._factory = model_factory
        self._models = ModelCache(self._load_weights, cache_size)
        self._formats = None  # Ultralytics' export formats, read on first use

    @staticmethod
    def warm_up() -> None:
        """Import what a training imports (torch, Ultralytics' detection trainer, and the
        matplotlib and polars its plots and results.csv need) now, so that a job started later
        waits for none of it; turn off Ultralytics' pip auto-install for good."""
        _ultralytics()
        from ultralytics import YOLO  # noqa: F401 - imports torch too
        from ultralytics.models.yolo.detect import DetectionTrainer  # noqa: F401

        for optional in ("matplotlib.pyplot", "polars"):
            try:
                importlib.import_module(optional)
            except ImportError:  # imported (and reported) by Ultralytics when a run needs it
                pass

    def check_base_model(self, base_model: str) -> None:
        """Fail fast (no download attempt) when ``base_model`` cannot be trained from.

        It must end in ``.pt`` (weights) or ``.yaml``/``.yml`` (a fresh model). A ``.yaml``
        passes when Ultralytics reads a model config with a backbone and a head from it (an
        existing file, or one Ultralytics ships such as ``yolo11n.yaml``; no model is built). A
        ``.pt`` passes when it is an existing file (a bare name in the working folder), is in
        Ultralytics' weights folder, or the machine is online and the name is a detection
        model's release weights (``base_models.is_shipped``). A name only the studio's
        ``<root>/weights`` holds is made a path first (``base_models.resolve_base_model``).

        Raises:
            TrainingError: naming the file and the alternatives.
        """
        name = str(base_model).strip()
        if self._factory is not None:
            return  # a custom factory decides itself
        if name.lower().endswith((".yaml", ".yml")):
            _check_model_yaml(name)
            return
        if not name.lower().endswith(".pt"):
            raise TrainingError(f"Base model '{name}' is neither .pt weights nor a model .yaml. "
                                "Give a name such as yolo11n.pt or yolo11n.yaml, or the path of "
                                "such a file.")
        if Path(name).expanduser().is_file():
            return
        _ultralytics()
        from ultralytics.utils import SETTINGS, is_online

        from .base_models import is_shipped

        if (Path(SETTINGS["weights_dir"]) / name).is_file():
            return
        if Path(name).name != name or not is_shipped(name):
            raise TrainingError(f"Base model file '{name}' does not exist, and it is not a "
                                "detection model Ultralytics ships. Give the path of an "
                                "existing .pt file, or a listed name such as yolo11n.pt or "
                                "yolo11n.yaml (yolo-studio base-models lists them).")
        if not is_online():
            raise TrainingError(_missing_weights_message(name))

    def _load_model(self, base_model: str) -> Any:
        factory = self._factory
        if factory is None:
            factory = _ultralytics().YOLO
        try:
            return factory(base_model)
        except (ConnectionError, TimeoutError) as exc:
            raise TrainingError(_missing_weights_message(base_model)) from exc
        except FileNotFoundError as exc:
            raise TrainingError(f"Base model '{base_model}' not found: {exc}") from exc
        except Exception as exc:
            if "download" in str(exc).lower():
                raise TrainingError(_missing_weights_message(base_model)) from exc
            raise TrainingError(f"Could not load base model '{base_model}': {exc}") from exc

    @staticmethod
    def release_memory(failed: bool = False) -> None:
        """Give a finished run's memory back: collect its trainer, model, optimizer and data
        loader (they sit in reference cycles) and return PyTorch's cached CUDA blocks to the
        driver, so NVML and other processes see it free. The manager calls it after every job.

        Args:
            failed: The job failed or was cancelled. Its leftovers are then collected on CPU
                too (a full ``gc.collect()``): a run that failed may hold big buffers
                (Ultralytics' image buffer grows with imgsz squared) until Python's next full
                collection. After a completed CPU job Python collects on its own, so no full
                collection delays the next job.
        """
        torch = sys.modules.get("torch")  # never imported just for this
        cuda = torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized()
        if failed or cuda:
            gc.collect()
        if cuda:
            torch.cuda.empty_cache()

    @staticmethod
    def _cap_gpu_memory(config: TrainingConfig) -> None:
        """Apply ``max_gpu_memory_percent`` (fraction 0-1) as the CUDA per-process memory cap.

        The cap is process-wide and outlives the job, so every CUDA job sets it: 0 or 1 means
        no cap (1.0), which also lifts an earlier job's cap. Several GPUs (DDP): this process
        does not train, so each rank caps its own GPU (``CallbackBridge``) and CUDA is not
        started here.
        """
        fraction = config.max_gpu_memory_percent
        if not 0 < fraction < 1:
            fraction = 1.0
        if config.device.lower() in ("cpu", "mps") or "," in config.device:
            return
        import torch

        if not torch.cuda.is_available():
            return
        ids = [int(d) for d in config.device.replace("cuda:", "").split(",") if d.strip().isdigit()]
        for index in ids or [torch.cuda.current_device()]:
            torch.cuda.set_per_process_memory_fraction(fraction, index)

    def train(self, config: TrainingConfig, data_yaml: Path, run_dir: Path, hooks: TrainHooks,
              resume_from: Path | None = None) -> TrainOutcome:
        """Train ``config`` on ``data_yaml`` into ``run_dir`` (Ultralytics project/name).

        With ``resume_from`` (a run's ``weights/last.pt``) Ultralytics resumes that run with the
        arguments saved in the checkpoint, except the dataset and the run folder: ``data_yaml``
        and ``run_dir`` (the checkpoint may come from another machine's folders).

        Raises:
            TrainingError: weights unavailable, out of memory, NaN losses, an error inside a
                callback, or any other training failure, with the cause in the message.
        """
        self._cap_gpu_memory(config)
        model = self._load_model(str(resume_from or config.base_model))
        bridge = CallbackBridge(hooks, config.epochs, config.max_gpu_memory_percent)
        for event, handler in bridge.handlers().items():
            model.add_callback(event, handler)
        if resume_from is not None:
            kwargs: dict[str, Any] = {"resume": str(resume_from), "data": str(data_yaml),
                                      "save_dir": str(run_dir)}
        else:
            kwargs = dict(config.to_train_kwargs(), data=str(data_yaml),
                          project=str(run_dir.parent), name=run_dir.name)
        forwarder = LogForwarder(hooks)  # a DDP rank 0 attaches its own (bridge.py)
        logger = logging.getLogger("ultralytics")
        logger.addHandler(forwarder)
        try:
            model.train(**kwargs)
        except RunAborted:  # a user cancel: nothing is kept, so no validation either
            bridge.close_loaders()
        except Exception as exc:
            self._fail(exc, bridge)
        finally:
            logger.removeHandler(forwarder)
        if bridge.error is not None:  # raised in a callback but swallowed on the way out
            self._fail(bridge.error, bridge)
        return bridge.outcome(run_dir)

    @classmethod
    def _fail(cls, exc: BaseException, bridge: CallbackBridge) -> None:
        cause = bridge.error or exc
        error = cls._translate(exc, bridge)
        if error is cause:
            raise error
        raise error from cause

    @staticmethod
    def _translate(exc: BaseException, bridge: CallbackBridge) -> StudioError:
        """Turn whatever ended training into a user-facing StudioError."""
        cause = bridge.error or exc
        if isinstance(cause, StudioError):
            return cause
        if bridge.error is not None:
            return TrainingError(f"Training stopped by an error in the studio's "
                                 f"{bridge.error_event} callback: {type(cause).__name__}: {cause}")
        text = str(cause)
        if type(cause).__name__ == "OutOfMemoryError" or "out of memory" in text.lower():
            return TrainingError(f"{_OOM_ADVICE} ({text.splitlines()[0] if text else 'OOM'})")
        if isinstance(cause, (FileNotFoundError, ConnectionError)):
            return TrainingError(f"Training could not read its inputs: {text}. Check that the "
                                 "dataset folder still exists and is complete.")
        if "nan" in text.lower() and "training failed" in text.lower():
            return TrainingError(f"{text}. Lower lr0 or check the labels, then start again.")
        return TrainingError(f"Training failed: {type(cause).__name__}: {text}")

    # ------------------------------------------------------------- trying and exporting
    def _load_weights(self, weights: str) -> Any:
        try:
            return self._load_model(weights)
        except TrainingError as err:
            raise RegistryError(f"Could not load the model weights {weights}: {err}") from err

    def predict(self, weights: str | Path, image: Any, conf: float = 0.25, iou: float = 0.7,
                imgsz: int | None = None) -> PredictionResult:
        """Run the model in ``weights`` on one image (the model stays cached, see ModelCache).

        Args:
            weights: A ``.pt`` file. image: An image file path, or an RGB ``uint8`` array.
            conf: Minimum confidence (fraction 0-1). iou: NMS IoU threshold (fraction 0-1).
            imgsz: Inference size in pixels; None = the size the model was trained at.

        Raises:
            ValidationError: bad thresholds, or the image cannot be read. NotFoundError: no
                such weights or image file. RegistryError: the weights cannot be loaded.
        """
        check_thresholds(conf, iou, imgsz)
        start = time.perf_counter()
        if isinstance(image, (str, Path)) and not Path(image).is_file():
            raise NotFoundError(f"Image {image} does not exist.")
        try:
            model, lock = self._models.get(weights)
        except FileNotFoundError as err:
            raise NotFoundError(f"Model weights {weights} do not exist.") from err
        import cv2  # Ultralytics' own image library; its RGB->BGR copy, not a numpy flip

        source = (str(image) if isinstance(image, (str, Path))
                  else cv2.cvtColor(rgb_array(image), cv2.COLOR_RGB2BGR))
        kwargs: dict[str, Any] = {"conf": conf, "iou": iou, "verbose": False}
        if imgsz is not None:
            kwargs["imgsz"] = imgsz
        with lock:
            try:
                result = model.predict(source, **kwargs)[0]
            except (FileNotFoundError, ValueError, OSError, TypeError, IndexError) as err:
                raise ValidationError(f"Could not run the model on this image ({err}); give a "
                                      "JPEG, PNG, BMP or WebP image.") from err
            drawn = cv2.cvtColor(result.plot(), cv2.COLOR_BGR2RGB)  # Ultralytics draws BGR
        return PredictionResult(image=drawn, detections=detections_from_result(result),
                                inference_ms=float(result.speed.get("inference") or 0.0),
                                total_ms=(time.perf_counter() - start) * 1000.0,
                                weights=Path(weights))


def _reason(exc: BaseException, name: str) -> str:
    """``exc``'s message without a repeat of ``name`` ("does not exist" for a missing file)."""
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    return str(exc).replace(f"'{name}' ", "").replace(name, "it")


def _check_model_yaml(name: str) -> None:
    """Raise ``TrainingError`` unless Ultralytics reads a model config from ``name``."""
    _ultralytics()
    from ultralytics.nn.tasks import yaml_model_load

    try:
        config = yaml_model_load(name)
    except (OSError, ValueError) as exc:  # FileNotFoundError; a malformed file
        raise TrainingError(
            f"Base model config '{name}' cannot be read ({_reason(exc, name)}). Give the path "
            "of an "
            "existing model .yaml, or an Ultralytics one such as yolo11n.yaml "
            "(trains from scratch).") from exc
    if not isinstance(config, dict) or not {"backbone", "head"} <= config.keys():
        raise TrainingError(
            f"'{name}' is not a model config: it has no backbone and head (a dataset's "
            "data.yaml goes in Dataset, not Base model). Give a model .yaml such as "
            "yolo11n.yaml.")

