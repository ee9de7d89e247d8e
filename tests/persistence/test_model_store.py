"""ModelStore: layout, registry keys, active model, delete/rename, failures leave no trace."""

from __future__ import annotations

import errno
import json
import shutil
import threading
from pathlib import Path

import pytest
import yaml

from yolo_studio.errors import NotFoundError, RegistryError, ValidationError
from yolo_studio.persistence import json_store
from yolo_studio.persistence.model_store import ModelRecord, ModelStore

INFO = {"base_model": "yolo11n.yaml", "epochs_completed": 2, "best_map50": 0.42,
        "dataset_snapshot": "28 images, 3 classes", "dataset_hash": "abc123"}


def _save(store: ModelStore, name: str, weights: Path, dataset: str = "bccd",
          **info) -> ModelRecord:
    return store.save(dataset, name, weights, {"epochs": 2, "imgsz": 64},
                      {"final": {"epoch": 2, "map50": 0.42}, "history": []}, {**INFO, **info})


def _registry(store: ModelStore, dataset: str = "bccd") -> dict:
    return json.loads((store.models_dir / dataset / "registry.json").read_text())


def _model_dir_entries(store: ModelStore, dataset: str = "bccd") -> list[str]:
    return sorted(p.name for p in (store.models_dir / dataset / "models").iterdir())


def test_save_writes_the_seed_layout_and_registry_keys(tmp_path, weights):
    store = ModelStore(tmp_path / "models")
    record = _save(store, "first", weights, color="blue")
    folder = tmp_path / "models" / "bccd" / "models" / "first"
    assert (folder / "weights" / "best.pt").read_bytes() == weights.read_bytes()
    assert not (folder / "weights" / "best.pt").is_symlink()
    assert yaml.safe_load((folder / "config.yaml").read_text()) == {"epochs": 2, "imgsz": 64}
    assert json.loads((folder / "metrics.json").read_text())["final"]["map50"] == 0.42
    reg = _registry(store)
    assert reg["schema_version"] == 1 and reg["active"] is None and reg["previous_active"] is None
    entry = reg["models"]["first"]
    for key in ("created", "base_model", "epochs_completed", "best_map50", "dataset_snapshot",
                "dataset_hash", "status", "notes", "tags"):
        assert key in entry
    assert entry["created"].endswith("+00:00") and entry["color"] == "blue"
    assert record.weights_path == folder / "weights" / "best.pt"
    assert record.extra == {"color": "blue"} and record.best_map50 == 0.42
    assert store.load_config("bccd", "first")["imgsz"] == 64
    assert store.load_metrics("bccd", "first")["final"]["epoch"] == 2
    weights.unlink()  # the run folder may be deleted: the registered copy stays
    assert store.get("bccd", "first").status == "ok"


def test_bad_names_and_info_are_refused_before_anything_is_written(tmp_path, weights):
    store = ModelStore(tmp_path / "models")
    for dataset, name in [("bccd", "../evil"), ("a/b", "m"), ("bccd", "con"), ("bccd", "x" * 65),
                          ("bccd", "has space"), ("bccd", "")]:
        with pytest.raises(ValidationError):
            store.save(dataset, name, weights, {}, {}, INFO)
    with pytest.raises(ValidationError, match="best_map50"):
        _save(store, "m", weights, best_map50=42.0)
    with pytest.raises(ValidationError, match="JSON"):
        _save(store, "m", weights, extra=object())
    with pytest.raises(NotFoundError):
        store.save("bccd", "m", tmp_path / "nope.pt", {}, {}, INFO)
    assert not (tmp_path / "models").exists()


def test_duplicate_name_is_refused_clearly(tmp_path, weights):
    store = ModelStore(tmp_path / "models")
    _save(store, "m", weights)
    before = (store.models_dir / "bccd" / "registry.json").read_bytes()
    with pytest.raises(RegistryError, match="already exists.*choose another name"):
        _save(store, "m", weights, best_map50=0.9)
    assert (store.models_dir / "bccd" / "registry.json").read_bytes() == before
    assert _model_dir_entries(store) == ["m"]


def test_disk_full_while_copying_leaves_registry_and_folders_unchanged(tmp_path, weights,
                                                                       monkeypatch):
    store = ModelStore(tmp_path / "models")
    _save(store, "kept", weights)
    before = (store.models_dir / "bccd" / "registry.json").read_bytes()

    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shutil, "copyfile", full)
    with pytest.raises(RegistryError, match="disk is full") as info:
        _save(store, "new", weights)
    assert "Nothing was registered" in str(info.value)
    assert (store.models_dir / "bccd" / "registry.json").read_bytes() == before
    assert _model_dir_entries(store) == ["kept"]


