"""The read-only demo: its Blocks hold only reading endpoints, and the studio behind it can
neither start a job nor change the registry or the datasets."""

from __future__ import annotations

import inspect
import shutil
from pathlib import Path

import pytest
from dataset_files import TINY

from yolo_studio.config import StudioSettings, TrainingConfig
from yolo_studio.errors import ValidationError
from yolo_studio.persistence.dataset_store import DatasetStore
from yolo_studio.persistence.model_store import ModelStore
from yolo_studio.training.manager import TrainingManager
from yolo_studio.training.model_service import ModelService
from yolo_studio.ui import demo_app
from yolo_studio.ui.app import build_app
from yolo_studio.ui.hosting import plan, server_access
from yolo_studio.ui.read_only import (DATASET_READS, MODEL_READS, REGISTRY_READS,
                                      ReadOnlyStudio)

DATASET = "bccd-tiny"
#: Endpoints of the full studio's other parts (train, queue, import, upload, manage, export);
#: none may exist in the demo, not even as a private event.
FULL_ONLY = {"start_training", "cancel_training", "import_dataset", "upload_weights",
            "move_job_up", "move_job_down", "remove_job", "retry_job", "resume_job",
            "set_active_model", "rollback_active", "delete_model", "rename_model",
            "update_model_info", "export_model", "download_weights", "set_auto_promote",
            "dataset_info", "delete_dataset", "rename_dataset"}


@pytest.fixture
def settings(tmp_path: Path) -> StudioSettings:
    settings = StudioSettings(tmp_path / "root")
    shutil.copytree(TINY, settings.datasets_dir / DATASET)
    weights = tmp_path / "w.pt"
    weights.write_bytes(b"not-a-real-model")
    for name in ("first", "second"):
        ModelStore(settings.models_dir).save(
            DATASET, name, weights, TrainingConfig(dataset=DATASET).to_dict(),
            {"final": {"epoch": 1, "map50": 0.5}, "history": [{"epoch": 1, "map50": 0.5}]},
            {"base_model": "yolo11n.yaml", "epochs_completed": 1, "best_map50": 0.5,
             "dataset_snapshot": "28 images, 3 classes", "dataset_hash": "abc"})
    return settings


def _demo_access():
    return server_access(plan("0.0.0.0", 7860, False, None, {}), True, {})


def _api_names(blocks) -> dict[str, str]:
    return {d["api_name"]: d["api_visibility"]
            for d in blocks.get_config_file()["dependencies"] if d.get("api_name")}


def _elem_ids(blocks) -> set[str]:
    return {c["props"].get("elem_id") for c in blocks.get_config_file()["components"]}


def test_demo_blocks_serve_only_reading_endpoints(settings) -> None:
    blocks = build_app(ReadOnlyStudio(settings), None, _demo_access())
    names = _api_names(blocks)
    public = {name for name, visibility in names.items() if visibility != "private"}
    assert public == set(demo_app.DEMO_ENDPOINTS)
    assert not FULL_ONLY & set(names)
    endpoints = blocks.get_api_info()["named_endpoints"]
    assert set(endpoints) == {f"/{name}" for name in demo_app.DEMO_ENDPOINTS}
    ids = _elem_ids(blocks)
    assert {"demo-banner", "models-table", "try-run-btn", "compare-btn", "model-info"} <= ids
    assert not ids & {"start-btn", "import-btn", "weights-upload", "delete-btn", "export-btn",
                      "set-active-btn", "rename-btn", "jobs-table", "storage-note"}


def test_demo_banner_and_storage_note_are_on_the_page(settings) -> None:
    access = server_access(plan(None, 7860, False, None, {"SPACE_ID": "me/s"}), False,
                           {"SPACE_ID": "me/s"}, settings.root)
    blocks = build_app(ReadOnlyStudio(settings), None, access)
    values = {c["props"].get("elem_id"): c["props"].get("value")
              for c in blocks.get_config_file()["components"]}
    assert "Duplicate this Space" in values["demo-banner"]
    if access.storage_note:  # unless this machine has a writable /data holding tmp_path
        assert "lost when this Space restarts" in values["storage-note"]


def test_full_studio_shows_the_storage_note_only_when_set(settings) -> None:
    manager = TrainingManager(settings)  # not started
    env = {"SPACE_ID": "me/s", "YOLO_STUDIO_AUTH": "u:p"}
    access = server_access(plan(None, 7860, False, None, env), False, env, settings.root)
    full = build_app(manager, None, access)
    assert "start-btn" in _elem_ids(full) and "demo-banner" not in _elem_ids(full)
    assert ("storage-note" in _elem_ids(full)) is bool(access.storage_note)
    local = build_app(manager, None, server_access(plan(None, 7860, False, None, {})))
    assert "storage-note" not in _elem_ids(local)


def test_read_only_studio_reads(settings) -> None:
    studio = ReadOnlyStudio(settings)
    assert studio.datasets.list() == [DATASET]
    assert sorted(r.name for r in studio.models.list(DATASET)) == ["first", "second"]
    assert studio.registry.model_details(DATASET, "first").record.name == "first"
    assert studio.registry.compare_models(DATASET, ["first", "second"]).names
    assert studio.jobs() == [] and studio.auto_promote is False
    assert demo_app.first_dataset(studio, ["empty", DATASET]) == DATASET
    assert demo_app.first_dataset(studio, []) is None
    studio.close()


def _writers(cls: type, reads: frozenset[str]) -> list[str]:
    return [name for name, _ in inspect.getmembers(cls, inspect.isfunction)
            if not name.startswith("_") and name not in reads]


@pytest.mark.parametrize("part, cls, reads", [
    ("registry", ModelService, REGISTRY_READS), ("models", ModelStore, MODEL_READS),
    ("datasets", DatasetStore, DATASET_READS)])
def test_read_only_studio_refuses_every_other_method(settings, part, cls, reads) -> None:
    registry = settings.models_dir / DATASET / "registry.json"
    before = registry.read_bytes()
    studio = ReadOnlyStudio(settings)
    writers = _writers(cls, reads)
    assert writers, f"{cls.__name__} has methods that change things"
    for name in writers:  # a method added later is refused too, until it is declared a read
        with pytest.raises(ValidationError, match="read-only demo"):
            getattr(getattr(studio, part), name)(DATASET, "first", "x")
    assert registry.read_bytes() == before
    assert sorted(p.name for p in settings.datasets_dir.iterdir()) == [DATASET]


def test_read_only_studio_starts_no_job(settings) -> None:
    studio = ReadOnlyStudio(settings)
    for action in ("start_training", "retry_job", "cancel", "remove_job", "move_job", "reset"):
        with pytest.raises(ValidationError, match="read-only demo"):
            getattr(studio, action)(TrainingConfig(dataset=DATASET))
    assert not settings.jobs_dir.exists(), "no queue file, no lock, no run folder"
    assert not hasattr(studio, "queue") and not hasattr(studio, "executor")
