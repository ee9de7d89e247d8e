"""The import rules of docs/ARCHITECTURE.md, checked on the source with the ast module."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "yolo_studio"

# Which yolo_studio sub-packages each layer may import.
LAYER_ALLOWED = {
    "config": {"errors", "names", "config", "extra_args"},
    # a job's extra Ultralytics train arguments: the checks that need no Ultralytics
    "extra_args": {"errors"},
    # the one list of the training fields a user sets (form, CLI options, Start API inputs)
    "config_fields": {"errors", "config", "extra_args"},
    "errors": set(),
    "names": {"errors"},
    "persistence": {"config", "errors", "names", "persistence", "extra_args"},
    "resources": {"config", "errors", "resources"},
    "training": {"config", "errors", "names", "persistence", "resources", "training",
                 "extra_args"},
    "ui": {"config", "config_fields", "errors", "names", "persistence", "resources", "training",
           "ui", "serve_options", "extra_args"},
    "serve_options": {"errors"},
    "cli": {"config", "config_fields", "errors", "names", "persistence", "resources", "training",
            "serve_options", "extra_args", "cli_metrics", "cli_train",
            "cli_models", "cli_train_info"},
    # the models CLI's evaluation and registry-metric commands (cli.py wires them in)
    "cli_metrics": {"config", "errors", "names", "persistence", "resources", "training",
                    "extra_args"},
    # the CLI's train command (cli.py's layer)
    "cli_train": {"config", "config_fields", "errors", "names", "persistence", "resources",
                  "training", "extra_args", "serve_options", "cli_train_info"},
    # the models subcommands that run a model (predict, formats, export, download), for cli
    "cli_models": {"config", "errors", "names", "persistence", "resources", "training",
                   "extra_args"},
    # train's duration estimate and the base-models command (cli.py and cli_train use them)
    "cli_train_info": {"config", "errors", "training"},
    # the package's entry (console script, python -m, app.py): the one way into ui
    "entry": {"cli", "ui", "serve_options"},
    "__main__": {"entry"},
    "__init__": set(),
}

#: The modules that import ultralytics (lazily): the backend, the train arguments as plain
#: data and Ultralytics' checks of them, the exporter and validator of registered models, the
#: base models it ships and the batch timings of its models.
ULTRALYTICS_MODULES = ("ultralytics_backend.py", "ultralytics_args.py", "ultralytics_export.py",
                       "base_models.py", "batch_timing.py")


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py"))


def _layer(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: resolve against the file's package
                base = path.relative_to(PACKAGE.parent).with_suffix("").parts[:-node.level]
                module = ".".join(base + ((node.module,) if node.module else ()))
                names.add(module)
                if not node.module:
                    names.update(".".join(base + (a.name,)) for a in node.names)
            elif node.module:
                names.add(node.module)
    return names


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_layers_import_only_downwards(path: Path) -> None:
    layer = _layer(path)
    allowed = LAYER_ALLOWED[layer]
    for name in _imports(path):
        parts = name.split(".")
        if parts[0] != "yolo_studio" or len(parts) < 2:
            continue
        assert parts[1] in allowed, f"{path.name} ({layer}) must not import {name}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_gradio_and_ultralytics_stay_in_their_modules(path: Path) -> None:
    imports = {n.split(".")[0] for n in _imports(path)}
    if "gradio" in imports:
        assert _layer(path) == "ui", f"{path} imports gradio"
    if "ultralytics" in imports:
        assert path.name in ULTRALYTICS_MODULES, f"{path} imports ultralytics"


def test_importing_the_package_imports_no_heavy_library() -> None:
    code = ("import sys, yolo_studio, yolo_studio.config, yolo_studio.training.snapshot;"
            "heavy = {'torch', 'ultralytics', 'gradio'} & set(sys.modules); print(sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_models_sub_tabs_share_through_model_common_only() -> None:
    """The Models tab imports its sub-tabs; they import ``model_common``, never the tab or each
    other (no import circle)."""
    ui = PACKAGE / "ui"
    sub_tabs = {"model_compare", "model_inspect", "model_manage", "model_try", "model_evaluate"}
    for name in sub_tabs:
        imported = {n.rsplit(".", 1)[-1] for n in _imports(ui / f"{name}.py")
                    if n.startswith("yolo_studio.ui.")}
        assert not imported & (sub_tabs | {"models_tab"}), f"{name} imports {imported}"
