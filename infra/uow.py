"""A unit of work: one database transaction that rolls back unless committed."""

from types import TracebackType
from typing import Self

from sqlalchemy.orm import Session, sessionmaker

from infra.db import session_factory
from infra.settings import Settings


class UnitOfWork:
    """``with UnitOfWork(...) as uow: ...; uow.commit()``; anything else rolls back.

    Leaving the block closes the session, which rolls back what was not committed but
    leaves loaded objects readable (detached, not expired).
    """

    session: Session

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> "UnitOfWork":
        settings = settings or Settings.from_env()
        return cls(session_factory(settings.database_url))

    def __enter__(self) -> Self:
        self.session = self._factory()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.session.close()

    def commit(self) -> None:
        self.session.commit()

    @property
    def is_postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"
