"""End to end in Chromium: the base models and a duration estimate before Start; train from the
Train tab, watch the Monitor tab (charts, augmented training batches), find the model in the
Models tab; reload mid-run; cancel while the chart streams; an Ultralytics argument from the
Advanced section to the command preview and the run."""

from __future__ import annotations

import json
import os

import yaml
from playwright.sync_api import expect

from .studio_page import (TRAIN_TIMEOUT_MS, choose, fill, metric_epochs, metric_points,
                          model_row, open_tab, registry, start_training, status, table_rows,
                          toast, wait_for_points)

PREVIEW = "#batch-preview-gallery .thumbnail-item"  # the Monitor's training-batch mosaics


def offered_jobs(page) -> list[str]:
    """The job selector's options, in a freshly opened list (closed again afterwards)."""
    page.locator("#job-select input").click()
    texts = page.get_by_role("option").all_inner_texts()
    page.locator("#jobs-table").click()  # closes it; after Escape a click would not reopen
    return texts


def test_base_models_listed_and_the_duration_estimated_before_start(page, studio) -> None:
    open_tab(page, "Train")
    page.locator("#dataset-info").click()
    # the page's load fills the list once the server has read it from Ultralytics (seconds)
    expect(page.locator("#base-model-dd")).to_be_visible()
    for _ in range(60):
        page.locator("#base-model-dd input").click()
        if page.get_by_role("option").count() > 1:
            break
        page.locator("#dataset-info").click()  # closes the list
        page.wait_for_timeout(1_000)
    for label in ("yolo26n.yaml", "yolo11n.pt (download)", "yolov8x.pt (download)"):
        expect(page.get_by_role("option", name=label, exact=True)).to_have_count(1)
    expect(page.get_by_role("option", name="yolov8n-seg.pt (download)")).to_have_count(0)
    page.locator("#dataset-info").click()  # closes the list
    page.locator("#weights-accordion").get_by_text("Base weights").click()
    expect(page.locator("#base-models-table")).to_contain_text("yolo26n.pt")
    expect(page.locator("#base-models-table")).to_contain_text("download (needs internet)")
    expect(page.locator("#base-models-note")).to_contain_text("Ultralytics' weights folder")
    choose(page, "dataset-dd", "bccd-tiny")
    choose(page, "base-model-dd", "yolo11n.yaml")
    for field, value in (("epochs", 2), ("imgsz", 64), ("batch", 8)):
        fill(page, field, value)
    page.locator("#estimate-btn").click()  # a real batch measured on this machine's CPU
    text = page.locator("#estimate-text")
    expect(text).to_contain_text("Estimated duration: about", timeout=180_000)
    expect(text).to_contain_text("per batch of 8 at imgsz 64")
    expect(text).to_contain_text("2 epochs x 3 batches")  # 20 train images, batches of 8
    from gradio_client import Client

    client = Client(studio.url, verbose=False)
    rows = client.predict(api_name="/list_base_models")["data"]
    assert ["yolo11n.yaml", "YOLO11, from scratch (model config)", "none needed"] in rows
    fields = ["bccd-tiny", "yolo11n.yaml", 5, 8, 64, 100, 0, 0.01, 0.01, "", 0.9, "AdamW", 0,
              "", False, ""]  # the device of the page's estimate ("" = automatic: this CPU)
    again = client.predict(*fields, api_name="/estimate_duration")  # measured: answered at once
    assert "5 epochs x 3 batches" in again and "per batch of 8 at imgsz 64" in again


