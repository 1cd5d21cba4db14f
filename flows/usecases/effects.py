"""What each transition sets in motion: the messages it queues and the tasks it creates.

Called inside the transition's own unit of work, so the state change, its messages and
its tasks commit together (the outbox); delivery happens afterwards.

Catching up is safe: a notice about a moment already past when the milestone fires (the
call after applications closed, an orientation session that has begun, the survey after
it closed) is not queued; the transition's audit record says so (``not_sent``), and for
the orientation the committee gets a task to set a new session or to confirm.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from domain.applications import Role
from domain.cycle import Cycle
from domain.cycle_states import CycleEvent
from domain.engagement import goals_tasks
from domain.errors import CalendarError, DomainError
from domain.followups import TaskSpec, orientation_held_task, tasks_for
from domain.members import Member
from domain.notifications import Attachment, MessageKind, OutgoingMessage
from domain.pairing_status import PairingSetStatus
from domain.reminders import (
    call_closes,
    still_ahead,
    survey_closes,
    survey_closes_on,
    waiting_list_until,
)
from domain.time_words import moment_words
from infra.ics import orientation_invitation
from infra.rendering import compose_message
from infra.repositories.stored import UnusableStoredValue
from infra.settings import portal_url_from_env
from infra.uow import UnitOfWork

K = MessageKind
SITE_PAGES = {"apply_url": "/apply", "checkin_url": "/check-in", "survey_url": "/survey"}
"""The links that lead to the participants' site unless the cycle sets an outside form."""


class Mailer:
    """Builds one cycle's messages with the context every template shares.

    ``uow`` must already be entered: the mailer reads the program details and the roster
    once (or is given the ``people`` it writes to), and its callers read the rest through
    the same unit of work. Links lead to the
    participants' site at ``portal_url`` (``MENTORING_PORTAL_URL`` by default): applying
    at ``/apply``, the monthly check-in at ``/check-in`` and the survey at ``/survey``,
    unless the committee set an outside form as the cycle's ``apply_url``,
    ``checkin_url`` or ``survey_url``.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        cycle: Cycle,
        *,
        portal_url: str | None = None,
        people: Mapping[str, Member] | None = None,
    ) -> None:
        self.uow, self.cycle = uow, cycle
        self.portal_url = (portal_url or portal_url_from_env()).rstrip("/")
        program = uow.settings.program(cycle.year)
        outside = uow.settings.section(cycle.year, "program")
        on_site: dict[str, Any] = {
            name: f"{self.portal_url}{path}"
            for name, path in SITE_PAGES.items()
            if name not in outside
        }
        self.program = replace(program, **on_site)
        self.people = dict(people) if people is not None else uow.members.by_id()

    @property
    def standing_url(self) -> str:
        """The member's own page on the site: where they stand, partners, dates."""
        return f"{self.portal_url}/me"

    def date(self, event: CycleEvent) -> dt.date:
        return self.cycle.calendar.milestone(event).date()

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
            member.full_name,
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
            if m.member_id not in excluding and m.is_core_member(on)
        ]

    def name(self, member_id: str) -> str:
        member = self.people.get(member_id)
        return member.full_name if member else member_id


def pair_list(uow: UnitOfWork, year: int) -> list[tuple[str, str]]:
    """The approved set's active pairs as (mentor, mentee), by mentor then mentee."""
    return [p.members for p in uow.pairings.approved_pairs(year)]


def roles_by_member(pairs: list[tuple[str, str]]) -> dict[str, Role]:
    """mentor, mentee or both, as each participant takes part in the approved pairs."""
    roles: dict[str, set[Role]] = defaultdict(set)
    for mentor, mentee in pairs:
        roles[mentor].add(Role.MENTOR)
        roles[mentee].add(Role.MENTEE)
    return {m: Role.BOTH if len(r) == 2 else r.pop() for m, r in roles.items()}


@dataclass(frozen=True)
class NotSent:
    """Notices a transition did not queue because the moment they are about has passed:
    the sentence for the audit record, and the task asking the committee to act, if any."""

    kind: MessageKind
    sentence: str
    task: TaskSpec | None = None


Messages = list[OutgoingMessage | None]
Notices = tuple[Messages, list[NotSent]]


