"""The messages withdrawals and re-pairings send: to the committee, and to each partner a
dissolved pair left short.

The committee's notices are the program's ``committee_notice`` kind; the note to the partner
left behind is the ``partner_left`` kind. A re-paired pair gets the program's own pairing
notice (:func:`flows.usecases.effects.pairing_notices`).
"""

from collections.abc import Sequence

from domain.notifications import MessageKind, OutgoingMessage
from domain.offers import StoredOffer
from domain.pairs import Pair
from flows.usecases.effects import Mailer

K = MessageKind
COMMITTEE_NAME = "Mentoring committee"


def committee_notice(
    mailer: Mailer, notice: str, discriminator: str, items: Sequence[str]
) -> OutgoingMessage:
    """One notice to the committee's address (``withdrawal`` or ``repairing_offer``)."""
    return mailer.to_address(
        K.committee_notice,
        "committee",
        mailer.program.committee_email,
        COMMITTEE_NAME,
        discriminator,
        notice=notice,
        items=list(items),
    )


def partner_left(
    mailer: Mailer, member_id: str, partner_id: str, role: str, cause: str, other_pairs: int
) -> OutgoingMessage | None:
    """Tell ``member_id`` their ``role`` pair with ``partner_id`` dissolved and that the
    committee is looking for a new partner; None if the member is not on the roster."""
    return mailer.to_member(
        K.partner_left,
        member_id,
        f"{role}-{partner_id}",
        role=role,
        partner_name=mailer.name(partner_id),
        cause=cause,
        other_pairs=other_pairs,
    )


def partner_notes(
    mailer: Mailer, ended: Sequence[Pair], active: Sequence[Pair], gone: str, cause: str
) -> list[OutgoingMessage | None]:
    """The note to each partner ``ended`` left short, saying how many of their ``active``
    pairs go on (both sides when the committee ended the pair: ``gone`` is then empty)."""
    notes: list[OutgoingMessage | None] = []
    for pair in ended:
        for me, partner, role in (
            (pair.mentor_id, pair.mentee_id, "mentor"),
            (pair.mentee_id, pair.mentor_id, "mentee"),
        ):
            if me == gone:
                continue
            others = sum(1 for p in active if me in p.members)
            notes.append(partner_left(mailer, me, partner, role, cause, others))
    return notes


def offer_line(mailer: Mailer, offer: StoredOffer) -> str:
    """One offer in the committee's words, for notices and tables."""
    left = f"{mailer.name(offer.member_id)} ({offer.member_id})"
    wanted = "mentor" if offer.role == "mentee" else "mentee"
    if offer.mentor_id is None or offer.mentee_id is None:
        return f"offer {offer.id}: no new {wanted} for {left} yet: {offer.reason}"
    partner = offer.mentor_id if offer.role == "mentee" else offer.mentee_id
    return (
        f"offer {offer.id}: {left}, {offer.role}, with {wanted} {mailer.name(partner)} "
        f"({partner}), score {offer.score:g}: {offer.explanation}"
    )


def offer_lines(mailer: Mailer, offers: Sequence[StoredOffer]) -> list[str]:
    return [offer_line(mailer, o) for o in offers]
