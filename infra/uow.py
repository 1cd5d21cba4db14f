"""A unit of work: one database transaction that rolls back unless committed, with the
repositories the use cases ask for what they need."""

from datetime import UTC, datetime
from types import TracebackType
from typing import Self

from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from infra import seal_book
from infra.db import session_factory
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
from infra.settings import Settings


class ChangedConcurrently(Exception):
    """Another transaction changed a versioned row (a cycle) between our read and our
    commit; the use case says what that means for the person who asked."""


class UnitOfWork:
    """``with UnitOfWork(...) as uow: ...; uow.commit()``; anything else rolls back.

    Leaving the block closes the session, which rolls back what was not committed. The
    repositories share the session, so all they change commits or rolls back together.
    """

    session: Session
    cycles: CycleRepository
    members: MemberRepository
    applications: ApplicationRepository
    settings: SettingsRepository
    pairings: PairingRepository
    offers: OfferRepository
    outbox: Outbox
    tasks: TaskRepository
    audit: AuditLog
    responses: ResponseRepository
    sign_in_links: SignInLinkRepository
    engagement: EngagementRepository

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> "UnitOfWork":
        settings = settings or Settings.from_env()
        return cls(session_factory(settings.database_url))

    def __enter__(self) -> Self:
        session = self.session = self._factory()
        seal_book.watch(session)
        self.cycles = CycleRepository(session)
        self.members = MemberRepository(session)
        self.applications = ApplicationRepository(session)
        self.settings = SettingsRepository(session)
        self.pairings = PairingRepository(session, self.settings)
        self.offers = OfferRepository(session)
        self.outbox = Outbox(session)
        self.tasks = TaskRepository(session)
        self.audit = AuditLog(session)
        self.responses = ResponseRepository(session)
        self.sign_in_links = SignInLinkRepository(session)
        self.engagement = EngagementRepository(session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.session.close()

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
