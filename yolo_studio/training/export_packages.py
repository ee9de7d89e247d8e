"""The Python packages each export format needs, checked before an export starts.

Ultralytics' exporter checks its packages with ``check_requirements`` as it goes; with its pip
auto-install off (as in the studio) a missing one is only logged ("AutoUpdate disabled") and the
export then fails on ``import`` halfway, or, for a wrong version (``pnnx==20260526`` for NCNN),
goes on with it. So the studio checks the same requirements first (``PACKAGES``: what
``ultralytics/utils/export/*.py`` and ``engine/exporter.py`` 8.4.190 check, plus the runtime the
validation loads) and names what is missing with the exact ``pip install`` command
(``missing_message``). It never installs anything. ``EXTRAS`` names the studio's pip extra of
each format's family (pyproject.toml's ``[project.optional-dependencies]``).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import shlex
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement

ONNX = ("onnx>=1.12.0,<2.0.0", "onnxslim>=0.1.82", "onnxruntime>=1.16")
TENSORFLOW = ("tensorflow>=2.0.0,<=2.19.0; python_version < '3.13'",
              "tensorflow>2.19.0; python_version >= '3.13'", "onnx2tf>=1.26.3,<1.29.0",
              "tf_keras<=2.19.0; python_version < '3.13'",
              "tf_keras>2.19.0; python_version >= '3.13'", "sng4onnx>=1.0.1",
              "onnx_graphsurgeon>=0.3.26", "ai-edge-litert>=1.2.0", *ONNX)
#: Format -> requirements of its export and of the runtime that validates it (pip syntax).
#: Two differ from Ultralytics' checks: TensorFlow's leave out its ``protobuf>=6.31.1``, which
#: pip cannot install with tensorflow<=2.19 (Ultralytics only warns about it); MNN's add
#: ``aliyun-log-python-sdk``, which MNN's converter otherwise pip-installs itself
#: (``MNN/tools/utils/log.py`` runs ``pip install`` when it is missing).
PACKAGES: dict[str, tuple[str, ...]] = {
    "torchscript": (),
    "onnx": ONNX,
    "openvino": ("openvino>=2024.0.0",),
    "engine": ("tensorrt", *ONNX),
    "coreml": ("coremltools>=9.0", "numpy>=1.14.5,<=2.3.5"),
    "coreai": ("coreai-torch>=0.4.3",),
    "saved_model": TENSORFLOW,
    "pb": TENSORFLOW,
    "edgetpu": TENSORFLOW,
    "litert": ("litert-torch>=0.10.0", "ai-edge-litert>=2.3.0"),
    "paddle": ("paddlepaddle>=3.0.0,<3.3.0", "x2paddle"),
    "mnn": ("MNN>=2.9.6", "aliyun-log-python-sdk", *ONNX),
    "ncnn": ("ncnn", "pnnx==20260526"),
    "executorch": ("executorch",),
}
#: Added for an INT8 export (the calibration / quantization tool).
INT8_PACKAGES: dict[str, tuple[str, ...]] = {
    "openvino": ("nncf>=2.14.0",),
    "litert": ("ai-edge-quantizer>=0.10.0",),
}
#: Format -> the studio's pip extra that installs its packages.
EXTRAS = {"onnx": "export", "openvino": "openvino", "engine": "tensorrt", "coreml": "coreml",
          "coreai": "coreml", "saved_model": "tensorflow", "pb": "tensorflow",
          "edgetpu": "tensorflow", "litert": "tflite", "paddle": "paddle", "mnn": "mnn",
          "ncnn": "ncnn", "executorch": "executorch"}
#: Distribution name -> module it is imported as, where they differ.
MODULES = {"paddlepaddle": "paddle", "aliyun-log-python-sdk": "aliyun.log"}
#: Other distributions that provide the same module (an installed one will do).
ALTERNATIVES = {"onnxruntime": ("onnxruntime-gpu", "onnxruntime-qnn", "onnxruntime-vitisai",
                                "onnxruntime-windowsml"),
                "paddlepaddle": ("paddlepaddle-gpu",), "tensorflow": ("tensorflow-cpu",)}


@dataclass(frozen=True)
class Missing:
    """A requirement that is not met: ``requirement`` (pip syntax) and what is installed
    ("not installed", or "3.1 is installed")."""

    requirement: str
    found: str


def requirements(fmt: str, precision: str = "fp32", simplify: bool = True) -> tuple[str, ...]:
    """The requirements (pip syntax) of exporting to ``fmt`` and validating the result; those
    whose environment marker does not apply here (another Python) are left out. An unknown
    format needs nothing the studio knows of (Ultralytics' own check still runs)."""
    found = list(PACKAGES.get(fmt, ()))
    if precision == "int8":
        found += INT8_PACKAGES.get(fmt, ())
    if not simplify and fmt == "onnx":
        found = [r for r in found if not r.startswith("onnxslim")]
    return tuple(r for r in found if _applies(r))


def missing(fmt: str, precision: str = "fp32", simplify: bool = True) -> list[Missing]:
    """The requirements of ``requirements(...)`` not met in this environment: the module
    cannot be imported (absent, or blocked), or the named distribution's version is outside
    the requirement's range. Installed under an alternative name (``ALTERNATIVES``, e.g.
    onnxruntime-gpu) counts as met when the module imports."""
    return [m for m in (_check(r) for r in requirements(fmt, precision, simplify)) if m]


def missing_message(name: str, found: list[Missing], extra: str | None) -> str:
    """What to tell a user whose export to ``name`` (a format's display name) lacks
    ``found``: each requirement and what is installed, the exact pip command, the extra."""
    listed = "; ".join(f"{m.requirement.split(';')[0]} ({m.found})" for m in found)
    command = "pip install " + " ".join(shlex.quote(m.requirement.split(";")[0].strip())
                                         for m in found)
    also = (f" (or the studio's extra: pip install {shlex.quote(f'yolo-studio[{extra}]')})"
            if extra else "")
    return (f"Exporting to {name} needs Python packages that are missing here: {listed}. "
            f"Install them with: {command}{also}, then export again. The studio never "
            "installs packages itself.")


def _applies(requirement: str) -> bool:
    marker = Requirement(requirement).marker
    return marker is None or marker.evaluate()


def _check(text: str) -> Missing | None:
    try:
        req = Requirement(text)
    except InvalidRequirement:
        return Missing(text, "not a valid requirement")
    module = MODULES.get(req.name, req.name.replace("-", "_"))
    if not _importable(module):
        return Missing(text, "not installed")
    for dist in (req.name, *ALTERNATIVES.get(req.name, ())):
        try:
            version = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
        if dist != req.name or req.specifier.contains(version, prereleases=True):
            return None
        return Missing(text, f"{version} is installed")
    return None  # importable, from a distribution of another name


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package missing; a module blocked (None)
        return False