def test_train_two_epochs_monitor_and_register(page, studio) -> None:
    start_training(page, "browser-e2e", epochs=2)
    expect(page.locator("#jobs-table")).to_contain_text("TRAINING", timeout=60_000)
    # a training job is not offered as QUEUED (for long: the choices arrive a round trip
    # after the table, and an open list may show the previous ones)
    for _ in range(30):
        if not any("QUEUED" in text for text in offered_jobs(page)):
            break
        page.wait_for_timeout(500)
    assert not any("QUEUED" in text for text in offered_jobs(page))
    open_tab(page, "Monitor")
    expect(status(page)).to_contain_text("TRAINING", timeout=60_000)
    expect(status(page)).to_contain_text("browser-e2e")
    assert wait_for_points(page, 1) >= 1
    expect(status(page)).to_contain_text("COMPLETED", timeout=TRAIN_TIMEOUT_MS)
    assert metric_points(page) == 2, "one point per trained epoch, no extra final point"
    assert metric_epochs(page) == [1, 2]
    expect(page.locator("#progress-text")).to_contain_text("epoch 2/2")
    expect(page.locator("#final-text")).to_contain_text("best.pt on val")
    expect(page.locator(PREVIEW)).to_have_count(3)  # 20 train images, batch 8: 3 mosaics
    from gradio_client import Client

    mosaics = Client(studio.url, verbose=False).predict(api_name="/training_batches")
    assert [item["caption"] for item in mosaics] == [f"train batch{i}" for i in range(3)]
    open_tab(page, "Models")
    row = model_row(page, "browser-e2e")
    expect(row).to_have_count(1, timeout=30_000)
    expect(row).to_contain_text("★")
    expect(row).to_contain_text("yolo11n.yaml")
    expect(page.locator("#model-plots-gallery")).to_contain_text("train batch0 (augmented)")
    entry = registry(studio.root, "bccd-tiny")
    assert entry["active"] == "browser-e2e"
    assert entry["models"]["browser-e2e"]["epochs_completed"] == 2
    expect(page.locator("#model-dd input")).to_have_value("browser-e2e")
    page.locator("#delete-btn").click()  # the active model is protected ...
    expect(toast(page, "also delete the active model")).to_be_visible()
    assert "browser-e2e" in registry(studio.root, "bccd-tiny")["models"]
    page.locator("#delete-active-checkbox input").check()  # ... until the user confirms
    page.locator("#delete-btn").click()
    expect(model_row(page, "browser-e2e")).to_have_count(0)
    assert registry(studio.root, "bccd-tiny")["models"] == {}


def test_history_drawn_when_monitor_opened_after_the_stream_started(page, studio) -> None:
    """The stream's first update carries the whole history; it must reach the charts even when
    the Monitor tab is opened later (Gradio mounts an inactive tab's children lazily). After a
    finished run nothing new arrives, so a lost first update would leave the charts empty."""
    start_training(page, "browser-late", epochs=2)
    open_tab(page, "Monitor")
    expect(status(page)).to_contain_text("COMPLETED — bccd-tiny / browser-late",
                                         timeout=TRAIN_TIMEOUT_MS)
    page.reload()
    page.wait_for_selector("#start-btn")
    expect(page.locator("#dataset-info")).to_contain_text("bccd", timeout=30_000)
    page.wait_for_timeout(3_000)  # the first update arrives while the Train tab is shown
    open_tab(page, "Monitor")
    assert wait_for_points(page, 2, timeout_ms=15_000) == 2
    assert metric_epochs(page) == [1, 2]


def test_reload_mid_run_redraws_history_then_cancel(page, studio) -> None:
    page.locator("#cancel-btn").click()  # nothing is training yet: it says so
    expect(toast(page, "No job is training")).to_be_visible()
    start_training(page, "browser-cancel", epochs=30)
    open_tab(page, "Monitor")
    expect(status(page)).to_contain_text("browser-cancel", timeout=60_000)
    seen = wait_for_points(page, 2)
    page.reload()
    page.wait_for_selector("#start-btn")
    open_tab(page, "Monitor")
    expect(status(page)).to_contain_text("TRAINING")
    assert wait_for_points(page, seen, timeout_ms=15_000) >= seen
    expect(page.locator(PREVIEW)).to_have_count(3)  # mosaics of epoch 1, shown mid-run
    expect(status(page)).to_contain_text("TRAINING")
    epochs = metric_epochs(page)
    assert epochs[:seen] == list(range(1, seen + 1)), f"history lost on reload: {epochs}"
    wait_for_points(page, seen + 1)  # and it follows on
    if os.environ.get("YOLO_STUDIO_SCREENSHOT"):
        page.screenshot(path=os.environ["YOLO_STUDIO_SCREENSHOT"], full_page=True)
    page.locator("#monitor-cancel-btn").click()
    expect(status(page)).to_contain_text("CANCELLED", timeout=30_000)
    assert "browser-cancel" not in registry(studio.root, "bccd-tiny")["models"]
    open_tab(page, "Models")
    expect(model_row(page, "browser-cancel")).to_have_count(0)


