"""What each transition sets in motion: the messages it queues and the tasks it creates.

Called inside the transition's own transaction, so the state change, its messages and
its tasks commit together (the outbox); delivery happens afterwards.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.cycle import Cycle
from domain.cycle_states import CycleEvent
from domain.followups import tasks_for
from domain.notifications import Attachment, MessageKind, OutgoingMessage
from domain.program import ProgramDetails
from flows.usecases.pairings import approved_pairs, latest_set
from infra import cycle_settings, outbox, tasks
from infra.ics import orientation_ics
from infra.rendering import compose_message
from infra.tables import ApplicationRow, MemberRow, UnmatchedRow

K = MessageKind


def program_of(session: Session, year: int) -> ProgramDetails:
    return ProgramDetails.from_settings(cycle_settings.read(session, year).get("program", {}))


class Mailer:
    """Builds one cycle's messages with the context every template shares."""

    def __init__(self, session: Session, cycle: Cycle) -> None:
        self.session, self.cycle = session, cycle
        self.program = program_of(session, cycle.year)
        self.people = {m.member_id: m for m in session.scalars(select(MemberRow))}

    def date(self, event: CycleEvent) -> Any:
        at = self.cycle.calendar.due_at(event)
        assert at is not None
        return at.date()

    def to_member(
        self,
        kind: MessageKind,
        member_id: str,
        discriminator: str = "",
        *,
        attachments: Iterable[Attachment] = (),
        **context: Any,
    ) -> OutgoingMessage | None:
        member = self.people.get(member_id)
        if member is None:
            return None
        return self.to_address(
            kind,
            member_id,
            member.email,
            f"{member.first_name} {member.last_name}".strip(),
            discriminator,
            attachments=attachments,
            **context,
        )

    def to_address(
        self,
        kind: MessageKind,
        recipient: str,
        address: str,
        name: str,
        discriminator: str = "",
        *,
        attachments: Iterable[Attachment] = (),
        **context: Any,
    ) -> OutgoingMessage:
        return compose_message(
            kind,
            cycle_year=self.cycle.year,
            recipient=recipient,
            to_address=address,
            to_name=name,
            discriminator=discriminator,
            attachments=tuple(attachments),
            context={"committee_email": self.program.committee_email, **context},
        )

    def to_core_members(
        self,
        kind: MessageKind,
        discriminator: str,
        *,
        on: dt.date,
        excluding: Collection[str] = (),
        **context: Any,
    ) -> list[OutgoingMessage | None]:
        """To the list address the committee set, or else to each Core member on ``on``
        (leaving out ``excluding``)."""
        if self.program.call_list_address:
            return [
                self.to_address(
                    kind,
                    "list",
                    self.program.call_list_address,
                    "Core members",
                    discriminator,
                    **context,
                )
            ]
        return [
            self.to_member(kind, m.member_id, discriminator, **context)
            for m in self.people.values()
            if m.member_id not in excluding and m.membership_expires >= on
        ]

    def name(self, member_id: str) -> str:
        m = self.people.get(member_id)
        return f"{m.first_name} {m.last_name}".strip() if m else member_id


def pair_list(session: Session, year: int) -> list[tuple[str, str]]:
    return [(p.mentor_id, p.mentee_id) for p in approved_pairs(session, year)]


