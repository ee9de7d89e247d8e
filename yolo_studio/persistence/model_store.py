"""The per-dataset model registry and the model folders.

Layout::

    <models_dir>/<dataset>/registry.json
    <models_dir>/<dataset>/models/<name>/weights/best.pt
    <models_dir>/<dataset>/models/<name>/config.yaml     # the TrainingConfig used
    <models_dir>/<dataset>/models/<name>/metrics.json    # final metrics + per-epoch history

Registry writes are locked across processes and atomic (see ``json_store``). A model folder is
built under a temporary name, renamed into place, and only then entered in the registry, so a
failure at any step leaves the registry as it was and no half-written folder.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from ..errors import NotFoundError, RegistryError
from ..names import validate_name
from .model_record import (STATUS_MISSING_WEIGHTS, ModelRecord, check_registry, check_tags,
                           empty_registry, make_entry)
from .model_artifacts import ModelArtifactsMixin
from .model_files import check_extra_files, move_folder, prepare_folder, serialise
from .json_store import JsonFile, describe_os_error
from .registry_metrics import RegistryMetricsMixin


class ModelStore(ModelArtifactsMixin, RegistryMetricsMixin):
    """Registered models of every dataset under ``models_dir``.

    Args:
        models_dir: Root folder (``StudioSettings.models_dir``); created on the first save.

    Every method validates dataset and model names first (``ValidationError``); a registry that
    cannot be read raises ``RegistryError``; an unknown model raises ``NotFoundError``.
    """

    def __init__(self, models_dir: str | os.PathLike[str]) -> None:
        self.models_dir = Path(models_dir)
        self._files: dict[str, JsonFile] = {}

    # ----------------------------------------------------------------- helpers
    def _registry(self, dataset: str) -> JsonFile:
        validate_name(dataset, "Dataset name")
        if dataset not in self._files:
            self._files[dataset] = JsonFile(self.models_dir / dataset / "registry.json",
                                            empty_registry, check_registry, "model registry")
        return self._files[dataset]

    def _folder(self, dataset: str, name: str) -> Path:
        return self.models_dir / dataset / "models" / name

    def _record(self, dataset: str, name: str, data: dict[str, Any],
                root: str | None = None) -> ModelRecord:
        # plain string joins, not pathlib's "/": list() builds one record per model and must
        # stay fast on a registry of 1,000 models (bench/registry.py)
        folder = os.path.join(root or os.fspath(self.models_dir / dataset / "models"), name)
        weights = os.path.join(folder, "weights", "best.pt")
        return ModelRecord.from_entry(dataset, name, data["models"][name], Path(folder),
                                      active=data.get("active") == name,
                                      weights_path=Path(weights),
                                      weights_exist=os.path.isfile(weights))

    @staticmethod
    def _entry(data: dict[str, Any], dataset: str, name: str) -> dict[str, Any]:
        validate_name(name, "Model name")
        if name not in data["models"]:
            known = ", ".join(sorted(data["models"])[:10]) or "none yet"
            raise NotFoundError(f"No model {name!r} is registered for dataset {dataset!r} "
                                f"(registered: {known}).")
        return data["models"][name]

    # ----------------------------------------------------------------- save
    def save(self, dataset: str, name: str, weights: str | os.PathLike[str],
             config: dict[str, Any], metrics: dict[str, Any],
             info: dict[str, Any], files: dict[str, Any] | None = None) -> ModelRecord:
        """Copy a trained model in and register it.

        Args:
            dataset: Dataset name.
            name: New model name (unique within the dataset).
            weights: The ``best.pt`` to copy (copied, never linked: run folders may be deleted).
            config: ``TrainingConfig.to_dict()``, written to config.yaml.
            metrics: ``{"final": ..., "history": [...]}``, written to metrics.json.
            info: base_model, epochs_completed (int), best_map50 (fraction 0-1 or None),
                dataset_snapshot, dataset_hash, optional notes and tags, plus extra JSON keys
                stored as-is.
            files: Extra files to keep with the model: relative destination -> source path,
                e.g. ``{"plots/BoxPR_curve.png": run_dir / "BoxPR_curve.png"}``; missing
                sources are skipped.

        Returns:
            The new record.

        Raises:
            ValidationError: a bad name or info value (nothing written).
            NotFoundError: ``weights`` does not exist.
            RegistryError: duplicate name, disk full or another write failure; the registry is
                then unchanged and no model folder is left behind.
        """
        validate_name(dataset, "Dataset name")
        validate_name(name, "Model name")
        entry = make_entry(info)
        config_text, metrics_text = serialise(config, metrics)
        extra_files = check_extra_files(files)
        weights = Path(weights)
        if not weights.is_file():
            raise NotFoundError(f"Weights file {weights} does not exist; nothing was registered.")
        registry = self._registry(dataset)
        self._check_free(registry.read(), dataset, name)
        tmp = self._folder(dataset, f".tmp-{name}-{uuid.uuid4().hex[:8]}")
        prepare_folder(tmp, name, weights, config_text, metrics_text, extra_files)
        try:
            with registry.locked():
                data = registry.read()
                self._check_free(data, dataset, name)
                final = self._folder(dataset, name)
                move_folder(tmp, final, f"Could not save model {name!r}")
                try:
                    data["models"][name] = entry
                    registry.write(data)
                except BaseException:
                    shutil.rmtree(final, ignore_errors=True)
                    raise
                return self._record(dataset, name, data)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _check_free(self, data: dict[str, Any], dataset: str, name: str) -> None:
        if name in data["models"]:
            raise RegistryError(f"A model named {name!r} already exists for dataset {dataset!r}; "
                                "choose another name, or rename or delete the existing one.")
        folder = self._folder(dataset, name)
        if folder.exists():
            raise RegistryError(f"The folder {folder} exists but is not in the registry (left by "
                                "an interrupted save?); move it away or choose another name.")

    # ----------------------------------------------------------------- reading
    def list(self, dataset: str) -> builtins.list[ModelRecord]:
        """All models of ``dataset``, oldest first; [] when none. A model whose weights file is
        gone is listed with ``status="missing-weights"``."""
        data = self._registry(dataset).read()
        root = os.fspath(self.models_dir / dataset / "models")
        records = [self._record(dataset, name, data, root) for name in data["models"]]
        return sorted(records, key=lambda r: r.created)  # stable: ties keep save order

    def get(self, dataset: str, name: str) -> ModelRecord:
        """One model. Raises ``NotFoundError`` when it is not registered."""
        data = self._registry(dataset).read()
        self._entry(data, dataset, name)
        return self._record(dataset, name, data)

    def get_active(self, dataset: str) -> ModelRecord | None:
        """The active model of ``dataset``, or None."""
        data = self._registry(dataset).read()
        active = data.get("active")
        return self._record(dataset, active, data) if active in data["models"] else None

    @contextlib.contextmanager
    def dataset_held(self, dataset: str) -> Iterator[Path]:
        """Hold ``dataset``'s registry lock and yield its folder (``models_dir/<dataset>``,
        which may not exist), for moving or removing the folder as a whole (a dataset renamed
        or deleted, ``dataset_changes``); this store forgets its cached registry file after."""
        try:
            with self._registry(dataset).locked():
                yield self.models_dir / dataset
        finally:
            self._files.pop(dataset, None)

    def datasets(self) -> builtins.list[str]:
        """Sorted names of the datasets that have a registry."""
        if not self.models_dir.is_dir():
            return []
        return sorted(p.parent.name for p in self.models_dir.glob("*/registry.json")
                      if not p.parent.name.startswith("."))

    def load_metrics(self, dataset: str, name: str) -> dict[str, Any]:
        """metrics.json of a model. Raises NotFoundError / RegistryError when missing / garbled."""
        text = self._model_file(dataset, name, "metrics.json")
        try:
            return json.loads(text)
        except json.JSONDecodeError as err:
            raise RegistryError(f"metrics.json of model {name!r} is not valid JSON: {err}") from err

    def load_config(self, dataset: str, name: str) -> dict[str, Any]:
        """config.yaml of a model (``TrainingConfig.to_dict()`` form)."""
        text = self._model_file(dataset, name, "config.yaml")
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise RegistryError(f"config.yaml of model {name!r} is not valid YAML: {err}") from err
        return data if isinstance(data, dict) else {}

    def _model_file(self, dataset: str, name: str, filename: str) -> str:
        self._entry(self._registry(dataset).read(), dataset, name)
        path = self._folder(dataset, name) / filename
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError as err:
            raise NotFoundError(f"Model {name!r} has no {filename} ({path} is missing).") from err
        except OSError as err:
            raise RegistryError(f"Cannot read {path}: {describe_os_error(err)}.") from err

    # ----------------------------------------------------------------- changes
    def delete(self, dataset: str, name: str, allow_active: bool = False) -> None:
        """Remove a model's folder and registry entry.

        Raises:
            RegistryError: ``name`` is the active model and ``allow_active`` is False, or the
                registry cannot be written (the model is then kept).
        """
        registry = self._registry(dataset)
        with registry.locked():
            data = registry.read()
            self._entry(data, dataset, name)
            if data.get("active") == name and not allow_active:
                raise RegistryError(
                    f"{name!r} is the active model of dataset {dataset!r}. Set another model "
                    "active first, or confirm deleting it: tick 'also delete the active model' "
                    "(CLI: --allow-active).")
            folder = self._folder(dataset, name)
            trash = folder.with_name(f".deleted-{name}-{uuid.uuid4().hex[:8]}")
            if folder.exists():
                move_folder(folder, trash, f"Could not delete model {name!r}")
            try:
                del data["models"][name]
                if data.get("active") == name:
                    data["active"] = None
                if data.get("previous_active") == name:
                    data["previous_active"] = None
                registry.write(data)
            except BaseException:
                if trash.exists():
                    os.rename(trash, folder)
                raise
        shutil.rmtree(trash, ignore_errors=True)

    def set_active(self, dataset: str, name: str) -> ModelRecord:
        """Make ``name`` the active model; the one it replaces becomes ``previous_active``.

        Raises:
            RegistryError: the model's weights file is missing.
        """
        registry = self._registry(dataset)
        with registry.locked():
            data = registry.read()
            self._entry(data, dataset, name)
            self._require_weights(data, dataset, name)
            if data.get("active") != name:
                data["previous_active"] = data.get("active")
                data["active"] = name
                registry.write(data)
            return self._record(dataset, name, data)

    def _require_weights(self, data: dict[str, Any], dataset: str, name: str) -> None:
        record = self._record(dataset, name, data)
        if record.status == STATUS_MISSING_WEIGHTS:
            raise RegistryError(f"Model {name!r} cannot be made active: its weights file "
                                f"{record.weights_path} is missing. Delete the model or "
                                "retrain it.")

    def rollback_active(self, dataset: str) -> ModelRecord:
        """Swap the active model with the previously active one.

        Raises:
            RegistryError: there is no previous active model, or its weights are missing.
        """
        with self._registry(dataset).update() as data:
            previous = data.get("previous_active")
            if previous not in data["models"]:
                raise RegistryError(f"Dataset {dataset!r} has no previously active model to "
                                    "roll back to.")
            self._require_weights(data, dataset, previous)
            data["active"], data["previous_active"] = previous, data.get("active")
        return self._record(dataset, previous, data)

    def rename(self, dataset: str, old: str, new: str) -> ModelRecord:
        """Rename a model (folder and entry); active/previous_active follow it.

        Raises:
            RegistryError: ``new`` is taken, or the folder cannot be renamed.
        """
        validate_name(new, "New model name")
        registry = self._registry(dataset)
        with registry.locked():
            data = registry.read()
            self._entry(data, dataset, old)
            if new == old:
                return self._record(dataset, old, data)
            self._check_free(data, dataset, new)
            src, dst = self._folder(dataset, old), self._folder(dataset, new)
            if src.exists():
                move_folder(src, dst, f"Could not rename model {old!r}")
            try:
                data["models"] = {(new if k == old else k): v for k, v in data["models"].items()}
                for key in ("active", "previous_active"):
                    if data.get(key) == old:
                        data[key] = new
                registry.write(data)
            except BaseException:
                if dst.exists():
                    os.rename(dst, src)
                raise
            return self._record(dataset, new, data)

    def update_info(self, dataset: str, name: str, notes: str | None = None,
                    tags: builtins.list[str] | None = None) -> ModelRecord:
        """Change a model's notes and/or tags (None leaves a field as it is)."""
        with self._registry(dataset).update() as data:
            entry = self._entry(data, dataset, name)
            if notes is not None:
                entry["notes"] = str(notes)
            if tags is not None:
                entry["tags"] = check_tags(tags)
        return self._record(dataset, name, data)

