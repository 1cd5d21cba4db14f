"""Debian's Chromium for the browser tests, driven by Playwright (never `playwright install`)."""

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def required() -> bool:
    """CI (and `.ci/run`) treat a missing browser as a failure, a developer's machine as a skip."""
    return os.environ.get("CI") == "true" or os.environ.get("MENTORING_REQUIRE_BROWSER") == "1"


def chromium_or_skip() -> Path:
    missing = [] if CHROMIUM.exists() else [f"{CHROMIUM} (apt-get install chromium)"]
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package (pip install -e '.[dev]')")
    if missing:
        message = "the browser tests need " + " and ".join(missing)
        if required():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return CHROMIUM
