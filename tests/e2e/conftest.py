"""One Prefect test harness for the whole session (it costs seconds to start).

Heartbeats are off: a sync flow run otherwise waits about a second for its heartbeat
thread to end (see the README's notes on Prefect). Tests that deploy as production does
get fresh PostgreSQL databases from ``new_postgres_database``.
"""

import importlib.util
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
from prefect.testing.utilities import prefect_test_harness
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from infra import db
from tests import browser
from tests.conftest import _pg_admin_url, _require_postgres


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


@pytest.fixture(scope="module")
def chromium_browser(chromium: Path) -> Iterator[Any]:
    """One running Chromium for the module's tests; each test's page has a context of its
    own (tests/browser.py's ``page_allowing``), so no cookie passes from one to the next."""
    with browser.launched(chromium) as running:
        yield running


def _missing(message: str) -> None:
    """Skip saying what is missing; under CI (or MENTORING_REQUIRE_POSTGRES=1), fail."""
    if _require_postgres():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture
def new_postgres_database(worker_id: str) -> Iterator[Callable[[str, str], str]]:
    """``new(purpose, driver)``: a new, empty database on the test PostgreSQL server, as a
    URL for ``driver`` (``psycopg``, or ``asyncpg`` for a Prefect server); all are dropped
    after the test."""
    admin = _pg_admin_url()
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    created: list[str] = []

    def new(purpose: str, driver: str = "psycopg") -> str:
        if importlib.util.find_spec(driver) is None:
            _missing(
                f"{driver} is not installed in this virtualenv (.venv/bin/pip install {driver})"
            )
        name = f"mentoring_{purpose}_{worker_id}_{os.getpid()}"
        try:
            with engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        except OperationalError as error:
            _missing(
                f"PostgreSQL is not reachable at {db.redacted(admin)} ({error.orig}); "
                "start it or set MENTORING_TEST_POSTGRES_URL"
            )
        created.append(name)
        url = make_url(admin).set(drivername=f"postgresql+{driver}", database=name)
        return url.render_as_string(hide_password=False)

    yield new
    if created:
        with engine.connect() as conn:
            for name in created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()
