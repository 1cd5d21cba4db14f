"""One Prefect test harness for the whole session (it costs seconds to start).

Heartbeats are off: a sync flow run otherwise waits about a second for its heartbeat
thread to end (see the README's notes on Prefect).
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
from prefect.testing.utilities import prefect_test_harness

from tests import browser


@pytest.fixture(scope="session", autouse=True)
def prefect_harness() -> Iterator[None]:
    with (
        temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
        prefect_test_harness(server_startup_timeout=120),
    ):
        yield


@pytest.fixture(scope="module")
def chromium() -> Path:
    """Debian's Chromium and Playwright, or a skip naming what is missing (CI: a failure)."""
    return browser.chromium_or_skip()