def test_monitor_cancel_is_clickable_while_the_start_notice_shows(page, studio) -> None:
    """The start notice pops up over the page's top right for
    seconds; the Monitor's Cancel must not sit under it."""
    start_training(page, "browser-quick-cancel", epochs=30)
    expect(toast(page, "starts now")).to_be_visible()
    open_tab(page, "Monitor")
    expect(status(page)).to_contain_text("TRAINING", timeout=60_000)
    expect(toast(page, "starts now")).to_be_visible()  # still up when Cancel is pressed
    on_top = page.evaluate("""() => {  // what a click on the button's centre reaches
        const b = document.querySelector('#monitor-cancel-btn'), r = b.getBoundingClientRect();
        return b.contains(document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2)); }""")
    assert on_top, "a notice covers the Monitor's Cancel button"
    page.locator("#monitor-cancel-btn").click()
    expect(status(page)).to_contain_text("CANCELLED", timeout=30_000)
    assert "browser-quick-cancel" not in registry(studio.root, "bccd-tiny")["models"]


def test_an_augmentation_argument_reaches_the_command_and_the_run(page, studio) -> None:
    """An augmentation argument changed in the Advanced section is marked, shows in the YAML
    view and the command preview, reaches the real run's args.yaml, and the form comes back
    with it on reload (the dataset's last configuration). Last in the module: the later
    pages of this app open with this form."""
    open_tab(page, "Train")
    choose(page, "dataset-dd", "bccd-tiny")
    choose(page, "base-model-dd", "yolo11n.yaml")
    for elem_id, value in (("epochs", 1), ("imgsz", 64), ("batch", 8), ("model-name", "aug")):
        fill(page, elem_id, value)
    page.locator("#advanced").get_by_text("Advanced").click()
    fill(page, "workers", 0)
    fill(page, "device", "cpu")
    page.locator("#args-augmentation").get_by_text("Augmentation").click()
    expect(page.locator("#arg-mosaic")).to_contain_text("mosaic augmentation probability")
    fill(page, "arg-mosaic", 0)
    expect(page.locator("#arg-mosaic")).to_contain_text("mosaic ● changed (default 1.0)")
    expect(page.locator("#args-augmentation")).to_contain_text("Augmentation (1 changed)")
    expect(page.locator("#extra-args")).to_contain_text("mosaic: 0.0")
    page.locator("#args-control").get_by_text("Training control").click()
    page.locator("#arg-plots input").uncheck()  # a checkbox; also spares the run its plots
    expect(page.locator("#extra-args")).to_contain_text("plots: false")
    page.locator("#command-accordion").get_by_text("Command preview").click()
    preview = page.locator("#command-preview")
    expect(preview).to_contain_text("plots=False verbose=False device=cpu mosaic=0.0")
    expect(preview).to_contain_text("model=yolo11n.yaml epochs=1")
    page.locator("#start-btn").click()
    row = table_rows(page, "jobs-table", "aug")
    expect(row).to_contain_text("COMPLETED", timeout=TRAIN_TIMEOUT_MS)
    jobs = json.loads((studio.root / "jobs" / "queue.json").read_text())["jobs"]
    [job_id] = [job["job_id"] for job in jobs if job["model_name"] == "aug"]
    args = yaml.safe_load((studio.root / "jobs" / "runs" / job_id / "args.yaml").read_text())
    assert (args["mosaic"], args["plots"], args["epochs"], args["imgsz"]) == (0.0, False, 1, 64)
    page.reload()  # the dataset's last configuration comes back
    page.wait_for_selector("#start-btn")
    expect(page.locator("#epochs input")).to_have_value("1")
    page.locator("#advanced").get_by_text("Advanced").click()
    expect(page.locator("#extra-args")).to_contain_text("mosaic: 0.0")
    page.locator("#args-augmentation").get_by_text("Augmentation").click()
    expect(page.locator("#arg-mosaic input").first).to_have_value("0")
    expect(page.locator("#arg-mosaic")).to_contain_text("changed")