def on_transition(
    uow: UnitOfWork, cycle: Cycle, event: CycleEvent, now: datetime
) -> dict[str, Any]:
    """Queue the messages and create the tasks of ``event``; returns what was added, and
    under ``not_sent`` the notices held back because their moment had passed at ``now``."""
    mailer = Mailer(uow, cycle)
    pairs = pair_list(uow, cycle.year)
    messages, not_sent = _messages(mailer, event, pairs, now)
    queued = uow.outbox.enqueue([m for m in messages if m is not None], now)
    specs = tasks_for(event, cycle.year, cycle.calendar, pairs, list(roles_by_member(pairs)))
    if event is CycleEvent.start_mentoring:  # due three weeks after mentoring really began
        specs += goals_tasks(cycle.year, now, pairs)
    specs += [n.task for n in not_sent if n.task is not None]
    created = uow.tasks.add(specs, cycle.year, now)
    effects: dict[str, Any] = {"messages": queued, "tasks": created}
    if not_sent:
        effects["not_sent"] = [n.sentence for n in not_sent]
    return effects


def _messages(
    mailer: Mailer, event: CycleEvent, pairs: list[tuple[str, str]], now: datetime
) -> Notices:
    if event is CycleEvent.open_call:
        return _call_for_applications(mailer, now)
    if event is CycleEvent.announce_pairings:
        return pairing_notices(mailer, pairs) + _not_paired(mailer), []
    if event is CycleEvent.start_orientation:
        return _orientation(mailer, pairs, now)
    if event is CycleEvent.start_mentoring:
        return _both_sides(
            mailer,
            pairs,
            K.mentoring_begins,
            mentoring_ends_on=mailer.date(CycleEvent.end_mentoring),
        ), []
    if event is CycleEvent.end_mentoring:
        ended = _both_sides(
            mailer, pairs, K.mentoring_ends, ended_on=mailer.date(CycleEvent.end_mentoring)
        )
        survey, not_sent = _survey(mailer, pairs, now)
        return ended + survey, not_sent
    return [], []


def _call_for_applications(mailer: Mailer, now: datetime) -> Notices:
    """The call, unless applications have closed already (the call opened late)."""
    context: dict[str, Any] = {
        "apply_url": mailer.program.apply_url,
        "deadline": mailer.date(CycleEvent.close_applications),
        "pairings_announced_on": mailer.date(CycleEvent.announce_pairings),
    }
    opens_on = mailer.date(CycleEvent.open_call)
    call = mailer.to_core_members(K.call_for_applications, "", on=opens_on, **context)
    closes = call_closes(mailer.cycle.calendar)
    if not any(call) or still_ahead(closes, now):
        return call, []
    when = moment_words(closes, mailer.cycle.calendar.tz.key)
    sentence = (
        f"the call for applications was not sent: applications closed on {when}; late "
        "applications can still be accepted until the pairings are announced"
    )
    return [], [NotSent(K.call_for_applications, sentence)]


def pairing_notices(mailer: Mailer, pairs: list[tuple[str, str]]) -> list[OutgoingMessage | None]:
    """The pairing notice to both partners of each pair, naming the other and how to reach them."""
    out = []
    starts, ends = mailer.date(CycleEvent.start_mentoring), mailer.date(CycleEvent.end_mentoring)
    for mentor, mentee in pairs:
        for me, partner, role in ((mentor, mentee, Role.MENTOR), (mentee, mentor, Role.MENTEE)):
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
                    standing_url=mailer.standing_url,
                )
            )
    return out


def _not_paired(mailer: Mailer) -> list[OutgoingMessage | None]:
    """Each mentee the approved set left out is told they are on the waiting list."""
    approved = mailer.uow.pairings.latest_set(mailer.cycle.year, PairingSetStatus.approved)
    if approved is None:
        return []
    until = waiting_list_until(mailer.cycle.calendar)
    return [
        mailer.to_member(
            K.not_paired_notice, u.member_id, u.role, role=u.role, waitlist_until=until
        )
        for u in mailer.uow.pairings.waiting(approved.id)
        if u.role == Role.MENTEE
    ]


def orientation_start(mailer: Mailer) -> datetime:
    """When the session starts, as set (or by default); a stored time the zone cannot
    hold is refused naming the cycle and how to set it again."""
    year = mailer.cycle.year
    try:
        return mailer.program.orientation_start(mailer.cycle.calendar)
    except CalendarError as refused:
        raise UnusableStoredValue(
            year,
            "cycle_settings.program",
            "orientation time",
            f"cannot be used: {refused}",
            f"set orientation_at again with `mentoring cycle program {year}`",
        ) from None


def _orientation(mailer: Mailer, pairs: list[tuple[str, str]], now: datetime) -> Notices:
    """Every participant's invitation, unless the session has begun: then none goes and
    the committee is asked to set a new session or to confirm."""
    starts = orientation_start(mailer)
    invited = sorted(roles_by_member(pairs))
    if not invited or still_ahead(starts, now):
        return orientation_invitations(mailer, invited, starts), []
    year = mailer.cycle.year
    when = moment_words(starts, mailer.cycle.calendar.tz.key)
    sentence = (
        f"orientation invitations not sent: the session on {when} has begun; set a new "
        "session with the “Set the orientation session” form (or `mentoring cycle program "
        f"{year} --orientation-at …`), and the invitations then go; or confirm that none go "
        "by marking this task done"
    )
    title = sentence[0].upper() + sentence[1:]
    return [], [
        NotSent(K.orientation_invitation, sentence, orientation_held_task(year, title, now))
    ]


