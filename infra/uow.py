"""A unit of work: one database transaction that rolls back unless committed, with the
repositories the use cases ask for what they need.

Each repository's module is imported the first time a block asks for it, so a command
that uses two of them (``notifications deliver``: the outbox and the audit log) does not
load the domain of every other one when it starts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Self, TypeVar, cast

from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from infra import seal_book
from infra.db import session_factory
from infra.settings import Settings

if TYPE_CHECKING:
    from infra.repositories.applications import ApplicationRepository
    from infra.repositories.assessment import ResponseRepository
    from infra.repositories.audit import AuditLog
    from infra.repositories.cycles import CycleRepository
    from infra.repositories.engagement import EngagementRepository
    from infra.repositories.members import MemberRepository
    from infra.repositories.offers import OfferRepository
    from infra.repositories.outbox import Outbox
    from infra.repositories.pairings import PairingRepository
    from infra.repositories.settings import SettingsRepository
    from infra.repositories.sign_in_links import SignInLinkRepository
    from infra.repositories.tasks import TaskRepository


Repository = TypeVar("Repository")


class ChangedConcurrently(Exception):
    """Another transaction changed a versioned row (a cycle) between our read and our
    commit; the use case says what that means for the person who asked."""


class UnitOfWork:
    """``with UnitOfWork(...) as uow: ...; uow.commit()``; anything else rolls back.

    Leaving the block closes the session, which rolls back what was not committed. The
    repositories share the session, so all they change commits or rolls back together;
    each is made once per block, the first time it is asked for.
    """

    session: Session

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory
        self._repositories: dict[str, object] = {}

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> UnitOfWork:
        settings = settings or Settings.from_env()
        return cls(session_factory(settings.database_url))

    def __enter__(self) -> Self:
        session = self.session = self._factory()
        seal_book.watch(session)
        self._repositories = {}
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.session.close()

    def _kept(self, name: str, make: Callable[[Session], Repository]) -> Repository:
        """This block's repository ``name``, made by ``make(session)`` when first asked."""
        if name not in self._repositories:
            self._repositories[name] = make(self.session)
        return cast(Repository, self._repositories[name])

    @property
    def cycles(self) -> CycleRepository:
        from infra.repositories.cycles import CycleRepository

        return self._kept("cycles", CycleRepository)

    @property
    def members(self) -> MemberRepository:
        from infra.repositories.members import MemberRepository

        return self._kept("members", MemberRepository)

    @property
    def applications(self) -> ApplicationRepository:
        from infra.repositories.applications import ApplicationRepository

        return self._kept("applications", ApplicationRepository)

    @property
    def settings(self) -> SettingsRepository:
        from infra.repositories.settings import SettingsRepository

        return self._kept("settings", SettingsRepository)

    @property
    def pairings(self) -> PairingRepository:
        from infra.repositories.pairings import PairingRepository

        return self._kept("pairings", lambda session: PairingRepository(session, self.settings))

    @property
    def offers(self) -> OfferRepository:
        from infra.repositories.offers import OfferRepository

        return self._kept("offers", OfferRepository)

    @property
    def outbox(self) -> Outbox:
        from infra.repositories.outbox import Outbox

        return self._kept("outbox", Outbox)

    @property
    def tasks(self) -> TaskRepository:
        from infra.repositories.tasks import TaskRepository

        return self._kept("tasks", TaskRepository)

    @property
    def audit(self) -> AuditLog:
        from infra.repositories.audit import AuditLog

        return self._kept("audit", AuditLog)

    @property
    def responses(self) -> ResponseRepository:
        from infra.repositories.assessment import ResponseRepository

        return self._kept("responses", ResponseRepository)

    @property
    def sign_in_links(self) -> SignInLinkRepository:
        from infra.repositories.sign_in_links import SignInLinkRepository

        return self._kept("sign_in_links", SignInLinkRepository)

    @property
    def engagement(self) -> EngagementRepository:
        from infra.repositories.engagement import EngagementRepository

        return self._kept("engagement", EngagementRepository)

    def commit(self) -> None:
        """Make every change of the block happen at once; a concurrent change to a
        versioned row raises :class:`ChangedConcurrently` and nothing is written.

        Rows of sealed tables written after the block's last audit record are sealed
        under a record of their own (``rows_written``), so no write of the program is
        ever left unsealed for ``audit verify`` to mistake for an outside edit."""
        self.session.flush()
        if seal_book.SealBook.of(self.session).pending:
            self.audit.append(
                kind="rows_written",
                cycle_year=None,
                at=datetime.now(UTC),
                actor="program",
                fields={},
            )
        try:
            self.session.commit()
        except StaleDataError as err:
            raise ChangedConcurrently(str(err)) from err
