"""Test fixtures: a migrated database per test, on SQLite and on PostgreSQL.

PostgreSQL comes from ``MENTORING_TEST_POSTGRES_URL`` (default: the local server on
127.0.0.1:5432). Without it the PostgreSQL half is skipped with a message saying so;
under CI (``CI=true``) or ``MENTORING_REQUIRE_POSTGRES=1`` it fails instead, so a run
never passes silently without PostgreSQL.
"""

import gc
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from infra import db
from infra.tables import Base
from infra.uow import UnitOfWork

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def pytest_collection_finish(session: pytest.Session) -> None:
    """Spare each test the collector's walks over what collecting loaded (Prefect,
    SQLAlchemy, FastAPI: a heap every full collection walked again, a sixth of an
    integration file's time): set it aside for good, and collect less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


def _pg_admin_url() -> str:
    return os.environ.get("MENTORING_TEST_POSTGRES_URL", DEFAULT_PG)


def _require_postgres() -> bool:
    return os.environ.get("CI") == "true" or os.environ.get("MENTORING_REQUIRE_POSTGRES") == "1"


@pytest.fixture(scope="session")
def postgres_url(worker_id: str) -> Iterator[str]:
    """A private, migrated database on the PostgreSQL server for this test worker."""
    admin = _pg_admin_url()
    name = f"mentoring_test_{worker_id}_{os.getpid()}"  # concurrent runs never collide
    try:
        engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        message = (
            f"PostgreSQL is not reachable at {db.redacted(admin)} ({error.orig}); "
            "start it or set MENTORING_TEST_POSTGRES_URL"
        )
        if _require_postgres():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    db.upgrade(url)
    yield url
    db.engine_for(url).dispose()
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file each test copies, so migrations run once per session."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    url = f"sqlite:///{path}"
    db.upgrade(url)
    db.engine_for(url).dispose()
    return path


def _truncate(url: str) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with db.engine_for(url).begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    """An empty, migrated database; also exported for CLI subprocesses."""
    if request.param == "sqlite":
        path = tmp_path / "mentoring.db"
        shutil.copy(sqlite_template, path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_url")
        _truncate(url)
    monkeypatch.setenv("MENTORING_DATABASE_URL", url)
    monkeypatch.setenv("MENTORING_HOME", str(tmp_path / "home"))
    return url


@pytest.fixture
def uow(database_url: str) -> UnitOfWork:
    return UnitOfWork(db.session_factory(database_url))


@pytest.fixture(scope="session")
def worker_id() -> str:
    """xdist's worker name when run in parallel, else ``main``."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")