def orientation_invitations(mailer: Mailer, invited: Sequence[str], starts: datetime) -> Messages:
    """The invitation, with its calendar file, to each of ``invited``."""
    invite = orientation_invitation(
        mailer.cycle.year,
        starts,
        mailer.program.orientation_length,
        mailer.program.orientation_join_url,
        mailer.program.committee_email,
    )
    return [
        mailer.to_member(
            K.orientation_invitation,
            m,
            attachments=[invite],
            orientation_at=starts,
            duration_minutes=mailer.program.orientation_minutes,
            join_url=mailer.program.orientation_join_url,
        )
        for m in invited
    ]


def invite_to_new_session(uow: UnitOfWork, cycle: Cycle, now: datetime) -> int:
    """Queue the invitations held back at ``start_orientation``, for the session as now
    set (``uow`` entered, the new details written); a session that has begun is refused."""
    mailer = Mailer(uow, cycle)
    starts = orientation_start(mailer)
    if not still_ahead(starts, now):
        when = moment_words(starts, cycle.calendar.tz.key)
        raise DomainError(
            f"the orientation session on {when} has begun too: set a time still to come, "
            "or mark the task about the invitations done to confirm that none go"
        )
    invited = sorted(roles_by_member(pair_list(uow, cycle.year)))
    messages = orientation_invitations(mailer, invited, starts)
    return uow.outbox.enqueue([m for m in messages if m is not None], now)


def _both_sides(
    mailer: Mailer, pairs: list[tuple[str, str]], kind: MessageKind, **context: Any
) -> list[OutgoingMessage | None]:
    out = []
    for mentor, mentee in pairs:
        for me, partner, role in ((mentor, mentee, Role.MENTOR), (mentee, mentor, Role.MENTEE)):
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


def _survey(mailer: Mailer, pairs: list[tuple[str, str]], now: datetime) -> Notices:
    """The survey's invitation to every participant, unless it has closed already."""
    calendar = mailer.cycle.calendar
    closes = survey_closes(calendar)
    if pairs and not still_ahead(closes, now):
        when = moment_words(closes, calendar.tz.key)
        return [], [
            NotSent(
                K.assessment_invitation,
                f"survey invitations not sent: the survey closed on {when}",
            )
        ]
    closes_on = survey_closes_on(calendar)
    return [
        mailer.to_member(
            K.assessment_invitation,
            m,
            role=role,
            survey_url=mailer.program.survey_url,
            closes_on=closes_on,
        )
        for m, role in sorted(roles_by_member(pairs).items())
    ], []


@dataclass(frozen=True)
class RefusedApplicant:
    """Someone whose application line was refused, reachable at ``address`` (checked);
    ``member_id`` is empty when the line gave none usable as a message key."""

    address: str
    member_id: str
    reason: str
    detail: str

    @property
    def recipient(self) -> str:
        """Who the message key names: the member, else the address (``/`` escaped, as a
        key part has none)."""
        return self.member_id or self.address.replace("%", "%25").replace("/", "%2F")


def applicant_messages(
    uow: UnitOfWork,
    cycle: Cycle,
    accepted: Iterable[str],
    refused: Iterable[RefusedApplicant],
    now: datetime,
    *,
    people: Mapping[str, Member] | None = None,
    roles: Mapping[str, str] | None = None,
) -> int:
    """``application received`` for each accepted member id; ``not accepted`` for each
    refused applicant (reason: not_core_member|late|incomplete, with its detail).
    ``people`` (the roster rows of those written to) and ``roles`` (the accepted members'
    roles), when the caller has them, spare reading the whole roster and cycle."""
    mailer = Mailer(uow, cycle, people=people)
    announced = mailer.date(CycleEvent.announce_pairings)
    deadline = mailer.date(CycleEvent.close_applications)
    roles = uow.applications.roles(cycle.year) if roles is None else roles
    messages: list[OutgoingMessage | None] = [
        mailer.to_member(
            K.application_received,
            m,
            role=roles.get(m, Role.MENTEE),
            pairings_announced_on=announced,
        )
        for m in accepted
    ]
    messages += [
        mailer.to_address(
            K.application_not_accepted,
            r.recipient,
            r.address,
            mailer.name(r.member_id),
            reason=r.reason,
            reason_detail=r.detail,
            deadline=deadline,
        )
        for r in refused
    ]
    return uow.outbox.enqueue([m for m in messages if m is not None], now)
