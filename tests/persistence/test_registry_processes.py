"""The registry with real processes and real damage: concurrent writers, a writer killed
mid-write, a corrupt or truncated registry.json."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

import pytest

from yolo_studio.errors import RegistryError
from yolo_studio.persistence.model_store import ModelStore

INFO = {"base_model": "yolo11n.yaml", "epochs_completed": 1, "best_map50": 0.1,
        "dataset_snapshot": "28 images, 3 classes"}


def _save_one(models_dir: str, weights: str, index: int, start) -> str:
    """Child process: wait for the common start, then save one model."""
    start.wait(60)
    ModelStore(models_dir).save("bccd", f"proc{index:02d}", weights, {"i": index},
                                {"final": {}}, INFO)
    return f"proc{index:02d}"


def _save_then_hang_before_replace(models_dir: str, weights: str, ready) -> None:
    """Child process: write the registry temp file, then hang where os.replace would run."""
    import time

    from yolo_studio.persistence import json_store

    def hang(*_args, **_kwargs):
        ready.set()
        time.sleep(600)

    json_store.os.replace = hang
    ModelStore(models_dir).save("bccd", "victim", weights, {}, {}, INFO)


def test_twenty_processes_saving_at_once_lose_no_entry(tmp_path, weights):
    ctx = multiprocessing.get_context("spawn")
    models_dir = tmp_path / "models"
    with ctx.Manager() as manager:
        start = manager.Event()
        with ctx.Pool(20) as pool:
            pending = [pool.apply_async(_save_one, (str(models_dir), str(weights), i, start))
                       for i in range(20)]
            start.set()
            saved = [p.get(timeout=120) for p in pending]
    store = ModelStore(models_dir)
    names = sorted(r.name for r in store.list("bccd"))
    assert names == sorted(saved) == [f"proc{i:02d}" for i in range(20)]
    assert all(r.weights_path.is_file() for r in store.list("bccd"))
    assert sorted(os.listdir(models_dir / "bccd" / "models")) == names


def test_writer_killed_mid_write_leaves_previous_registry_valid(tmp_path, weights):
    models_dir = tmp_path / "models"
    store = ModelStore(models_dir)
    store.save("bccd", "before", weights, {}, {}, INFO)
    registry = models_dir / "bccd" / "registry.json"
    before = registry.read_bytes()
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    child = ctx.Process(target=_save_then_hang_before_replace,
                        args=(str(models_dir), str(weights), ready))
    child.start()
    try:
        assert ready.wait(60), "child never reached the registry write"
        assert list(registry.parent.glob("registry.json.*.tmp")), "temp file not written"
    finally:
        child.kill()
        child.join(30)
    assert registry.read_bytes() == before
    assert [r.name for r in store.list("bccd")] == ["before"]
    store.save("bccd", "after", weights, {}, {}, INFO)  # the dead writer's lock is gone
    assert [r.name for r in store.list("bccd")] == ["before", "after"]
    assert not list(registry.parent.glob("registry.json.*.tmp"))  # its temp file cleaned up
    # The child died after renaming its model folder into place, before registering it: the
    # registry never points at it, and reusing the name says what to do instead of overwriting.
    assert "victim" not in {r.name for r in store.list("bccd")}
    with pytest.raises(RegistryError, match="not in the registry"):
        store.save("bccd", "victim", weights, {}, {}, INFO)
    assert not [p for p in (models_dir / "bccd" / "models").iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("damage", ["garbage", "truncated", "wrong-shape"])
def test_corrupt_registry_is_set_aside_and_reported(tmp_path, weights, damage):
    models_dir = tmp_path / "models"
    store = ModelStore(models_dir)
    store.save("bccd", "m", weights, {}, {}, INFO)
    registry = models_dir / "bccd" / "registry.json"
    good = registry.read_text()
    bad = {"garbage": "\x00\x01 not json", "truncated": good[: len(good) // 2],
           "wrong-shape": json.dumps({"active": None, "models": ["m"]})}[damage]
    registry.write_text(bad)
    with pytest.raises(RegistryError, match="corrupt.*renamed to registry.json.corrupt-") as err:
        store.list("bccd")
    [aside] = list(registry.parent.glob("registry.json.corrupt-*"))
    assert aside.read_text() == bad and aside.name in str(err.value)
    assert not registry.exists()
    assert store.list("bccd") == []  # starts empty only after telling the user


def test_registry_from_a_newer_studio_is_refused_and_left_alone(tmp_path):
    registry = tmp_path / "models" / "bccd" / "registry.json"
    registry.parent.mkdir(parents=True)
    registry.write_text(json.dumps({"schema_version": 99, "active": None, "models": {}}))
    with pytest.raises(RegistryError, match="newer"):
        ModelStore(tmp_path / "models").list("bccd")
    assert registry.exists() and not list(registry.parent.glob("*.corrupt-*"))


def test_seed_registry_without_schema_version_is_read(tmp_path, weights):
    registry = tmp_path / "models" / "bccd" / "registry.json"
    registry.parent.mkdir(parents=True)
    registry.write_text(json.dumps({"active": "old", "models": {"old": {
        "created": "2024-01-01T00:00:00+00:00", "base_model": "yolo11n.pt",
        "epochs_completed": 5, "best_map50": 0.3, "dataset_snapshot": "3 images, 1 class"}}}))
    store = ModelStore(tmp_path / "models")
    [old] = store.list("bccd")
    assert old.active and old.status == "missing-weights" and old.epochs_completed == 5
    store.save("bccd", "new", weights, {}, {}, INFO)
    data = json.loads(registry.read_text())
    assert data["schema_version"] == 1 and data["previous_active"] is None
    assert Path(store.get("bccd", "new").weights_path).is_file()