def roles_by_member(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """mentor, mentee or both, as each participant takes part in the approved pairs."""
    roles: dict[str, set[str]] = defaultdict(set)
    for mentor, mentee in pairs:
        roles[mentor].add("mentor")
        roles[mentee].add("mentee")
    return {m: "both" if len(r) == 2 else r.pop() for m, r in roles.items()}


def on_transition(
    session: Session, cycle: Cycle, event: CycleEvent, now: datetime
) -> dict[str, int]:
    """Queue the messages and create the tasks of ``event``; returns what was added."""
    mailer = Mailer(session, cycle)
    pairs = pair_list(session, cycle.year)
    messages = [m for m in _messages(mailer, event, pairs) if m is not None]
    queued = outbox.enqueue(session, messages, now)
    created = tasks.add(
        session,
        tasks_for(event, cycle.year, cycle.calendar, pairs, list(roles_by_member(pairs))),
        cycle.year,
        now,
    )
    return {"messages": queued, "tasks": created}


def _messages(
    mailer: Mailer, event: CycleEvent, pairs: list[tuple[str, str]]
) -> list[OutgoingMessage | None]:
    if event is CycleEvent.open_call:
        return _call_for_applications(mailer)
    if event is CycleEvent.announce_pairings:
        return pairing_notices(mailer, pairs) + _not_paired(mailer)
    if event is CycleEvent.start_orientation:
        return _orientation(mailer, pairs)
    if event is CycleEvent.start_mentoring:
        return _both_sides(
            mailer,
            pairs,
            K.mentoring_begins,
            mentoring_ends_on=mailer.date(CycleEvent.end_mentoring),
        )
    if event is CycleEvent.end_mentoring:
        return _both_sides(
            mailer, pairs, K.mentoring_ends, ended_on=mailer.date(CycleEvent.end_mentoring)
        ) + _survey(mailer, pairs)
    return []


def _call_for_applications(mailer: Mailer) -> list[OutgoingMessage | None]:
    context = {
        "apply_url": mailer.program.apply_url,
        "deadline": mailer.date(CycleEvent.close_applications),
        "pairings_announced_on": mailer.date(CycleEvent.announce_pairings),
    }
    today = mailer.cycle.calendar.due_at(CycleEvent.open_call)
    assert today is not None
    return mailer.to_core_members(K.call_for_applications, "", on=today.date(), **context)


def pairing_notices(mailer: Mailer, pairs: list[tuple[str, str]]) -> list[OutgoingMessage | None]:
    """The pairing notice to both partners of each pair, naming the other and how to reach them."""
    out = []
    starts, ends = mailer.date(CycleEvent.start_mentoring), mailer.date(CycleEvent.end_mentoring)
    for mentor, mentee in pairs:
        for me, partner, role in ((mentor, mentee, "mentor"), (mentee, mentor, "mentee")):
            p = mailer.people.get(partner)
            out.append(
                mailer.to_member(
                    K.pairing_notice,
                    me,
                    f"{role}-{partner}",
                    role=role,
                    partner_name=mailer.name(partner),
                    partner_email=p.email if p else "",
                    partner_institution=p.institution if p else "",
                    mentoring_starts_on=starts,
                    mentoring_ends_on=ends,
                )
            )
    return out


def _not_paired(mailer: Mailer) -> list[OutgoingMessage | None]:
    approved = latest_set(mailer.session, mailer.cycle.year, "approved")
    if approved is None:
        return []
    until = mailer.date(CycleEvent.start_mentoring) + timedelta(days=31)
    return [
        mailer.to_member(
            K.not_paired_notice, u.member_id, u.role, role=u.role, waitlist_until=until
        )
        for u in mailer.session.scalars(
            select(UnmatchedRow).where(UnmatchedRow.set_id == approved.id)
        )
        if u.role == "mentee"
    ]


def _orientation(mailer: Mailer, pairs: list[tuple[str, str]]) -> list[OutgoingMessage | None]:
    starts = mailer.program.orientation_start(mailer.cycle.calendar)
    ics = orientation_ics(
        mailer.cycle.year,
        starts,
        mailer.program.orientation_length,
        mailer.program.orientation_join_url,
        mailer.program.committee_email,
        mailer.program.committee_email.rpartition("@")[2],
    )
    invite = Attachment(f"core-mentoring-orientation-{mailer.cycle.year}.ics", "text/calendar", ics)
    return [
        mailer.to_member(
            K.orientation_invitation,
            m,
            attachments=[invite],
            orientation_at=starts,
            duration_minutes=mailer.program.orientation_minutes,
            join_url=mailer.program.orientation_join_url,
        )
        for m in sorted(roles_by_member(pairs))
    ]


def _both_sides(
    mailer: Mailer, pairs: list[tuple[str, str]], kind: MessageKind, **context: Any
) -> list[OutgoingMessage | None]:
    out = []
    for mentor, mentee in pairs:
        for me, partner, role in ((mentor, mentee, "mentor"), (mentee, mentor, "mentee")):
            extra: dict[str, Any] = {"role": role} if kind is K.mentoring_begins else {}
            out.append(
                mailer.to_member(
                    kind,
                    me,
                    f"{role}-{partner}",
                    partner_name=mailer.name(partner),
                    **extra,
                    **context,
                )
            )
    return out


def _survey(mailer: Mailer, pairs: list[tuple[str, str]]) -> list[OutgoingMessage | None]:
    closes = mailer.date(CycleEvent.complete_assessment) - timedelta(days=1)
    return [
        mailer.to_member(
            K.assessment_invitation,
            m,
            role=role,
            survey_url=mailer.program.survey_url,
            closes_on=closes,
        )
        for m, role in sorted(roles_by_member(pairs).items())
    ]


def applicant_messages(
    session: Session,
    cycle: Cycle,
    accepted: Iterable[str],
    refused: Iterable[tuple[str, str, str, str]],
    now: datetime,
) -> int:
    """``application received`` for each accepted member id; ``not accepted`` for each
    refused (address, member id, reason: not_core_member|late|incomplete, detail)."""
    mailer = Mailer(session, cycle)
    announced = mailer.date(CycleEvent.announce_pairings)
    deadline = mailer.date(CycleEvent.close_applications)
    roles = {
        r.member_id: r.role
        for r in session.scalars(
            select(ApplicationRow).where(ApplicationRow.cycle_year == cycle.year)
        )
    }
    messages: list[OutgoingMessage | None] = [
        mailer.to_member(
            K.application_received, m, role=roles.get(m, "mentee"), pairings_announced_on=announced
        )
        for m in accepted
    ]
    messages += [
        mailer.to_address(
            K.application_not_accepted,
            member_id or address,
            address,
            mailer.name(member_id),
            reason=reason,
            reason_detail=detail,
            deadline=deadline,
        )
        for address, member_id, reason, detail in refused
        if "@" in address
    ]
    return outbox.enqueue(session, [m for m in messages if m is not None], now)
