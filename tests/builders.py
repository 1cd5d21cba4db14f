"""Cycles in a given state with the sample roster and applications, for tests."""

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from domain.cycle_states import CycleEvent, Trigger
from domain.notifications import MessageKind, OutgoingMessage
from flows.usecases import applications, cycles, members, pairings
from infra.rendering import compose_message
from infra.uow import UnitOfWork

DATA = Path(__file__).parent / "data"
AUG_2 = datetime(2026, 8, 2, 12, tzinfo=UTC)
OCT_1 = datetime(2026, 10, 1, 12, tzinfo=UTC)


def cycle_with_applications(uow: UnitOfWork, year: int = 2026) -> UnitOfWork:
    """Cycle ``year`` with the sample roster and applications, applications closed."""
    cycles.create_cycle(uow, year, timezone="America/Chicago", milestones={}, actor="chair")
    cycles.fire_event(
        uow, year, CycleEvent.open_call, actor="s", trigger=Trigger.schedule, now=AUG_2
    )
    members.import_roster(uow, DATA / "roster.csv", actor="chair", now=AUG_2)
    applications.import_applications(uow, year, DATA / "applications.csv", actor="chair", now=AUG_2)
    cycles.fire_event(
        uow, year, CycleEvent.close_applications, actor="s", trigger=Trigger.schedule, now=OCT_1
    )
    return uow


NOV_5 = datetime(2026, 11, 5, 12, tzinfo=UTC)


def paired_cycle(
    uow: UnitOfWork, year: int = 2026, *, fixed: tuple[tuple[str, str], ...] = ()
) -> UnitOfWork:
    """Cycle ``year`` with an approved pairing set, pairings announced (state ``paired``);
    ``fixed`` pairs are fixed by the committee before the proposal."""
    cycle_with_applications(uow, year)
    for mentor_id, mentee_id in fixed:
        pairings.edit(
            uow,
            year,
            kind="fix",
            mentor_id=mentor_id,
            mentee_id=mentee_id,
            actor="chair",
            now=OCT_1,
        )
    pairings.propose(uow, year, actor="chair", now=OCT_1)
    pairings.approve(uow, year, actor="chair", now=OCT_1)
    cycles.fire_event(
        uow, year, CycleEvent.announce_pairings, actor="s", trigger=Trigger.schedule, now=NOV_5
    )
    return uow


def checkin_reminders(count: int, *, prefix: str = "C") -> list[OutgoingMessage]:
    """Rendered January check-in reminders to ``count`` made-up members (tests, benchmark)."""
    return [
        compose_message(
            MessageKind.checkin_reminder,
            cycle_year=2026,
            recipient=f"{prefix}{n:05d}",
            to_address=f"member{n}@example.org",
            to_name=f"Member Número {n}",
            discriminator="2027-01",
            context={
                "committee_email": "mentoring@core.example.org",
                "partner_name": f"Partner {n}",
                "period": "January 2027",
                "checkin_url": f"https://forms.example.org/checkin?m={n}",
            },
        )
        for n in range(count)
    ]


@dataclass
class Clock:
    """A clock the test moves: what the site and the use cases call for "now"."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now
