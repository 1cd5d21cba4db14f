"""Withdrawals, pairs the committee ends, and re-pairing from the waiting list.

Before pairing, a withdrawal only marks the application, so the next proposal leaves the
member out. Once a set is approved it also dissolves that member's pairs (a mentor's other
pairs stay), and once pairings are announced (``paired``, ``orientation``, ``active``) each
partner left short gets a re-pairing offer the committee can approve. Every change, its
audit record and its messages commit together; the CLI and the Prefect flows call these.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain import repairing as repairing_rules
from domain.applications import Role
from domain.cycle_states import CycleEvent, CycleState
from domain.errors import DomainError
from domain.followups import PARTICIPANT, TaskSpec, tasks_for
from domain.notifications import OutgoingMessage
from domain.repairing import FreedSlot, RepairingOffer
from flows.usecases import pairings
from flows.usecases.clock import utcnow
from flows.usecases.effects import Mailer
from flows.usecases.repairing_mail import (
    committee_notice,
    offer_line,
    pairing_notices,
    partner_left,
)
from infra import audit_log, cycles, outbox, tasks
from infra.tables import (
    ApplicationRow,
    CycleRow,
    PairingSetRow,
    PairRow,
    RepairingOfferRow,
    TaskRow,
)
from infra.uow import UnitOfWork

WITHDRAWAL_STATES = (
    CycleState.call_open,
    CycleState.applications_closed,
    CycleState.paired,
    CycleState.orientation,
    CycleState.active,
)
REPAIRING_STATES = (CycleState.paired, CycleState.orientation, CycleState.active)
FIRST_MEETING_WITHIN = timedelta(days=14)
AUDITED = ("applications", "pairing_sets", "pairs", "repairing_offers", "messages", "tasks")
Pair = tuple[str, str]


@dataclass(frozen=True)
class _NewSlot:
    """A slot a dissolution just opened, with what dissolved it."""

    slot: FreedSlot
    cause: str
    ended: Pair


@dataclass
class _Refresh:
    """What recomputing the offers changed."""

    created: list[RepairingOfferRow] = field(default_factory=list)
    superseded: list[RepairingOfferRow] = field(default_factory=list)
    closed: list[RepairingOfferRow] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.superseded or self.closed)


def _require_text(value: str, message: str) -> None:
    if not value.strip():
        raise DomainError(message)


def _listing(states: Sequence[CycleState]) -> str:
    names = [str(s) for s in states]
    return ", ".join(names[:-1]) + f" or {names[-1]}"


def _locked_state(
    session: Session, year: int, allowed: Sequence[CycleState], what: str
) -> tuple[CycleRow, CycleState]:
    """The cycle's row, locked, and its state, refusing states where ``what`` is not allowed."""
    row = cycles.load_row(session, year, for_update=True)
    state = CycleState(row.state)
    if state not in allowed:
        raise DomainError(
            f"cycle {year} is in state {state}: {what} only while the cycle is in "
            f"{_listing(allowed)}"
        )
    return row, state


def _role_of(text: str | None) -> Role | None:
    if text is None:
        return None
    if text not in ("mentor", "mentee"):
        raise DomainError(f"role {text!r} is not allowed; use mentor or mentee")
    return Role(text)


# --- withdrawing ------------------------------------------------------------------------------


def _application(session: Session, year: int, member_id: str) -> ApplicationRow:
    app = session.scalars(
        select(ApplicationRow).where(
            ApplicationRow.cycle_year == year, ApplicationRow.member_id == member_id
        )
    ).one_or_none()
    if app is None:
        raise DomainError(f"{member_id} has no application in cycle {year}")
    return app


def _already_withdrawn(app: ApplicationRow, wanted: Role | None) -> str | None:
    """Why there is nothing to do, if the withdrawal was recorded before."""
    if app.status == "withdrawn":
        return (
            f"{app.member_id} already withdrew from cycle {app.cycle_year}"
            f"{_on(app.withdrawn_at)}; nothing to do"
        )
    partial = app.withdrawn_at is not None and app.role != Role.BOTH
    if wanted is not None and partial and app.role != wanted:
        return f"{app.member_id} already withdrew as {wanted}{_on(app.withdrawn_at)}; nothing to do"
    return None


