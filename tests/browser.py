"""Debian's Chromium for the browser tests, driven by Playwright (never `playwright install`)."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


@contextmanager
def launched(chromium: Path) -> Iterator[Any]:
    """Playwright's driver and one ``chromium``, for as many pages as are asked of it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def page_allowing(
    browser: Any, allowed: str, viewport: tuple[int, int], refused: list[str] | None = None
) -> Iterator[Any]:
    """A page of ``browser``, in a context of its own (no cookie or storage shared with
    another page), that may only fetch URLs starting with ``allowed``; every other request
    is aborted (and listed in ``refused``), so a test proves it needs nothing else."""
    from playwright.sync_api import Route

    def guard(route: Route) -> None:
        if route.request.url.startswith(allowed):
            route.continue_()
        else:
            if refused is not None:
                refused.append(route.request.url)
            route.abort()

    width, height = viewport
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        context.route("**/*", guard)
        yield context.new_page()
    finally:
        context.close()