def test_disk_full_while_writing_registry_removes_the_new_folder(tmp_path, weights, monkeypatch):
    store = ModelStore(tmp_path / "models")
    _save(store, "kept", weights)
    before = (store.models_dir / "bccd" / "registry.json").read_bytes()

    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(json_store.tempfile, "mkstemp", full)
    with pytest.raises(RegistryError, match="disk is full"):
        _save(store, "new", weights)
    assert (store.models_dir / "bccd" / "registry.json").read_bytes() == before
    assert _model_dir_entries(store) == ["kept"]


def test_active_model_previous_and_rollback(tmp_path, weights):
    store = ModelStore(tmp_path / "models")
    for name in ("a", "b", "c"):
        _save(store, name, weights)
    assert store.get_active("bccd") is None
    with pytest.raises(RegistryError, match="no previously active"):
        store.rollback_active("bccd")
    store.set_active("bccd", "a")
    store.set_active("bccd", "b")
    store.set_active("bccd", "b")  # no-op: must not forget "a"
    assert store.get_active("bccd").name == "b"
    assert _registry(store)["previous_active"] == "a"
    assert store.rollback_active("bccd").name == "a"
    assert _registry(store)["previous_active"] == "b"
    assert [r.name for r in store.list("bccd") if r.active] == ["a"]


def test_delete_refuses_the_active_model_unless_allowed(tmp_path, weights):
    store = ModelStore(tmp_path / "models")
    _save(store, "a", weights)
    _save(store, "b", weights)
    store.set_active("bccd", "a")
    store.set_active("bccd", "b")
    with pytest.raises(RegistryError, match="active model.*also delete the active model.*--allow-active"):
        store.delete("bccd", "b")
    assert _model_dir_entries(store) == ["a", "b"]
    store.delete("bccd", "b", allow_active=True)
    assert _registry(store)["active"] is None and _registry(store)["previous_active"] == "a"
    assert _model_dir_entries(store) == ["a"]
    store.delete("bccd", "a")
    assert store.list("bccd") == [] and _model_dir_entries(store) == []
    assert _registry(store)["previous_active"] is None
    with pytest.raises(NotFoundError, match="No model 'a'"):
        store.delete("bccd", "a")


def test_missing_weights_are_listed_with_a_status_and_never_made_active(tmp_path, weights):
    store = ModelStore(tmp_path / "models")
    record = _save(store, "gone", weights)
    record.weights_path.unlink()
    [listed] = store.list("bccd")
    assert listed.name == "gone" and listed.status == "missing-weights"
    with pytest.raises(RegistryError, match="weights file .* is missing"):
        store.set_active("bccd", "gone")


def test_list_is_sorted_by_created_and_get_reports_unknown(tmp_path, weights):
    store = ModelStore(tmp_path / "models")
    for name in ("zeta", "alpha", "mid"):
        _save(store, name, weights)
    records = store.list("bccd")
    assert [r.name for r in records] == ["zeta", "alpha", "mid"]
    assert [r.created for r in records] == sorted(r.created for r in records)
    assert store.list("other") == []
    with pytest.raises(NotFoundError, match="zeta"):
        store.get("bccd", "nope")
    assert store.datasets() == ["bccd"]


def test_rename_moves_folder_and_follows_active(tmp_path, weights):
    store = ModelStore(tmp_path / "models")
    _save(store, "old", weights)
    _save(store, "taken", weights)
    store.set_active("bccd", "old")
    with pytest.raises(RegistryError, match="already exists"):
        store.rename("bccd", "old", "taken")
    with pytest.raises(ValidationError):
        store.rename("bccd", "old", "../x")
    record = store.rename("bccd", "old", "new")
    assert record.active and record.weights_path.is_file()
    assert _model_dir_entries(store) == ["new", "taken"]
    assert _registry(store)["active"] == "new" and "old" not in _registry(store)["models"]


def test_update_info_changes_notes_and_tags(tmp_path, weights):
    store = ModelStore(tmp_path / "models")
    _save(store, "m", weights)
    record = store.update_info("bccd", "m", notes="good run", tags=["baseline", " v2 ", ""])
    assert record.notes == "good run" and record.tags == ("baseline", "v2")
    assert store.update_info("bccd", "m", notes=None).tags == ("baseline", "v2")
    with pytest.raises(ValidationError, match="tags"):
        store.update_info("bccd", "m", tags="not-a-list")


def test_orphan_folder_is_reported_not_overwritten(tmp_path, weights):
    store = ModelStore(tmp_path / "models")
    orphan = tmp_path / "models" / "bccd" / "models" / "m"
    orphan.mkdir(parents=True)
    (orphan / "keep.txt").write_text("user data")
    with pytest.raises(RegistryError, match="not in the registry"):
        _save(store, "m", weights)
    assert (orphan / "keep.txt").read_text() == "user data"


def test_threads_saving_at_once_lose_no_entry(tmp_path, weights):
    store = ModelStore(tmp_path / "models")
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            _save(store, f"t{i}", weights)
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(_registry(store)["models"]) == sorted(f"t{i}" for i in range(8))