def _on(moment: datetime | None) -> str:
    return f" on {moment:%Y-%m-%d}" if moment else ""


def _roles_leaving(app: ApplicationRow, wanted: Role | None) -> set[str]:
    """Which of the member's roles the withdrawal ends (``both`` may leave one)."""
    applied = Role(app.role)
    held = {"mentor", "mentee"} if applied is Role.BOTH else {str(applied)}
    if wanted is None:
        return held
    if str(wanted) not in held:
        raise DomainError(
            f"{app.member_id} applied as {applied}, not as {wanted}; leave out --role to "
            "withdraw them from the program"
        )
    return {str(wanted)}


def _mark_withdrawn(app: ApplicationRow, leaving: set[str], now: datetime) -> None:
    """The whole application, or the role a ``both`` participant gives up."""
    app.withdrawn_at = now
    staying = ({"mentor", "mentee"} if app.role == Role.BOTH else {app.role}) - leaving
    if not staying:
        app.status = "withdrawn"
        return
    (app.role,) = staying
    if app.role == Role.MENTEE:
        app.max_mentees = None


def _dissolve(
    session: Session,
    set_row: PairingSetRow,
    member_id: str,
    leaving: set[str],
    status: str,
    reason: str,
    now: datetime,
) -> list[PairRow]:
    """End the member's active pairs in the roles they leave; other pairs stay."""
    pairs = session.scalars(
        select(PairRow)
        .where(PairRow.set_id == set_row.id, PairRow.status == "active")
        .order_by(PairRow.id)
    ).all()
    ended = [
        p
        for p in pairs
        if ("mentor" in leaving and p.mentor_id == member_id)
        or ("mentee" in leaving and p.mentee_id == member_id)
    ]
    for pair in ended:
        pair.status, pair.ended_at, pair.ended_reason = status, now, reason
    return ended


def _close_pair_tasks(
    session: Session, year: int, ended: Sequence[PairRow], actor: str, now: datetime
) -> int:
    """A dissolved pair's open check-ins and first meeting are done with."""
    suffixes = tuple(f"/{p.mentor_id}/{p.mentee_id}" for p in ended)
    if not suffixes:
        return 0
    open_tasks = session.scalars(
        select(TaskRow).where(TaskRow.cycle_year == year, TaskRow.done_at.is_(None))
    ).all()
    closed = [t for t in open_tasks if t.key.endswith(suffixes)]
    for task in closed:
        task.done_at, task.done_by = now, f"{actor} (pair dissolved)"
    return len(closed)


def _supersede_proposal(session: Session, year: int) -> int | None:
    """A proposal computed with the withdrawn applicant in it must be proposed again."""
    proposed = pairings.latest_set(session, year, "proposed")
    if proposed is None:
        return None
    proposed.status = "superseded"
    return proposed.id


def _left_behind(pair: PairRow, member_id: str) -> FreedSlot:
    if pair.mentor_id == member_id:
        return FreedSlot(pair.mentee_id, Role.MENTEE)
    return FreedSlot(pair.mentor_id, Role.MENTOR)


