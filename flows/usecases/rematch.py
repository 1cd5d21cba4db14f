"""Re-pairing once pairings are announced: the committee ends a pair that does not work,
lists and recomputes the open offers, and approves one.

An approved offer's pair joins the approved set and both partners get the program's
pairing notice. Every change, its audit record and its messages commit together; the CLI
and the Prefect flows call these.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.activities import Activity, refusal, require
from domain.applications import Role
from domain.cycle_states import CycleState
from domain.errors import DomainError, MissingValue
from domain.followups import repaired_pair_tasks
from domain.offers import FreedSlot, OfferStatus, StoredOffer
from domain.pairing_status import PairStatus
from domain.values import MEMBER_ID_MAX, actor_name, reason_text, single_line
from flows.usecases.clock import utcnow
from flows.usecases.effects import Mailer, pairing_notices
from flows.usecases.rematch_mail import committee_notice, offer_lines, partner_notes
from flows.usecases.rematch_offers import (
    NewSlot,
    approved_set,
    dissolve,
    offer_dict,
    recompute,
)
from infra.uow import UnitOfWork

SEE_OFFERS = "see the open re-pairing offers"


@dataclass(frozen=True)
class PairEnding:
    """A pair the committee ended and the offers it made; ``changed`` False when it had
    ended before."""

    year: int
    changed: bool
    message: str
    offers: tuple[StoredOffer, ...] = ()
    messages: int = 0
    audit_seq: int | None = None

    def as_dict(self) -> dict[str, Any]:
        if not self.changed:
            return {"year": self.year, "changed": False, "message": self.message}
        return {
            "year": self.year,
            "changed": True,
            "offers": [offer_dict(o) for o in self.offers],
            "messages": self.messages,
            "audit_seq": self.audit_seq,
            "message": self.message,
        }


@dataclass(frozen=True)
class OpenOffers:
    """The open re-pairing offers of a cycle, oldest first."""

    year: int
    state: CycleState
    offers: tuple[StoredOffer, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "state": str(self.state),
            "offers": [offer_dict(o) for o in self.offers],
        }


@dataclass(frozen=True)
class OfferRefresh:
    """The open offers after recomputing them, and whether anything changed."""

    year: int
    changed: bool
    offers: tuple[StoredOffer, ...]
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "changed": self.changed,
            "offers": [offer_dict(o) for o in self.offers],
            "message": self.message,
        }


@dataclass(frozen=True)
class RematchApproval:
    """The offer approved now and what followed, or (``changed`` False) the one approved
    before."""

    year: int
    offer_id: int
    changed: bool
    message: str
    mentor_id: str | None = None
    mentee_id: str | None = None
    score: float | None = None
    messages: int = 0
    tasks: int = 0
    audit_seq: int | None = None

    def as_dict(self) -> dict[str, Any]:
        if not self.changed:
            return {
                "year": self.year,
                "offer_id": self.offer_id,
                "changed": False,
                "message": self.message,
            }
        return {
            "year": self.year,
            "offer_id": self.offer_id,
            "changed": True,
            "mentor_id": self.mentor_id,
            "mentee_id": self.mentee_id,
            "score": self.score,
            "messages": self.messages,
            "tasks": self.tasks,
            "audit_seq": self.audit_seq,
            "message": self.message,
        }


def end_pair(
    uow: UnitOfWork,
    year: int,
    mentor_id: str,
    mentee_id: str,
    *,
    actor: str,
    reason: str,
    now: datetime | None = None,
) -> PairEnding:
    """The committee ends a pair that does not work: both partners are told and each is
    offered a new partner (never each other again). Ending it again is a no-op."""
    now = now or utcnow()
    actor, reason = actor_name(actor), reason_text(reason)
    if not reason:
        raise MissingValue("reason", "a reason is required: say why the pair ends")
    mentor_id = single_line(mentor_id, "mentor_id", MEMBER_ID_MAX)
    mentee_id = single_line(mentee_id, "mentee_id", MEMBER_ID_MAX)
    with uow:
        cycle = uow.cycles.get(year, for_update=True)
        require(Activity.ending_pairs, cycle.state, year)
        approved = approved_set(uow, year)
        pair = uow.pairings.find_pair(approved.id, mentor_id, mentee_id)
        if pair is None:
            raise DomainError(f"cycle {year} has no pair {mentor_id} → {mentee_id}")
        if pair.status is not PairStatus.active:
            on = f" on {pair.ended_at:%Y-%m-%d}" if pair.ended_at else ""
            return PairEnding(
                year,
                False,
                f"pair {mentor_id} → {mentee_id} already ended ({pair.status}{on}); nothing to do",
            )
        dissolve(uow, year, [pair], PairStatus.ended, reason=reason, actor=actor, now=now)
        new = [
            NewSlot(FreedSlot(mentee_id, Role.MENTEE), "ended", pair.members),
            NewSlot(FreedSlot(mentor_id, Role.MENTOR), "ended", pair.members),
        ]
        changes = recompute(uow, year, approved, new, now)
        mailer = Mailer(uow, cycle)
        items = [f"pair {mentor_id} → {mentee_id} ended by {actor} on {now:%Y-%m-%d}: {reason}"]
        active = uow.pairings.approved_pairs(year)
        messages = [
            committee_notice(
                mailer,
                "repairing_offer",
                f"ended-{mentor_id}-{mentee_id}",
                items + offer_lines(mailer, changes.created),
            ),
            *partner_notes(mailer, [pair], active, "", "ended"),
        ]
        queued = uow.outbox.enqueue([m for m in messages if m is not None], now)
        record = uow.audit.append(
            kind="pair_ended",
            cycle_year=year,
            at=now,
            actor=actor,
            fields={
                "mentor_id": mentor_id,
                "mentee_id": mentee_id,
                "reason": reason,
                "state": str(cycle.state),
                **changes.audit_fields(),
                "messages": queued,
            },
        )
        uow.commit()
        return PairEnding(
            year,
            True,
            f"pair {mentor_id} → {mentee_id} ended; "
            f"{len(changes.created)} re-pairing offer(s) for the committee",
            changes.created,
            queued,
            record.seq,
        )


def open_offers(uow: UnitOfWork, year: int) -> OpenOffers:
    """The open re-pairing offers, oldest first (those without a candidate say why)."""
    with uow:
        state = uow.cycles.state_of(year)
        return OpenOffers(year, state, tuple(uow.offers.open(year)))


def rematch_refusal(uow: UnitOfWork, year: int) -> str | None:
    """Why re-pairing offers cannot be made now for cycle ``year``, or None when they can."""
    with uow:
        state = uow.cycles.state_of(year)
    return refusal(Activity.repairing_offers, state, year)


def refresh_offers(
    uow: UnitOfWork, year: int, *, actor: str, now: datetime | None = None
) -> OfferRefresh:
    """Recompute the open offers against today's pairs and waiting list; audited only when
    something changed, and the committee is told of new offers."""
    now = now or utcnow()
    actor = actor_name(actor)
    with uow:
        cycle = uow.cycles.get(year, for_update=True)
        require(Activity.repairing_offers, cycle.state, year)
        changes = recompute(uow, year, approved_set(uow, year), [], now)
        if changes.changed:
            queued = 0
            if changes.created:
                mailer = Mailer(uow, cycle)
                ids = [o.id for o in changes.created]
                notice = committee_notice(
                    mailer,
                    "repairing_offer",
                    f"offers-{ids[0]}-{ids[-1]}",
                    offer_lines(mailer, changes.created),
                )
                queued = uow.outbox.enqueue([notice], now)
            uow.audit.append(
                kind="repairing_refreshed",
                cycle_year=year,
                at=now,
                actor=actor,
                fields={**changes.audit_fields(), "messages": queued},
            )
            uow.commit()
        offers = tuple(uow.offers.open(year))
    counts = (
        f"; {len(changes.created)} new, {len(changes.closed)} closed"
        if changes.changed
        else "; nothing changed"
    )
    return OfferRefresh(
        year, changes.changed, offers, f"{len(offers)} open re-pairing offer(s){counts}"
    )


def _find_offer(
    uow: UnitOfWork,
    year: int,
    offer_id: int | None,
    mentor_id: str | None,
    mentee_id: str | None,
) -> StoredOffer:
    if offer_id is not None:
        offer = uow.offers.get(year, offer_id)
        if offer is None:
            raise DomainError(f"cycle {year} has no re-pairing offer {offer_id}; {SEE_OFFERS}")
        return offer
    if mentor_id is None or mentee_id is None:
        raise DomainError("name the offer: its id, or its mentor and mentee")
    mentor_id = single_line(mentor_id, "mentor_id", MEMBER_ID_MAX)
    mentee_id = single_line(mentee_id, "mentee_id", MEMBER_ID_MAX)
    found = uow.offers.latest_for_pair(year, mentor_id, mentee_id)
    if found is None:
        raise DomainError(
            f"cycle {year} has no open re-pairing offer of {mentor_id} → {mentee_id}; {SEE_OFFERS}"
        )
    return found


def _refuse_unapprovable(offer: StoredOffer) -> tuple[str, str, float]:
    """The offered pair and its score; a superseded or closed offer, or one without a
    candidate, is refused."""
    if offer.status is OfferStatus.superseded:
        raise DomainError(
            f"offer {offer.id} was superseded by offer {offer.superseded_by}; approve that one "
            f"({SEE_OFFERS})"
        )
    if offer.status is OfferStatus.closed:
        raise DomainError(f"offer {offer.id} is closed: {offer.reason}")
    if offer.mentor_id is None or offer.mentee_id is None or offer.score is None:
        raise DomainError(f"offer {offer.id} has no candidate to approve: {offer.reason}")
    return offer.mentor_id, offer.mentee_id, offer.score


def approve(
    uow: UnitOfWork,
    year: int,
    offer_id: int | None = None,
    *,
    mentor_id: str | None = None,
    mentee_id: str | None = None,
    actor: str,
    now: datetime | None = None,
) -> RematchApproval:
    """Make an offer's pair active in the approved set and tell both partners; approving
    it again is a no-op, a superseded or closed offer is refused."""
    now = now or utcnow()
    actor = actor_name(actor)
    with uow:
        cycle = uow.cycles.get(year, for_update=True)
        require(Activity.repairing_approval, cycle.state, year)
        offer = _find_offer(uow, year, offer_id, mentor_id, mentee_id)
        if offer.status is OfferStatus.approved:
            return RematchApproval(
                year,
                offer.id,
                False,
                f"offer {offer.id} ({offer.mentor_id} → {offer.mentee_id}) is already "
                f"approved by {offer.decided_by}; nothing to do",
            )
        approved = approved_set(uow, year)
        before = recompute(uow, year, approved, [], now)
        offer = uow.offers.get(year, offer.id) or offer
        mentor, mentee, score = _refuse_unapprovable(offer)
        uow.pairings.add_pair(approved.id, mentor, mentee, score, offer.explanation or "")
        uow.offers.approve(offer.id, actor, now)
        after = recompute(uow, year, approved, [], now)
        specs = repaired_pair_tasks(year, cycle.calendar, cycle.state, mentor, mentee, now)
        created = uow.tasks.add(specs, year, now)
        mailer = Mailer(uow, cycle)
        notices = [m for m in pairing_notices(mailer, [(mentor, mentee)]) if m is not None]
        queued = uow.outbox.enqueue(notices, now)
        changes = before + after
        record = uow.audit.append(
            kind="repairing_approved",
            cycle_year=year,
            at=now,
            actor=actor,
            fields={
                "offer_id": offer.id,
                "mentor_id": mentor,
                "mentee_id": mentee,
                "score": score,
                "set_id": approved.id,
                **changes.audit_fields(),
                "messages": queued,
                "tasks": created,
            },
        )
        uow.commit()
        return RematchApproval(
            year,
            offer.id,
            True,
            f"offer {offer.id} approved by {actor}: {mentor} now mentors {mentee}; both are told",
            mentor,
            mentee,
            score,
            queued,
            created,
            record.seq,
        )
