"""Telling the committee about a pair that needs attention, once per pair and month; when a
partner asked the committee to get in touch, with the re-pairing the program would offer
if the committee ended the pair (computed as ``repairing end-pair`` would, nothing
stored: ending the pair is the committee's decision).

Nothing a partner wrote goes into the notice: the reasons are the program's own sentences.
"""

from dataclasses import dataclass
from datetime import datetime

from domain.applications import Role
from domain.engagement import ATTENTION_WITHIN, asked_for_contact, pair_reasons
from domain.errors import DomainError
from domain.offers import FreedSlot
from domain.pairing_status import PairingSetStatus, PairStatus
from domain.pairs import Pair
from domain.rematch import RematchOffer, rematch_offers
from domain.values import actor_name
from flows.usecases.clock import utcnow
from flows.usecases.effects import Mailer
from flows.usecases.matching_inputs import matching_inputs
from flows.usecases.rematch_mail import committee_notice
from infra.uow import UnitOfWork

NOTICE = "tasks_due"
"""The committee notice this goes out as ("Tasks coming due": the "get in touch" task)."""


@dataclass(frozen=True)
class AttentionNotice:
    """What the committee was told about one pair (``messages`` 0: told before, or the pair
    no longer needs attention)."""

    year: int
    pair_id: int
    flagged: bool
    messages: int
    proposals: tuple[str, ...]
    message: str


def tell_the_committee(
    uow: UnitOfWork, year: int, pair_id: int, *, actor: str, now: datetime | None = None
) -> AttentionNotice:
    """Queue the committee's notice about pair ``pair_id`` (once per pair and month) with
    the reasons as they stand now, and the re-pairing proposal when a partner asked for
    contact; audited when something was queued."""
    now = now or utcnow()
    actor = actor_name(actor)
    with uow:
        cycle = uow.cycles.get(year)
        pair = uow.engagement.approved_pair(year, pair_id)
        if pair is None:
            raise DomainError(f"cycle {year} has no pair {pair_id}")
        history = uow.engagement.check_ins(pair.id, cycle.calendar.tz)
        reasons = pair_reasons(history, uow.engagement.meeting_days(pair.id))
        if not reasons or pair.status is not PairStatus.active:
            return AttentionNotice(
                year, pair.id, False, 0, (), f"pair {pair.id} does not need attention now"
            )
        month = max(c.month for c in history)
        mailer = Mailer(uow, cycle)
        proposals = tuple(_proposals(uow, mailer, pair)) if asked_for_contact(history) else ()
        due = (now + ATTENTION_WITHIN).astimezone(cycle.calendar.tz)
        who = (
            f"{mailer.name(pair.mentor_id)} ({pair.mentor_id}) and "
            f"{mailer.name(pair.mentee_id)} ({pair.mentee_id})"
        )
        items = [f"Get in touch with {who} by {due:%b %d}: {'; '.join(reasons)}", *proposals]
        notice = committee_notice(
            mailer, NOTICE, f"attention-{month}-{pair.mentor_id}-{pair.mentee_id}", items
        )
        queued = uow.outbox.enqueue([notice], now)
        if queued:
            uow.audit.append(
                kind="pair_attention_told",
                cycle_year=year,
                at=now,
                actor=actor,
                fields={
                    "pair_id": pair.id,
                    "mentor_id": pair.mentor_id,
                    "mentee_id": pair.mentee_id,
                    "month": month,
                    "reasons": reasons,
                    "proposals": list(proposals),
                    "messages": queued,
                },
            )
            uow.commit()
    told = "the committee is told" if queued else "the committee was told before"
    return AttentionNotice(
        year, pair.id, True, queued, proposals, f"pair {pair.id} needs attention; {told}"
    )


def _proposals(uow: UnitOfWork, mailer: Mailer, pair: Pair) -> list[str]:
    """The best new partner for each side if the pair ended, in the committee's words."""
    year = mailer.cycle.year
    approved = uow.pairings.latest_set(year, PairingSetStatus.approved)
    if approved is None:
        return []
    pairs = uow.pairings.pairs_of(approved.id)
    given = matching_inputs(uow, year)
    offers = rematch_offers(
        [FreedSlot(pair.mentee_id, Role.MENTEE), FreedSlot(pair.mentor_id, Role.MENTOR)],
        [p.members for p in pairs if p.status is PairStatus.active and p.id != pair.id],
        given.apps,
        given.weights,
        given.rules,
        given.ref,
        ended=[p.members for p in pairs if p.status is not PairStatus.active] + [pair.members],
    )
    return [_proposal_line(mailer, offer) for offer in offers]


def _proposal_line(mailer: Mailer, offer: RematchOffer) -> str:
    slot = offer.slot
    wanted = "mentor" if slot.role is Role.MENTEE else "mentee"
    left = f"{mailer.name(slot.member_id)} ({slot.member_id})"
    if offer.pair is None:
        return f"If the pair ends: no new {wanted} for {left} yet: {offer.reason}"
    partner = offer.pair.mentor_id if slot.role is Role.MENTEE else offer.pair.mentee_id
    return (
        f"If the pair ends (`repairing end-pair`): a new {wanted} for {left}: "
        f"{mailer.name(partner)} ({partner}), score {offer.pair.score:g}: {offer.explanation}"
    )
