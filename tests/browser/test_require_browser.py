"""``YOLO_STUDIO_REQUIRE_BROWSER`` (set by .ci/run) turns a missing Chromium from a skip into a
failure; ``CI`` alone does not."""

from __future__ import annotations

import pytest

from .conftest import REQUIRE_BROWSER_ENV, chromium_or_skip


def test_a_missing_browser_skips_unless_required(tmp_path) -> None:
    missing = tmp_path / "chromium"
    with pytest.raises(pytest.skip.Exception, match="install Debian's chromium"):
        chromium_or_skip(missing, {})
    with pytest.raises(pytest.skip.Exception):
        chromium_or_skip(missing, {"CI": "true", REQUIRE_BROWSER_ENV: "0"})
    for value in ("1", "true", "YES"):
        with pytest.raises(pytest.fail.Exception, match=f"{REQUIRE_BROWSER_ENV} is set"):
            chromium_or_skip(missing, {REQUIRE_BROWSER_ENV: value})


def test_a_present_browser_is_used(tmp_path) -> None:
    browser = tmp_path / "chromium"
    browser.write_text("")
    assert chromium_or_skip(browser, {REQUIRE_BROWSER_ENV: "1"}) == browser