def withdraw(
    uow: UnitOfWork,
    year: int,
    member_id: str,
    *,
    role: str | None = None,
    actor: str,
    reason: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Record that ``member_id`` leaves cycle ``year`` (or, for a ``both`` participant, one
    ``role``); dissolve their pairs, tell the committee and the partners left, offer
    re-pairings. Withdrawing again is a no-op."""
    now = now or utcnow()
    _require_text(actor, "an actor is required: say who records the withdrawal (--actor NAME)")
    _require_text(reason, "a reason is required: say why the participant withdraws (--reason)")
    wanted = _role_of(role)
    with uow:
        session = uow.session
        row, state = _locked_state(session, year, WITHDRAWAL_STATES, "participants can withdraw")
        app = _application(session, year, member_id)
        done = _already_withdrawn(app, wanted)
        if done:
            return {"year": year, "member_id": member_id, "changed": False, "message": done}
        applied = app.role
        leaving = _roles_leaving(app, wanted)
        _mark_withdrawn(app, leaving, now)
        approved = pairings.latest_set(session, year, "approved")
        ended = (
            _dissolve(session, approved, member_id, leaving, "withdrawn", reason, now)
            if approved
            else []
        )
        set_aside = (
            _supersede_proposal(session, year) if state is CycleState.applications_closed else None
        )
        _close_pair_tasks(session, year, ended, actor, now)
        announced = state in REPAIRING_STATES
        refresh = _Refresh()
        if announced and approved is not None:
            new = [
                _NewSlot(_left_behind(p, member_id), "withdrawal", (p.mentor_id, p.mentee_id))
                for p in ended
            ]
            refresh = _refresh(session, year, approved, new, now)
        mailer = Mailer(session, cycles.to_domain(session, row))
        items = _withdrawal_items(mailer, app, leaving, reason, now, ended, refresh)
        items += _re_propose_items(year, state, approved is not None and bool(ended), set_aside)
        messages: list[OutgoingMessage | None] = [
            committee_notice(
                mailer, "withdrawal", f"withdrawal-{member_id}-{_what(leaving)}", items
            )
        ]
        if announced:
            messages += _partner_notes(session, mailer, ended, member_id, "withdrawal")
        queued = outbox.enqueue(session, [m for m in messages if m is not None], now)
        record = audit_log.append(
            session,
            kind="participant_withdrawn",
            cycle_year=year,
            at=now,
            actor=actor,
            fields={
                "member_id": member_id,
                "applied_as": applied,
                "withdrew_as": _what(leaving),
                "reason": reason,
                "state": str(state),
                "dissolved": [[p.mentor_id, p.mentee_id] for p in ended],
                "proposal_set_aside": set_aside,
                **_refresh_fields(refresh),
                "messages": queued,
            },
            touched=AUDITED,
        )
        uow.commit()
        return {
            "year": year,
            "member_id": member_id,
            "changed": True,
            "withdrew_as": _what(leaving),
            "dissolved": [{"mentor_id": p.mentor_id, "mentee_id": p.mentee_id} for p in ended],
            "offers": [_offer_view(o) for o in refresh.created],
            "messages": queued,
            "audit_seq": record.seq,
            "message": _withdrawal_message(member_id, leaving, ended, refresh, set_aside),
        }


def _what(leaving: set[str]) -> str:
    return "all" if len(leaving) == 2 else next(iter(leaving))


def _withdrawal_items(
    mailer: Mailer,
    app: ApplicationRow,
    leaving: set[str],
    reason: str,
    now: datetime,
    ended: Sequence[PairRow],
    refresh: _Refresh,
) -> list[str]:
    who = f"{mailer.name(app.member_id)} ({app.member_id})"
    role = "" if len(leaving) == 2 else f" as {next(iter(leaving))}"
    items = [f"{who} withdrew{role} on {now:%Y-%m-%d}: {reason}"]
    items += [f"pair {p.mentor_id} → {p.mentee_id} dissolved" for p in ended]
    return items + _offer_items(mailer, refresh)


def _re_propose_items(
    year: int, state: CycleState, dissolved: bool, set_aside: int | None
) -> list[str]:
    if state is not CycleState.applications_closed or not (dissolved or set_aside):
        return []
    return [
        f"the pairings are not announced yet: run `mentoring pairings propose {year}` and "
        "approve again so the partner left can be paired with everyone else"
    ]


def _offer_items(mailer: Mailer, refresh: _Refresh) -> list[str]:
    return [offer_line(mailer, o) for o in refresh.created]


def _partner_notes(
    session: Session, mailer: Mailer, ended: Sequence[PairRow], gone: str, cause: str
) -> list[OutgoingMessage | None]:
    """The note to each partner a dissolution left short (both sides when the committee
    ended the pair)."""
    active = pairings.approved_pairs(session, mailer.cycle.year)
    notes: list[OutgoingMessage | None] = []
    for pair in ended:
        for me, partner, role in (
            (pair.mentor_id, pair.mentee_id, "mentor"),
            (pair.mentee_id, pair.mentor_id, "mentee"),
        ):
            if me == gone:
                continue
            others = sum(1 for p in active if me in (p.mentor_id, p.mentee_id))
            notes.append(partner_left(mailer, me, partner, role, cause, others))
    return notes


def _withdrawal_message(
    member_id: str,
    leaving: set[str],
    ended: Sequence[PairRow],
    refresh: _Refresh,
    set_aside: int | None,
) -> str:
    role = "" if len(leaving) == 2 else f" as {next(iter(leaving))}"
    parts = [f"{member_id} withdrew{role}"]
    if ended:
        parts.append(f"{len(ended)} pair(s) dissolved")
    if refresh.created:
        parts.append(f"{len(refresh.created)} re-pairing offer(s) for the committee")
    if set_aside:
        parts.append(f"proposal {set_aside} set aside: propose again")
    return "; ".join(parts)


# --- the committee ends a pair ----------------------------------------------------------------


def end_pair(
    uow: UnitOfWork,
    year: int,
    mentor_id: str,
    mentee_id: str,
    *,
    actor: str,
    reason: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The committee ends a pair that does not work: both partners are told and each is
    offered a new partner (never each other again). Ending it again is a no-op."""
    now = now or utcnow()
    _require_text(actor, "an actor is required: say who ends the pair (--actor NAME)")
    _require_text(reason, "a reason is required: say why the pair ends (--reason)")
    with uow:
        session = uow.session
        row, state = _locked_state(session, year, REPAIRING_STATES, "pairs can be ended")
        approved = _approved_set(session, year)
        pair = session.scalars(
            select(PairRow)
            .where(
                PairRow.set_id == approved.id,
                PairRow.mentor_id == mentor_id,
                PairRow.mentee_id == mentee_id,
            )
            .order_by(PairRow.id.desc())
        ).first()
        if pair is None:
            raise DomainError(f"cycle {year} has no pair {mentor_id} → {mentee_id}")
        if pair.status != "active":
            return {
                "year": year,
                "changed": False,
                "message": f"pair {mentor_id} → {mentee_id} already ended ({pair.status}"
                f"{_on(pair.ended_at)}); nothing to do",
            }
        pair.status, pair.ended_at, pair.ended_reason = "ended", now, reason
        _close_pair_tasks(session, year, [pair], actor, now)
        new = [
            _NewSlot(FreedSlot(mentee_id, Role.MENTEE), "ended", (mentor_id, mentee_id)),
            _NewSlot(FreedSlot(mentor_id, Role.MENTOR), "ended", (mentor_id, mentee_id)),
        ]
        refresh = _refresh(session, year, approved, new, now)
        mailer = Mailer(session, cycles.to_domain(session, row))
        items = [f"pair {mentor_id} → {mentee_id} ended by {actor} on {now:%Y-%m-%d}: {reason}"]
        messages: list[OutgoingMessage | None] = [
            committee_notice(
                mailer,
                "repairing_offer",
                f"ended-{mentor_id}-{mentee_id}",
                items + _offer_items(mailer, refresh),
            ),
            *_partner_notes(session, mailer, [pair], "", "ended"),
        ]
        queued = outbox.enqueue(session, [m for m in messages if m is not None], now)
        record = audit_log.append(
            session,
            kind="pair_ended",
            cycle_year=year,
            at=now,
            actor=actor,
            fields={
                "mentor_id": mentor_id,
                "mentee_id": mentee_id,
                "reason": reason,
                "state": str(state),
                **_refresh_fields(refresh),
                "messages": queued,
            },
            touched=AUDITED,
        )
        uow.commit()
        return {
            "year": year,
            "changed": True,
            "offers": [_offer_view(o) for o in refresh.created],
            "messages": queued,
            "audit_seq": record.seq,
            "message": f"pair {mentor_id} → {mentee_id} ended; "
            f"{len(refresh.created)} re-pairing offer(s) for the committee",
        }


# --- offers -----------------------------------------------------------------------------------


def _approved_set(session: Session, year: int) -> PairingSetRow:
    approved = pairings.latest_set(session, year, "approved")
    if approved is None:
        raise DomainError(f"cycle {year} has no approved pairing set")
    return approved


def _open_offers(session: Session, year: int) -> list[RepairingOfferRow]:
    return list(
        session.scalars(
            select(RepairingOfferRow)
            .where(RepairingOfferRow.cycle_year == year, RepairingOfferRow.status == "open")
            .order_by(RepairingOfferRow.id)
        )
    )


def _compute(
    session: Session, year: int, set_row: PairingSetRow, slots: list[FreedSlot]
) -> list[RepairingOffer]:
    """The domain's offers for ``slots`` against the approved set as it stands now."""
    pairs = session.scalars(select(PairRow).where(PairRow.set_id == set_row.id)).all()
    return repairing_rules.repairing_offers(
        slots,
        [(p.mentor_id, p.mentee_id) for p in pairs if p.status == "active"],
        pairings.active_applications(session, year),
        pairings.weights_of(session, year),
        pairings.rules_of(session, year),
        pairings.reference_time(session, year),
        ended=[(p.mentor_id, p.mentee_id) for p in pairs if p.status != "active"],
    )


def _offer_row(
    year: int, set_id: int, cause: str, ended: Pair, offer: RepairingOffer, now: datetime
) -> RepairingOfferRow:
    return RepairingOfferRow(
        cycle_year=year,
        set_id=set_id,
        member_id=offer.slot.member_id,
        role=str(offer.slot.role),
        cause=cause,
        ended_mentor_id=ended[0],
        ended_mentee_id=ended[1],
        mentor_id=offer.mentor_id,
        mentee_id=offer.mentee_id,
        score=offer.score,
        explanation=offer.explanation,
        reason=offer.reason,
        status="open" if offer.needed else "closed",
        created_at=now,
        decided_at=None if offer.needed else now,
    )


def _refresh(
    session: Session,
    year: int,
    set_row: PairingSetRow,
    new: Sequence[_NewSlot],
    now: datetime,
) -> _Refresh:
    """Recompute every open offer (oldest first) and add the new slots' offers.

    An offer whose best pair changed is superseded by a new row (its id never changes
    meaning); one nobody fits keeps its id and gets the current reason; one no longer
    needed is closed.
    """
    rows = _open_offers(session, year)
    offers = _compute(session, year, set_row, [_slot_of(r) for r in rows] + [n.slot for n in new])
    result = _Refresh()
    for row, offer in zip(rows, offers, strict=False):
        if not offer.needed:
            row.status, row.reason, row.decided_at = "closed", offer.reason, now
            result.closed.append(row)
        elif offer.pair is None and row.mentor_id is None:
            row.reason = offer.reason
        elif (row.mentor_id, row.mentee_id, row.score) != (
            offer.mentor_id,
            offer.mentee_id,
            offer.score,
        ):
            ended = (row.ended_mentor_id, row.ended_mentee_id)
            fresh = _offer_row(year, set_row.id, row.cause, ended, offer, now)
            session.add(fresh)
            session.flush()
            row.status, row.superseded_by, row.decided_at = "superseded", fresh.id, now
            result.superseded.append(row)
            result.created.append(fresh)
    for slot, offer in zip(new, offers[len(rows) :], strict=True):
        fresh = _offer_row(year, set_row.id, slot.cause, slot.ended, offer, now)
        session.add(fresh)
        session.flush()
        (result.created if offer.needed else result.closed).append(fresh)
    return result


def _slot_of(row: RepairingOfferRow) -> FreedSlot:
    return FreedSlot(row.member_id, Role(row.role))


def _refresh_fields(refresh: _Refresh) -> dict[str, Any]:
    return {
        "offers_created": [o.id for o in refresh.created],
        "offers_superseded": [o.id for o in refresh.superseded],
        "offers_closed": [o.id for o in refresh.closed],
    }


def _offer_view(offer: RepairingOfferRow) -> dict[str, Any]:
    return {
        "id": offer.id,
        "member_id": offer.member_id,
        "role": offer.role,
        "cause": offer.cause,
        "ended_pair": {"mentor_id": offer.ended_mentor_id, "mentee_id": offer.ended_mentee_id},
        "mentor_id": offer.mentor_id,
        "mentee_id": offer.mentee_id,
        "score": offer.score,
        "explanation": offer.explanation,
        "reason": offer.reason,
        "status": offer.status,
        "created_at": offer.created_at.isoformat(),
    }


def repairing_offers(uow: UnitOfWork, year: int) -> dict[str, Any]:
    """The open re-pairing offers, oldest first (those without a candidate say why)."""
    with uow:
        session = uow.session
        row = cycles.load_row(session, year)
        return {
            "year": year,
            "state": row.state,
            "offers": [_offer_view(o) for o in _open_offers(session, year)],
        }


def repairing_problem(uow: UnitOfWork, year: int) -> str | None:
    """Why re-pairing cannot run now for cycle ``year``, or None when it can."""
    with uow:
        state = CycleState(cycles.load_row(uow.session, year).state)
    if state in REPAIRING_STATES:
        return None
    return (
        f"cycle {year} is in state {state}: re-pairing offers are made only while the cycle "
        f"is in {_listing(REPAIRING_STATES)}"
    )


def refresh_offers(
    uow: UnitOfWork, year: int, *, actor: str, now: datetime | None = None
) -> dict[str, Any]:
    """Recompute the open offers against today's pairs and waiting list; audited only when
    something changed, and the committee is told of new offers."""
    now = now or utcnow()
    with uow:
        session = uow.session
        row, _ = _locked_state(session, year, REPAIRING_STATES, "re-pairing offers are made")
        refresh = _refresh(session, year, _approved_set(session, year), [], now)
        if refresh.changed:
            mailer = Mailer(session, cycles.to_domain(session, row))
            queued = 0
            if refresh.created:
                ids = [o.id for o in refresh.created]
                notice = committee_notice(
                    mailer,
                    "repairing_offer",
                    f"offers-{ids[0]}-{ids[-1]}",
                    _offer_items(mailer, refresh),
                )
                queued = outbox.enqueue(session, [notice], now)
            audit_log.append(
                session,
                kind="repairing_refreshed",
                cycle_year=year,
                at=now,
                actor=actor,
                fields={**_refresh_fields(refresh), "messages": queued},
                touched=("repairing_offers", "messages"),
            )
            uow.commit()
        offers = [_offer_view(o) for o in _open_offers(session, year)]
    return {
        "year": year,
        "changed": refresh.changed,
        "offers": offers,
        "message": f"{len(offers)} open re-pairing offer(s)"
        + (
            f"; {len(refresh.created)} new, {len(refresh.closed)} closed"
            if refresh.changed
            else "; nothing changed"
        ),
    }


# --- approving an offer -----------------------------------------------------------------------


def _find_offer(
    session: Session,
    year: int,
    offer_id: int | None,
    mentor_id: str | None,
    mentee_id: str | None,
) -> RepairingOfferRow:
    if offer_id is not None:
        offer = session.get(RepairingOfferRow, offer_id)
        if offer is None or offer.cycle_year != year:
            raise DomainError(
                f"cycle {year} has no re-pairing offer {offer_id}; "
                f"see `mentoring repairing list {year}`"
            )
        return offer
    if mentor_id is None or mentee_id is None:
        raise DomainError("name the offer: its id, or its mentor and mentee")
    offers = session.scalars(
        select(RepairingOfferRow)
        .where(
            RepairingOfferRow.cycle_year == year,
            RepairingOfferRow.mentor_id == mentor_id,
            RepairingOfferRow.mentee_id == mentee_id,
            RepairingOfferRow.status.in_(("open", "approved")),
        )
        .order_by(RepairingOfferRow.id.desc())
    ).first()
    if offers is None:
        raise DomainError(
            f"cycle {year} has no open re-pairing offer of {mentor_id} → {mentee_id}; "
            f"see `mentoring repairing list {year}`"
        )
    return offers


def _refuse_unapprovable(offer: RepairingOfferRow, year: int) -> None:
    if offer.status == "superseded":
        raise DomainError(
            f"offer {offer.id} was superseded by offer {offer.superseded_by}; approve that one "
            f"(see `mentoring repairing list {year}`)"
        )
    if offer.status == "closed":
        raise DomainError(f"offer {offer.id} is closed: {offer.reason}")
    if offer.mentor_id is None or offer.mentee_id is None:
        raise DomainError(f"offer {offer.id} has no candidate to approve: {offer.reason}")


def _new_pair_tasks(
    session: Session, row: CycleRow, mentor_id: str, mentee_id: str, now: datetime
) -> int:
    """Once mentoring has begun, a new pair gets its first meeting and the check-ins ahead."""
    if CycleState(row.state) is not CycleState.active:
        return 0
    calendar = cycles.calendar_of(session, row)
    specs = [
        s
        for s in tasks_for(CycleEvent.start_mentoring, row.year, calendar, [(mentor_id, mentee_id)])
        if "/first-meeting/" not in s.key and s.due_at > now
    ]
    specs.append(
        TaskSpec(
            f"{row.year}/repairing/first-meeting/{mentor_id}/{mentee_id}",
            PARTICIPANT,
            f"First meeting of {mentor_id} and {mentee_id}",
            now + FIRST_MEETING_WITHIN,
            mentee_id,
        )
    )
    return tasks.add(session, specs, row.year, now)


def approve_repairing(
    uow: UnitOfWork,
    year: int,
    offer_id: int | None = None,
    *,
    mentor_id: str | None = None,
    mentee_id: str | None = None,
    actor: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Make an offer's pair active in the approved set and tell both partners; approving
    it again is a no-op, a superseded or closed offer is refused."""
    now = now or utcnow()
    _require_text(actor, "an actor is required: say who approves the re-pairing (--actor NAME)")
    with uow:
        session = uow.session
        row, _ = _locked_state(session, year, REPAIRING_STATES, "re-pairings can be approved")
        offer = _find_offer(session, year, offer_id, mentor_id, mentee_id)
        if offer.status == "approved":
            return {
                "year": year,
                "offer_id": offer.id,
                "changed": False,
                "message": f"offer {offer.id} ({offer.mentor_id} → {offer.mentee_id}) is already "
                f"approved by {offer.decided_by}; nothing to do",
            }
        approved = _approved_set(session, year)
        before = _refresh(session, year, approved, [], now)
        _refuse_unapprovable(offer, year)
        assert offer.mentor_id is not None and offer.mentee_id is not None
        session.add(
            PairRow(
                set_id=approved.id,
                mentor_id=offer.mentor_id,
                mentee_id=offer.mentee_id,
                score=offer.score,
                explanation=offer.explanation,
                status="active",
            )
        )
        offer.status, offer.decided_at, offer.decided_by = "approved", now, actor
        session.flush()
        after = _refresh(session, year, approved, [], now)
        created = _new_pair_tasks(session, row, offer.mentor_id, offer.mentee_id, now)
        mailer = Mailer(session, cycles.to_domain(session, row))
        queued = outbox.enqueue(
            session, pairing_notices(mailer, offer.mentor_id, offer.mentee_id), now
        )
        changes = _Refresh(
            before.created + after.created,
            before.superseded + after.superseded,
            before.closed + after.closed,
        )
        record = audit_log.append(
            session,
            kind="repairing_approved",
            cycle_year=year,
            at=now,
            actor=actor,
            fields={
                "offer_id": offer.id,
                "mentor_id": offer.mentor_id,
                "mentee_id": offer.mentee_id,
                "score": offer.score,
                "set_id": approved.id,
                **_refresh_fields(changes),
                "messages": queued,
                "tasks": created,
            },
            touched=AUDITED,
        )
        uow.commit()
        return {
            "year": year,
            "offer_id": offer.id,
            "changed": True,
            "mentor_id": offer.mentor_id,
            "mentee_id": offer.mentee_id,
            "score": offer.score,
            "messages": queued,
            "tasks": created,
            "audit_seq": record.seq,
            "message": f"offer {offer.id} approved by {actor}: {offer.mentor_id} now mentors "
            f"{offer.mentee_id}; both are told",
        }
