"""A participant withdraws from a cycle, or from one role of it.

Before pairing, a withdrawal only marks the application, so the next proposal leaves the
member out (a proposal already computed with them in it is set aside). Once a set is
approved it also dissolves that member's pairs in the roles they leave (a mentor's other
pairs stay), and once pairings are announced each partner left short is told and gets a
re-pairing offer the committee can approve. The change, its audit record and its messages
commit together; the CLI and the Prefect flow call this.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.activities import Activity, is_allowed, require
from domain.cycle_states import CycleState, Trigger
from domain.errors import DomainError, MissingValue
from domain.notifications import OutgoingMessage
from domain.offers import StoredOffer
from domain.pairing_status import PairingSetStatus, PairStatus
from domain.pairs import Pair
from domain.values import MEMBER_ID_MAX, actor_name, reason_text, single_line
from domain.withdrawal import Withdrawal, already_withdrawn, role_named, withdrawal
from flows.usecases.clock import utcnow
from flows.usecases.effects import Mailer
from flows.usecases.rematch_mail import committee_notice, offer_lines, partner_notes
from flows.usecases.rematch_offers import (
    NewSlot,
    OfferChanges,
    dissolve,
    offer_dict,
    recompute,
)
from infra.uow import UnitOfWork


@dataclass(frozen=True)
class WithdrawalResult:
    """What a withdrawal did: the pairs it dissolved and the re-pairing offers it made; or,
    when it was recorded before, ``changed`` False and why."""

    year: int
    member_id: str
    changed: bool
    message: str
    withdrew_as: str | None = None
    dissolved: tuple[tuple[str, str], ...] = ()
    offers: tuple[StoredOffer, ...] = ()
    messages: int = 0
    audit_seq: int | None = None

    def as_dict(self) -> dict[str, Any]:
        if not self.changed:
            return {
                "year": self.year,
                "member_id": self.member_id,
                "changed": False,
                "message": self.message,
            }
        return {
            "year": self.year,
            "member_id": self.member_id,
            "changed": True,
            "withdrew_as": self.withdrew_as,
            "dissolved": [{"mentor_id": m, "mentee_id": e} for m, e in self.dissolved],
            "offers": [offer_dict(o) for o in self.offers],
            "messages": self.messages,
            "audit_seq": self.audit_seq,
            "message": self.message,
        }


def withdraw(
    uow: UnitOfWork,
    year: int,
    member_id: str,
    *,
    role: str | None = None,
    actor: str,
    reason: str,
    trigger: Trigger = Trigger.cli,
    now: datetime | None = None,
) -> WithdrawalResult:
    """Record that ``member_id`` leaves cycle ``year`` (or, for a ``both`` participant, one
    ``role``); dissolve their pairs, tell the committee and the partners left, offer
    re-pairings. Withdrawing again is a no-op. ``trigger`` says where it was asked: the
    command line, the committee's Prefect form, or the member on the site."""
    now = now or utcnow()
    actor, reason = actor_name(actor), reason_text(reason)
    if not reason:
        raise MissingValue("reason", "a reason is required: say why the participant withdraws")
    member_id = single_line(member_id, "member_id", MEMBER_ID_MAX)
    wanted = role_named(role)
    with uow:
        cycle = uow.cycles.get(year, for_update=True)
        state = cycle.state
        require(Activity.withdrawal, state, year)
        enrolment = uow.applications.get(year, member_id)
        if enrolment is None:
            raise DomainError(f"{member_id} has no application in cycle {year}")
        done = already_withdrawn(enrolment, wanted)
        if done:
            return WithdrawalResult(year, member_id, False, done)
        leaving = withdrawal(enrolment, wanted)
        uow.applications.withdraw(year, member_id, leaving.staying, now)
        approved = uow.pairings.latest_set(year, PairingSetStatus.approved)
        ended: list[Pair] = []
        if approved is not None:
            held = [
                p
                for p in uow.pairings.pairs_of(approved.id)
                if p.status is PairStatus.active and leaving.ends(p)
            ]
            ended = dissolve(
                uow, year, held, PairStatus.withdrawn, reason=reason, actor=actor, now=now
            )
        set_aside = (
            max(uow.pairings.supersede_proposals(year), default=None)
            if state is CycleState.applications_closed
            else None
        )
        announced = is_allowed(Activity.repairing_offers, state)
        changes = OfferChanges()
        if announced and approved is not None:
            new = [NewSlot(leaving.left_behind(p), "withdrawal", p.members) for p in ended]
            changes = recompute(uow, year, approved, new, now)
        mailer = Mailer(uow, cycle)
        items = _notice_items(mailer, leaving, reason, now, ended, changes)
        items += _re_propose_items(year, state, approved is not None and bool(ended), set_aside)
        messages: list[OutgoingMessage | None] = [
            committee_notice(
                mailer, "withdrawal", f"withdrawal-{member_id}-{leaving.withdrew_as}", items
            )
        ]
        if announced:
            active = uow.pairings.approved_pairs(year)
            messages += partner_notes(mailer, ended, active, member_id, "withdrawal")
        queued = uow.outbox.enqueue([m for m in messages if m is not None], now)
        record = uow.audit.append(
            kind="participant_withdrawn",
            cycle_year=year,
            at=now,
            actor=actor,
            fields={
                "member_id": member_id,
                "applied_as": str(leaving.applied_as),
                "withdrew_as": leaving.withdrew_as,
                "reason": reason,
                "trigger": str(trigger),
                "state": str(state),
                "dissolved": [[p.mentor_id, p.mentee_id] for p in ended],
                "proposal_set_aside": set_aside,
                **changes.audit_fields(),
                "messages": queued,
            },
        )
        uow.commit()
        return WithdrawalResult(
            year,
            member_id,
            True,
            _summary(leaving, ended, changes, set_aside),
            withdrew_as=leaving.withdrew_as,
            dissolved=tuple(p.members for p in ended),
            offers=changes.created,
            messages=queued,
            audit_seq=record.seq,
        )


def _notice_items(
    mailer: Mailer,
    leaving: Withdrawal,
    reason: str,
    now: datetime,
    ended: Sequence[Pair],
    changes: OfferChanges,
) -> list[str]:
    who = f"{mailer.name(leaving.member_id)} ({leaving.member_id})"
    items = [f"{who} withdrew{leaving.as_role} on {now:%Y-%m-%d}: {reason}"]
    items += [f"pair {p.mentor_id} → {p.mentee_id} dissolved" for p in ended]
    return items + offer_lines(mailer, changes.created)


def _re_propose_items(
    year: int, state: CycleState, dissolved: bool, set_aside: int | None
) -> list[str]:
    """Before the announcement, the committee re-proposes so the partner left is paired
    with everyone else (the notice is mail to the committee, so it names the command)."""
    if state is not CycleState.applications_closed or not (dissolved or set_aside):
        return []
    return [
        f"the pairings are not announced yet: run `mentoring pairings propose {year}` and "
        "approve again so the partner left can be paired with everyone else"
    ]


def _summary(
    leaving: Withdrawal, ended: Sequence[Pair], changes: OfferChanges, set_aside: int | None
) -> str:
    parts = [f"{leaving.member_id} withdrew{leaving.as_role}"]
    if ended:
        parts.append(f"{len(ended)} pair(s) dissolved")
    if changes.created:
        parts.append(f"{len(changes.created)} re-pairing offer(s) for the committee")
    if set_aside:
        parts.append(f"proposal {set_aside} set aside: propose again")
    return "; ".join(parts)
