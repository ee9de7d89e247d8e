"""The read-only demo in Chromium and through gradio_client: ``python app.py --host 0.0.0.0``
without a password (a public studio) serves the demo, not the full studio.

The app starts on a copy of the session's trained root (tests/conftest.py: ``trained_model_root``,
dataset ``tiny``, active model ``real``). It listens on 0.0.0.0; the tests reach it on
127.0.0.1 only.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from playwright.sync_api import expect

from .conftest import RunningApp, launch_studio
from .studio_page import open_tab, try_first_val_image

DATASET = "tiny"
DEMO_ENDPOINTS = {"/list_models", "/model_details", "/compare_models", "/predict"}


@pytest.fixture(scope="module")
def studio(tmp_path_factory, chromium_path, trained_model_root) -> Iterator[RunningApp]:
    """The app, public (``--host 0.0.0.0``) and without a password, on a copy of the root."""
    root = tmp_path_factory.mktemp("demo-root")
    for part in ("datasets", "models"):
        shutil.copytree(trained_model_root.root / part, root / part)
    with launch_studio(root, ["--host", "0.0.0.0"]) as app:
        yield app


@pytest.fixture
def page(browser, studio: RunningApp) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(studio.url)
    page.wait_for_selector("#demo-banner")
    yield page
    context.close()


def _root_files(root: Path) -> dict[str, bytes]:
    """Every file of the storage root (the registries, weights, datasets) but the app's log."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != "app.log"}


def test_banner_says_how_to_get_the_full_studio_and_nothing_can_start_a_job(page,
                                                                               studio) -> None:
    banner = page.locator("#demo-banner")
    expect(banner).to_contain_text("Read-only demo")
    expect(banner).to_contain_text("Training, dataset imports, uploads, renames, deletes and "
                                   "exports are off")
    expect(banner).to_contain_text("YOLO_STUDIO_AUTH=USER:PASS")
    expect(banner).to_contain_text("listening on 0.0.0.0")
    expect(page.locator("#models-table")).to_contain_text("real")  # opens on the model's dataset
    for tab in ("Train", "Monitor", "Manage & export"):
        expect(page.get_by_role("tab", name=tab)).to_have_count(0)
    for elem_id in ("start-btn", "cancel-btn", "jobs-table", "import-btn", "import-zip",
                    "weights-upload", "set-active-btn", "rollback-btn", "delete-btn",
                    "rename-btn", "export-btn", "download-weights-btn",
                    "auto-promote-checkbox"):
        expect(page.locator(f"#{elem_id}")).to_have_count(0)
    assert "read-only demo" in studio.log()


def test_try_runs_the_registered_model(page) -> None:
    expect(page.locator("#models-table")).to_contain_text("real")
    open_tab(page, "Try on an image")
    expect(page.locator("#try-model-dd input")).to_have_value(re.compile(r"\breal\b"))  # active
    try_first_val_image(page)
    expect(page.locator("#try-text-a")).to_contain_text("real")
    expect(page.locator("#try-text-a")).to_contain_text(re.compile(r"[1-9]\d* detections? \("))


def test_inspect_shows_the_registered_model(page) -> None:
    expect(page.locator("#model-dd input")).to_have_value("real")
    expect(page.locator("#model-info")).to_contain_text("real")


def test_gradio_api_has_no_endpoint_that_starts_a_job_or_changes_the_registry(studio) -> None:
    import httpx
    from gradio_client import Client, handle_file

    before = _root_files(studio.root)
    client = Client(studio.url, verbose=False)
    assert set(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) \
        == DEMO_ENDPOINTS
    for name, args in (("/start_training", (DATASET, "yolo11n.yaml", 1)),
                       ("/retry_job", ("x",)), ("/import_dataset", (None, "x")),
                       ("/set_active_model", (DATASET, "real")),
                       ("/delete_model", (DATASET, "real", True)),
                       ("/rename_model", (DATASET, "real", "other")),
                       ("/export_model", (DATASET, "real", "onnx"))):
        with pytest.raises(ValueError, match="Cannot find a function"):
            client.predict(*args, api_name=name)
        # nor behind the client's back: Gradio's HTTP route for a named event
        answer = httpx.post(f"{studio.url}gradio_api/call{name}", json={"data": list(args)})
        assert answer.status_code >= 400, (name, answer.text)
    image = sorted((studio.root / "datasets" / DATASET / "images" / "val").glob("*.jpg"))[0]
    _, text, detections, *_ = client.predict(  # Try through the API works
        DATASET, None, None, handle_file(str(image)), 0.001, 0.7, api_name="/predict")
    assert text.startswith("**real**") and detections["data"]
    table, _, summary = client.predict(DATASET, None, api_name="/list_models")
    assert [row[1] for row in table["data"]] == ["real"] and "active: **real**" in summary
    assert _root_files(studio.root) == before, "the registry (and every file) is unchanged"
    assert not (studio.root / "jobs").exists(), "no queue, no lock, no run folder"
    children = psutil.Process(studio.process.pid).children(recursive=True)
    assert children == [], f"the demo started processes (a training worker?): {children}"
