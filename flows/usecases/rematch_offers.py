"""Dissolving pairs and keeping the re-pairing offers current, for withdrawals
(:mod:`flows.usecases.withdrawing`) and the committee's re-pairing work
(:mod:`flows.usecases.rematch`) alike.

Every open offer is recomputed (oldest first) whenever a pair dissolves or a re-pairing is
approved. An offer whose best pair changed is superseded by a new one, so an id the
committee read never gets approved with a different pair; one nobody fits keeps its id
and gets the current reason; one no longer needed is closed.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.errors import DomainError
from domain.offers import FreedSlot, StoredOffer
from domain.pairing_status import PairingSetStatus, PairStatus
from domain.pairs import Pair, PairingSet
from domain.rematch import RematchOffer, rematch_offers
from flows.usecases.matching_inputs import matching_inputs
from infra.uow import UnitOfWork


@dataclass(frozen=True)
class NewSlot:
    """A slot a dissolution just opened, what opened it (``withdrawal`` or ``ended``) and the
    pair it came from."""

    slot: FreedSlot
    cause: str
    ended: tuple[str, str]


@dataclass(frozen=True)
class OfferChanges:
    """What recomputing the offers changed."""

    created: tuple[StoredOffer, ...] = ()
    superseded: tuple[StoredOffer, ...] = ()
    closed: tuple[StoredOffer, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.created or self.superseded or self.closed)

    def __add__(self, later: "OfferChanges") -> "OfferChanges":
        return OfferChanges(
            self.created + later.created,
            self.superseded + later.superseded,
            self.closed + later.closed,
        )

    def audit_fields(self) -> dict[str, list[int]]:
        return {
            "offers_created": [o.id for o in self.created],
            "offers_superseded": [o.id for o in self.superseded],
            "offers_closed": [o.id for o in self.closed],
        }


def offer_dict(offer: StoredOffer) -> dict[str, Any]:
    """An offer as ``--json`` and the Prefect artifact show it."""
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
        "status": str(offer.status),
        "created_at": offer.created_at.isoformat(),
    }


def approved_set(uow: UnitOfWork, year: int) -> PairingSet:
    approved = uow.pairings.latest_set(year, PairingSetStatus.approved)
    if approved is None:
        raise DomainError(f"cycle {year} has no approved pairing set")
    return approved


def dissolve(
    uow: UnitOfWork,
    year: int,
    pairs: Sequence[Pair],
    status: PairStatus,
    *,
    reason: str,
    actor: str,
    now: datetime,
) -> list[Pair]:
    """End ``pairs`` (``withdrawn`` or ``ended``); their open check-ins and first meeting
    are done with."""
    ended = uow.pairings.end_pairs(pairs, status, reason, now)
    suffixes = tuple(f"/{p.mentor_id}/{p.mentee_id}" for p in ended)
    if suffixes:
        done = [t.id for t in uow.tasks.open_of_cycle(year) if t.key.endswith(suffixes)]
        uow.tasks.mark_done(done, f"{actor} (pair dissolved)", now)
    return ended


def recompute(
    uow: UnitOfWork, year: int, approved: PairingSet, new: Sequence[NewSlot], now: datetime
) -> OfferChanges:
    """Recompute every open offer against the approved set as it stands, and add the new
    slots' offers (see the module's docstring)."""
    stored = uow.offers.open(year)
    offers = _compute(uow, year, approved, [o.slot for o in stored] + [n.slot for n in new])
    created: list[StoredOffer] = []
    superseded: list[StoredOffer] = []
    closed: list[StoredOffer] = []
    for old, offer in zip(stored, offers, strict=False):
        if not offer.needed:
            closed.append(uow.offers.close(old.id, offer.reason, now))
        elif offer.pair is None and old.mentor_id is None:
            uow.offers.explain(old.id, offer.reason)
        elif (old.mentor_id, old.mentee_id, old.score) != (
            offer.mentor_id,
            offer.mentee_id,
            offer.score,
        ):
            fresh = uow.offers.add(year, approved.id, old.cause, old.ended_pair, offer, now)
            superseded.append(uow.offers.supersede(old.id, fresh.id, now))
            created.append(fresh)
    for slot, offer in zip(new, offers[len(stored) :], strict=True):
        fresh = uow.offers.add(year, approved.id, slot.cause, slot.ended, offer, now)
        (created if offer.needed else closed).append(fresh)
    return OfferChanges(tuple(created), tuple(superseded), tuple(closed))


def _compute(
    uow: UnitOfWork, year: int, approved: PairingSet, slots: list[FreedSlot]
) -> list[RematchOffer]:
    """The domain's offers for ``slots`` against the approved set as it stands now."""
    pairs = uow.pairings.pairs_of(approved.id)
    given = matching_inputs(uow, year)
    return rematch_offers(
        slots,
        [p.members for p in pairs if p.status is PairStatus.active],
        given.apps,
        given.weights,
        given.rules,
        given.ref,
        ended=[p.members for p in pairs if p.status is not PairStatus.active],
    )
