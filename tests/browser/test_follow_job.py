"""Two jobs train at once on a (fake) cluster: the job table shows each one's node, and the
Monitor follows the job picked in its Follow list, with that job's own status, log and charts,
and cancels it, while the other job goes on to COMPLETED (issue 15).

The studio runs ``cluster_app.py``: job ``older`` (long, on ``NODES[0]``) and job ``newer``
(started second, so the newest; on ``NODES[1]``, held after its first epoch until the test
removes the hold file). The page picks ``older``, not the newest job: the Monitor shows the
newest job anyway, so only following another one tells a pick from no pick.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dataset_files import TINY
from playwright.sync_api import expect

from .cluster_app import HOLD, NEWER_EPOCHS
from .conftest import _free_port
from .studio_page import metric_epochs, open_tab, status, table_rows

LAUNCHER = Path(__file__).with_name("cluster_app.py")
NODES = ("10.0.0.11", "10.0.0.12")  # cluster_double.NODES: older's, newer's
#: Milliseconds an expectation waits at most (the machine may be busy: no time is measured).
WAIT_MS = 30_000


@pytest.fixture(scope="module")
def cluster_studio(tmp_path_factory: pytest.TempPathFactory,
                   chromium_path: Path) -> Iterator[tuple[str, Path]]:
    """(URL, root) of a studio whose two jobs train at once."""
    root = tmp_path_factory.mktemp("cluster")
    shutil.copytree(TINY, root / "datasets" / "tiny")
    log_path = root / "app.log"
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen([sys.executable, str(LAUNCHER), str(root),
                                    str(_free_port())], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while "READY" not in log_path.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the cluster studio did not get ready:\n{log_path.read_text()}")
            time.sleep(0.2)
        yield log_path.read_text().split("URL ", 1)[1].split()[0], root
    finally:
        process.terminate()
        process.wait(timeout=30)


def _shows(locator, text: str) -> None:
    expect(locator).to_contain_text(text, timeout=WAIT_MS)


def test_the_monitor_follows_and_cancels_a_picked_job(browser, cluster_studio) -> None:
    url, root = cluster_studio
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    try:
        page.goto(url)
        _shows(page.locator("#jobs-table"), "node")
        for name, node in zip(("older", "newer"), NODES):
            _shows(table_rows(page, "jobs-table", name), node)
        open_tab(page, "Monitor")
        _shows(status(page), f"TRAINING — tiny / newer · on {NODES[1]}")

        page.locator("#follow-dd input").click()
        page.get_by_role("option").filter(has_text="tiny / older · TRAINING").click()
        _shows(status(page), f"TRAINING — tiny / older · on {NODES[0]}")
        log = page.locator("#log-text textarea")
        expect(log).to_have_value(re.compile(r"epoch \d+/1000: "), timeout=WAIT_MS)  # older's
        assert f"/{NEWER_EPOCHS}: " not in log.input_value()  # none of newer's epochs
        _shows(page.locator("#resource-note"), f"not those of node {NODES[0]}")
        # older's own charts: newer is held at 1 epoch, older goes on
        page.wait_for_function("""() => { const g = document.querySelector(
            '#metrics-plot .js-plotly-plot'); return g && g.data && g.data[0].x.length >= 3; }""")
        assert metric_epochs(page)[:3] == [1, 2, 3]

        page.locator("#monitor-cancel-btn").click()
        _shows(status(page), "CANCELLED — tiny / older")
        _shows(page.locator("#final-text"), "no model was registered")

        (root / HOLD).unlink()  # newer goes on to its end
        open_tab(page, "Train")
        _shows(table_rows(page, "jobs-table", "newer"), "COMPLETED")
        _shows(table_rows(page, "jobs-table", "older"), "CANCELLED")
        open_tab(page, "Monitor")  # still older's, until the page picks another job
        _shows(status(page), "CANCELLED — tiny / older")
        page.locator("#follow-dd input").click()
        page.get_by_role("option", name="Newest running job").click()
        _shows(status(page), "COMPLETED — tiny / newer")
    finally:
        context.close()
