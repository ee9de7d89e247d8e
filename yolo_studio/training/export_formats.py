"""Export formats and their options, from Ultralytics' exporter table (no ultralytics import).

``UltralyticsBackend.export_formats()`` reads ``ultralytics.engine.exporter.export_formats()``
(columns Format, Argument, Suffix, CPU, GPU, Arguments, Env) and its precision sets
(``FP16_FORMATS``, ``INT8_FORMATS``) and turns each row into an ``ExportFormat`` with
``formats_from_table``. What the studio adds is the rule of which formats it offers on a machine
(``ExportFormat.unavailable``) and the options a user sets (``ExportOptions``): imgsz, batch,
precision (fp32, fp16 = Ultralytics' ``quantize=16``, int8 = ``quantize=8``; 8.4 replaced the
``half`` / ``int8`` arguments by ``quantize``), dynamic, simplify and, for INT8, the largest
mAP50-95 drop accepted against best.pt.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

from ..config import MAX_IMGSZ
from ..errors import ValidationError

#: Precisions a user picks; Ultralytics' ``quantize`` value for each.
PRECISIONS = ("fp32", "fp16", "int8")
QUANTIZE = {"fp32": None, "fp16": 16, "int8": 8}
#: The options a format may take besides imgsz (names of Ultralytics' export arguments).
FORMAT_OPTIONS = ("batch", "dynamic", "simplify")
#: Largest mAP50-95 drop (absolute, fraction 0-1) an INT8 export may show against best.pt
#: before it is reported as exceeded, when the user sets none.
DEFAULT_MAX_DROP = 0.02
#: Formats whose FP16 export Ultralytics refuses on the CPU (``Exporter.__call__``: "FP16
#: TorchScript export is only supported on GPU").
FP16_NEEDS_GPU = frozenset({"torchscript"})
#: Formats whose exported model runs only elsewhere, so it is exported but not validated here
#: (as Ultralytics' benchmarks skip them): format -> (sys.platform it runs on or "", where).
RUNS_ONLY_ON = {"coreml": ("darwin", "macOS"), "coreai": ("darwin", "macOS"),
                "edgetpu": ("", "an Edge TPU")}


@dataclass(frozen=True)
class ExportFormat:
    """One row of Ultralytics' exporter table.

    Attributes:
        key: The ``format=`` argument ("onnx", "openvino", "ncnn", "engine", ...).
        name: Its display name ("OpenVINO"). suffix: What Ultralytics appends to the weights'
            stem (".onnx", "_openvino_model": a folder); the studio keeps ``best<suffix>``.
        cpu, gpu: Ultralytics' CPU / GPU columns: the exported model runs there.
        arguments: The export arguments the format takes (Ultralytics' Arguments column).
        env: Ultralytics' Env column; "isolated-*" formats need an environment of their own.
        fp16, int8: The format exports at that precision (Ultralytics' FP16 / INT8 sets).
    """

    key: str
    name: str
    suffix: str
    cpu: bool
    gpu: bool
    arguments: tuple[str, ...]
    env: str = "base"
    fp16: bool = False
    int8: bool = False

    @property
    def file_name(self) -> str:
        """The export's name beside best.pt: ``best`` + suffix (a file or a folder)."""
        return "best" + self.suffix

    def device(self, has_gpu: bool) -> str:
        """Where it is exported and validated: "cpu", or GPU "0" for GPU-only formats."""
        return "cpu" if self.cpu or not has_gpu else "0"

    def precisions(self, has_gpu: bool) -> tuple[str, ...]:
        """The precisions it exports at on this machine, fp32 first."""
        fp16 = self.fp16 and (has_gpu or self.key not in FP16_NEEDS_GPU)
        return ("fp32",) + ("fp16",) * fp16 + ("int8",) * self.int8

    def options(self, has_gpu: bool) -> tuple[str, ...]:
        """The studio options it takes: imgsz, then batch / dynamic / simplify as Ultralytics
        lists them, then fp16 / int8, and max_drop with int8."""
        taken = [o for o in FORMAT_OPTIONS if o in self.arguments]
        precisions = self.precisions(has_gpu)[1:]
        return ("imgsz", *taken, *precisions, *(("max_drop",) if "int8" in precisions else ()))

    def not_validated(self, platform: str) -> str:
        """Why its exported model cannot be validated on ``platform`` (``sys.platform``), or
        "" when it can."""
        runs_on, where = RUNS_ONLY_ON.get(self.key, (platform, ""))
        return "" if runs_on == platform else f"{self.name} models run only on {where}"

    def unavailable(self, has_gpu: bool) -> str:
        """Why the studio does not offer it on this machine, or "" when it does.

        Offered: formats whose exported model runs on this machine's CPU (CPU column), or on
        its GPU (GPU column, with a CUDA GPU: TensorRT), exported in the studio's own
        environment. Not offered: formats for a device of their own (neither column) and those
        Ultralytics exports in an isolated environment (Env "isolated-...").
        """
        if self.env.startswith("isolated-"):
            return (f"{self.name} is exported by Ultralytics in an environment of its own "
                    f"({self.env}), not in the studio's")
        if not (self.cpu or self.gpu):
            return f"{self.name} models run only on their own hardware"
        if not self.cpu and not has_gpu:
            return f"{self.name} needs a CUDA GPU, and this machine has none"
        return ""


def formats_from_table(table: Mapping[str, Any], fp16: frozenset[str] | set[str] = frozenset(),
                       int8: frozenset[str] | set[str] = frozenset()) -> list[ExportFormat]:
    """``ExportFormat``s from Ultralytics' ``export_formats()`` dict of columns (the PyTorch
    row, argument "-", left out); ``fp16`` / ``int8``: the format keys exporting at that
    precision. Unknown columns are ignored; Env defaults to "base".

    Raises:
        ValidationError: the table lacks a column the studio needs (another Ultralytics).
    """
    try:
        columns = [table[c] for c in ("Format", "Argument", "Suffix", "CPU", "GPU", "Arguments")]
    except KeyError as err:
        raise ValidationError(f"Ultralytics' export table has no {err} column; this studio "
                              "needs ultralytics 8.4.") from err
    envs = table.get("Env") or ["base"] * len(columns[0])
    return [ExportFormat(key=key, name=name, suffix=suffix, cpu=bool(cpu), gpu=bool(gpu),
                         arguments=tuple(args), env=str(env), fp16=key in fp16,
                         int8=key in int8)
            for name, key, suffix, cpu, gpu, args, env in zip(*columns, envs) if key != "-"]


@dataclass(frozen=True)
class ExportOptions:
    """What a user sets for one export.

    Attributes:
        imgsz: Input size in pixels; None = the model's training imgsz.
        batch: Batch size the exported model takes (1 unless the format takes ``batch``).
        precision: "fp32", "fp16" or "int8" (``PRECISIONS``).
        dynamic: Dynamic input shapes. simplify: Simplify the intermediate ONNX graph
            (Ultralytics' default True).
        max_drop: The largest mAP50-95 drop accepted against best.pt, absolute fraction 0-1
            (0.02 = 2 points); None = ``DEFAULT_MAX_DROP``. Only INT8 exports use it (others
            ignore it).
    """

    imgsz: int | None = None
    batch: int = 1
    precision: str = "fp32"
    dynamic: bool = False
    simplify: bool = True
    max_drop: float | None = None

    def checked(self, fmt: ExportFormat, has_gpu: bool, default_imgsz: int | None
                ) -> ExportOptions:
        """These options for ``fmt``: imgsz filled in (``default_imgsz``, else 640) and rounded
        up to a multiple of 32 (as Ultralytics' ``check_imgsz`` would), max_drop filled in for
        INT8.

        Raises:
            ValidationError: a bad value, or an option ``fmt`` does not take (what it takes is
                named).
        """
        imgsz = self.imgsz if self.imgsz is not None else (default_imgsz or 640)
        for label, value, low in (("imgsz", imgsz, 32), ("batch", self.batch, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValidationError(f"Export {label} must be a whole number of at least {low}, "
                                      f"not {value!r}.")
        if imgsz > MAX_IMGSZ:
            raise ValidationError(f"Export imgsz must be at most {MAX_IMGSZ} pixels, not {imgsz}.")
        imgsz = (imgsz + 31) // 32 * 32
        if self.precision not in PRECISIONS:
            raise ValidationError(f"Export precision {self.precision!r} is not one of "
                                  f"{', '.join(PRECISIONS)}.")
        taken = fmt.options(has_gpu)
        asked = {"batch": self.batch != 1, "dynamic": self.dynamic, "simplify": not self.simplify,
                 "fp16": self.precision == "fp16", "int8": self.precision == "int8"}
        refused = [o for o, on in asked.items() if on and o not in taken]
        if refused:
            label = "turning simplify off" if refused == ["simplify"] else ", ".join(refused)
            raise ValidationError(f"{fmt.name} export does not take {label}; it takes "
                                  f"{', '.join(taken)}.")
        return dataclasses.replace(self, imgsz=imgsz, max_drop=_max_drop(self))

    def export_kwargs(self, fmt: ExportFormat, device: str, data_yaml: str) -> dict[str, Any]:
        """Keyword arguments of Ultralytics' ``model.export`` (only those ``fmt`` takes, so
        Ultralytics' ``validate_args`` never refuses one); INT8 calibrates on ``data_yaml``."""
        kwargs: dict[str, Any] = {"format": fmt.key, "device": device, "imgsz": self.imgsz}
        for option in FORMAT_OPTIONS:
            if option in fmt.arguments:
                kwargs[option] = getattr(self, option)
        if QUANTIZE[self.precision] is not None:
            kwargs["quantize"] = QUANTIZE[self.precision]
        if self.precision == "int8" and "data" in fmt.arguments:
            kwargs["data"] = data_yaml
        return kwargs

    def to_dict(self) -> dict[str, Any]:
        """Plain values for a JSON file (``from_dict`` reads them back)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExportOptions:
        """Options from ``to_dict`` output (unknown keys ignored)."""
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def _max_drop(options: ExportOptions) -> float | None:
    if options.precision != "int8":
        return None
    value = DEFAULT_MAX_DROP if options.max_drop is None else options.max_drop
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValidationError("The maximum mAP50-95 drop is a fraction between 0 and 1 (0.02 = "
                              f"2 points), not {value!r}.")
    return float(value)
