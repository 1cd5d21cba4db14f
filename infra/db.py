"""Engines, sessions and migrations for SQLite (embedded default) and PostgreSQL (psycopg 3).

Only :func:`upgrade` creates a database: a session on a SQLite file that does not exist is
refused (:class:`DatabaseMissing`), so a mistyped path is reported, not silently made into
an empty database by whichever command ran first.
"""

import re
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from domain.errors import DomainError

MIGRATIONS = Path(__file__).parent / "migrations"
# The engines the program is built and tested on: (backend, driver).
SUPPORTED = frozenset({("sqlite", "pysqlite"), ("postgresql", "psycopg")})
EXAMPLES = "use sqlite:///path/to/mentoring.db or postgresql+psycopg://user@host:5432/dbname"
_PASSWORD = re.compile(r"(://[^:/@]*:)[^@]*@")


class DatabaseUnusable(DomainError):
    """The database URL names nothing the program can open: it is not a URL, names an
    engine or driver the program does not use, or has an impossible port."""


class DatabaseMissing(DatabaseUnusable):
    """The SQLite file the URL names does not exist (yet); ``path`` is where it would be."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"there is no database at {path}")
        self.path = path


def database_url(url: str) -> URL:
    """``url`` read as a database URL, or a refusal naming what is wrong (password hidden)."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as error:
        problem = "its port is not a number" if isinstance(error, ValueError) else "not a URL"
        raise DatabaseUnusable(
            f"the database URL {_masked(url)!r} is not one the program can read ({problem}); "
            f"{EXAMPLES}"
        ) from None
    shown = parsed.render_as_string(hide_password=True)
    if (parsed.get_backend_name(), parsed.get_driver_name()) not in SUPPORTED:
        raise DatabaseUnusable(
            f"the database URL {shown} asks for {parsed.drivername}, which the program does "
            f"not use; {EXAMPLES}"
        )
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise DatabaseUnusable(
            f"the database URL {shown} has port {parsed.port}; a port runs from 1 to 65535"
        )
    return parsed


def _masked(text: str) -> str:
    """A string that failed to parse as a URL, with anything that may be a password hidden."""
    return _PASSWORD.sub(r"\1***@", text)


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names; None for PostgreSQL or an in-memory database."""
    parsed = database_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.query.get("uri"):
        return None
    if not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _make_sqlite_serializable(engine: Engine) -> None:
    """Every SQLite transaction takes the write lock up front (``BEGIN IMMEDIATE``).

    pysqlite's default deferred transactions let two writers read the same state and then
    collide; taking the lock at BEGIN makes concurrent transitions queue up instead.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


@cache
def engine_for(url: str) -> Engine:
    """One engine per database URL per process (connecting to a SQLite file that does not
    exist creates it: see :func:`session_factory` and :func:`upgrade`)."""
    parsed = database_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(parsed, connect_args={"timeout": 30})
            _make_sqlite_serializable(engine)
            return engine
        return create_engine(parsed, pool_pre_ping=True)
    except (NoSuchModuleError, ImportError) as error:
        raise DatabaseUnusable(
            f"the database URL {parsed.render_as_string(hide_password=True)} needs a driver "
            f"that is not installed ({error}); {EXAMPLES}"
        ) from None


def session_factory(url: str) -> sessionmaker[Session]:
    """Sessions on an existing database: a SQLite file that is not there is refused
    (:class:`DatabaseMissing`) rather than created empty."""
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise DatabaseMissing(path.absolute())
    return sessionmaker(engine_for(url), expire_on_commit=False)


def upgrade(url: str, revision: str = "head") -> None:
    """Create or migrate the schema; running it again changes nothing. The one way a new
    database comes to be: a new SQLite file is created here, with its folder."""
    from alembic import command
    from alembic.config import Config

    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine_for(url).begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(url: str) -> str | None:
    """The schema's Alembic revision (None for an empty or not yet created database)."""
    from alembic.runtime.migration import MigrationContext

    path = sqlite_file(url)
    if path is not None and not path.exists():
        return None
    with engine_for(url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def redacted(url: str) -> str:
    """The URL with any password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return _masked(url)
