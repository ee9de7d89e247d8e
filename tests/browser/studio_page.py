"""Helpers that drive the studio's page by its stable elem_ids (Playwright sync API)."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import Page, expect

TRAIN_TIMEOUT_MS = 180_000


def wait_until_loaded(page: Page) -> None:
    """Wait for the page's load event to fill the Train form (a dataset picked): a value
    typed or chosen before it lands would be overwritten by it."""
    page.wait_for_selector("#start-btn")
    page.wait_for_function("() => document.querySelector('#dataset-dd input')?.value")


def choose(page: Page, elem_id: str, value: str) -> None:
    """Pick ``value`` in the Gradio dropdown ``#elem_id``."""
    page.locator(f"#{elem_id} input").click()
    page.get_by_role("option", name=value, exact=True).click()
    expect(page.locator(f"#{elem_id} input")).to_have_value(value)


def fill(page: Page, elem_id: str, value: object) -> None:
    """Type ``value`` into the input of ``#elem_id`` and leave the field (commits it)."""
    box = page.locator(f"#{elem_id} input, #{elem_id} textarea").first
    box.fill(str(value))
    box.press("Tab")


def open_tab(page: Page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def start_training(page: Page, model_name: str, epochs: int, imgsz: int = 64) -> None:
    """Fill the Train tab for a small CPU run of bccd-tiny from scratch and press Start."""
    open_tab(page, "Train")
    choose(page, "dataset-dd", "bccd-tiny")
    expect(page.locator("#dataset-info")).to_contain_text("28 images")
    choose(page, "base-model-dd", "yolo11n.yaml")
    fill(page, "epochs", epochs)
    fill(page, "imgsz", imgsz)
    fill(page, "batch", 8)
    fill(page, "model-name", model_name)
    page.locator("#advanced").get_by_text("Advanced").click()
    fill(page, "workers", 0)
    page.locator("#start-btn").click()
    # the first Start of an app also loads Ultralytics in the server (the base model check)
    expect(page.locator("#jobs-table")).to_contain_text(model_name, timeout=30_000)


def status(page: Page):  # noqa: ANN201 (a Locator)
    return page.locator("#status-text")


def metric_points(page: Page) -> int:
    """Points drawn in the first trace (precision) of the metrics chart, counted in the SVG."""
    traces = page.locator("#metrics-plot .scatterlayer .trace")
    if traces.count() == 0:
        return 0
    return traces.first.locator(".points path.point").count()


def metric_epochs(page: Page) -> list:
    """The x values (epochs) of the metrics chart's first trace, read from Plotly's graph div."""
    return page.evaluate("""() => {
        const g = document.querySelector('#metrics-plot .js-plotly-plot');
        return g && g.data && g.data.length ? Array.from(g.data[0].x) : []; }""")


def toast(page: Page, text: str):  # noqa: ANN201 (a Locator)
    """The toast (gr.Error / gr.Warning / gr.Info) that contains ``text``."""
    return page.locator(".toast-body", has_text=text)


def wait_for_points(page: Page, at_least: int, timeout_ms: int = TRAIN_TIMEOUT_MS) -> int:
    page.wait_for_function(
        """n => { const t = document.querySelector('#metrics-plot .scatterlayer .trace');
                  return t && t.querySelectorAll('.points path.point').length >= n; }""",
        arg=at_least, timeout=timeout_ms)
    return metric_points(page)


def registry(root: Path, dataset: str) -> dict:
    path = root / "models" / dataset / "registry.json"
    return json.loads(path.read_text()) if path.exists() else {"models": {}}


def table_rows(page: Page, elem_id: str, text: str = ""):  # noqa: ANN201 (a Locator)
    """Data rows of the Gradio Dataframe ``#elem_id`` that contain ``text``.

    Gradio 6 draws the rows as ``div[role=row]`` (its ``<tbody>`` holds one hidden row used to
    measure column widths), so ``tbody tr`` would only ever find the first row.
    """
    return page.locator(f"#{elem_id} [role=row][data-index]", has_text=text)


def model_row(page: Page, name: str):  # noqa: ANN201 (a Locator)
    return table_rows(page, "models-table", name)


def try_first_val_image(page: Page) -> None:
    """In Try: pick the first val image, set the confidence to 0.001, Run, wait for the result."""
    page.locator("#try-sample-dd input").click()
    page.get_by_role("option").first.click()
    expect(page.locator("#try-image img")).to_be_visible()
    conf = page.locator("#try-conf input[type=number]")
    conf.fill("0.001")
    conf.press("Tab")
    page.locator("#try-run-btn").click()
    expect(page.locator("#try-result-a img")).to_be_visible(timeout=60_000)
