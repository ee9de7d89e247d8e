"""Named presets of the Train form and the last configuration used per dataset.

Two locked JSON files under the storage root (``json_store.JsonFile``: atomic writes, a corrupt
file set aside and reported, never reset):

- ``<root>/presets/train_presets.json``: ``{"schema_version": 1, "presets": {name: fields}}``;
  a preset is the form without the dataset and the model name (it is loaded onto whichever
  dataset is chosen, and a model name is unique).
- ``<root>/presets/last_train_configs.json``: ``{"schema_version": 1, "datasets": {dataset:
  {"used": ISO-8601 UTC, "config": fields}}}``: the last configuration started per dataset,
  which the Train tab shows again when a page opens.

``fields`` is ``TrainingConfig.to_dict()`` (less what is said above); reading builds a
``TrainingConfig`` through ``from_dict``, so an entry written before a field existed still loads.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

from ..config import TrainingConfig
from ..errors import NotFoundError, ValidationError
from ..names import validate_name
from .json_store import JsonFile

SCHEMA_VERSION = 1
#: Fields a preset leaves out: it applies to any dataset, and a model name is used once.
NOT_IN_PRESET = ("dataset", "model_name", "notes")


def _document(key: str) -> Any:
    def validate(data: Any) -> str | None:
        ok = isinstance(data, dict) and isinstance(data.get(key), dict)
        return None if ok else f"it has no '{key}' mapping"
    return validate


class TrainPresets:
    """The presets and last configurations of one storage root.

    Args:
        root: The storage root (``StudioSettings.root``); files go to ``root/presets/``.
    """

    def __init__(self, root: str | Path) -> None:
        folder = Path(root) / "presets"
        self._presets = JsonFile(folder / "train_presets.json",
                                 lambda: {"schema_version": SCHEMA_VERSION, "presets": {}},
                                 _document("presets"), what="train presets file")
        self._last = JsonFile(folder / "last_train_configs.json",
                              lambda: {"schema_version": SCHEMA_VERSION, "datasets": {}},
                              _document("datasets"), what="last train configurations file")

    def names(self) -> list[str]:
        """The presets' names, sorted.

        Raises:
            RegistryError: the file is corrupt (set aside) or cannot be read.
        """
        return sorted(self._presets.read()["presets"])

    def save(self, name: str, config: TrainingConfig) -> str:
        """Save ``config`` (less ``NOT_IN_PRESET``) as preset ``name``, replacing one of that
        name; returns the name as stored (Unicode NFC).

        Raises:
            ValidationError: not a valid name (``validate_name``). RegistryError: not written.
        """
        name = validate_name((name or "").strip(), "Preset name")
        fields = {k: v for k, v in config.to_dict().items() if k not in NOT_IN_PRESET}
        with self._presets.update() as data:
            data["presets"][name] = fields
        return name

    def load(self, name: str, dataset: str) -> TrainingConfig:
        """Preset ``name`` as a configuration for ``dataset``.

        Raises:
            NotFoundError: no such preset (the message lists them). ValidationError: the preset
                no longer makes a valid configuration (the message says why).
        """
        presets = self._presets.read()["presets"]
        if name not in presets:
            have = ", ".join(sorted(presets)) or "none yet"
            raise NotFoundError(f"No preset {name!r}; saved presets: {have}.")
        try:
            return TrainingConfig.from_dict({**presets[name], "dataset": dataset})
        except (ValidationError, TypeError) as err:
            raise ValidationError(f"Preset {name!r} cannot be loaded: {err} Save it again "
                                  "from a corrected form.") from err

    def delete(self, name: str) -> None:
        """Delete preset ``name``.

        Raises:
            NotFoundError: no such preset.
        """
        with self._presets.update() as data:
            if data["presets"].pop(name, None) is None:
                raise NotFoundError(f"No preset {name!r} to delete.")

    def remember(self, config: TrainingConfig) -> None:
        """Keep ``config`` (less its model name) as the last one used for its dataset.

        Raises:
            RegistryError: the file cannot be written.
        """
        fields = {k: v for k, v in config.to_dict().items() if k not in ("model_name", "notes")}
        used = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        with self._last.update() as data:
            data["datasets"][config.dataset] = {"used": used, "config": fields}

    def last(self, datasets: list[str]) -> TrainingConfig | None:
        """The most recently used configuration of one of ``datasets`` (the existing ones), or
        None when none of them has one that is still valid."""
        entries = self._last.read()["datasets"]
        found = sorted(((entries[d].get("used", ""), d) for d in datasets
                        if isinstance(entries.get(d), dict)), reverse=True)
        for _, dataset in found:
            try:
                return TrainingConfig.from_dict({**entries[dataset]["config"],
                                                 "dataset": dataset})
            except (ValidationError, TypeError, KeyError):
                continue  # written by another version and no longer valid: skip it
        return None
