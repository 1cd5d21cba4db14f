"""The messages withdrawals and re-pairings send: to the committee, to the partner left
without a pair, and the pairing notice to both new partners.

The committee's notices and the pairing notice are the program's existing kinds; the note
to the partner left behind is the ``partner_left`` kind.
"""

from collections.abc import Sequence

from domain.notifications import MessageKind, OutgoingMessage
from flows.usecases import effects
from flows.usecases.effects import Mailer
from infra.tables import RepairingOfferRow

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


def pairing_notices(mailer: Mailer, mentor_id: str, mentee_id: str) -> list[OutgoingMessage]:
    """The program's pairing notice to both partners of a newly approved pair."""
    return [m for m in effects.pairing_notices(mailer, [(mentor_id, mentee_id)]) if m is not None]


def offer_line(mailer: Mailer, offer: RepairingOfferRow) -> str:
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
