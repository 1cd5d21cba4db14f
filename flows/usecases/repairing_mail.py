"""The messages withdrawals and re-pairings send: to the committee, to the partner left
without a pair, and the pairing notice to both new partners.

The committee's notices and the pairing notice are the program's existing kinds and
templates. The note to the partner left behind has its own templates
(``partner_left.*.j2``) but no kind of its own yet: a new :class:`MessageKind` needs
``domain/notifications.py`` and ``infra/rendering.py``, which this feature does not own. It
is rendered here with the shared Jinja environment and stored under
:data:`PARTNER_LEFT_KIND` (``not_paired_notice``: "you have no partner at the moment, the
committee will write when it has one", which is what it says); its key's discriminator
(``partner-left-…``) keeps it apart from the November waiting-list notice.
"""

import re
from collections.abc import Sequence
from typing import Any

from domain.cycle_states import CycleEvent
from domain.notifications import MessageKind, OutgoingMessage, idempotency_key
from flows.usecases.effects import Mailer
from infra.rendering import environment
from infra.tables import RepairingOfferRow

K = MessageKind
PARTNER_LEFT_TEMPLATE = "partner_left"
PARTNER_LEFT_KIND = MessageKind.not_paired_notice
CAUSES = ("withdrawal", "ended")
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
    if role not in ("mentor", "mentee") or cause not in CAUSES:
        raise ValueError(f"partner_left needs role mentor|mentee and cause {CAUSES}")
    member = mailer.people.get(member_id)
    if member is None:
        return None
    name = f"{member.first_name} {member.last_name}".strip()
    year = mailer.cycle.year
    context: dict[str, Any] = {
        "cycle_year": year,
        "recipient_name": name,
        "committee_email": mailer.program.committee_email,
        "role": role,
        "partner_name": mailer.name(partner_id),
        "cause": cause,
        "other_pairs": other_pairs,
    }
    env = environment()
    subject, text, html = (
        env.get_template(f"{PARTNER_LEFT_TEMPLATE}.{part}.j2").render(context)
        for part in ("subject", "txt", "html")
    )
    return OutgoingMessage(
        key=idempotency_key(
            year, PARTNER_LEFT_KIND, member_id, f"partner-left-{role}-{partner_id}"
        ),
        kind=PARTNER_LEFT_KIND,
        cycle_year=year,
        to_address=member.email,
        to_name=name,
        subject=re.sub(r"\s+", " ", subject).strip(),
        text_body=text,
        html_body=html,
    )


def pairing_notices(mailer: Mailer, mentor_id: str, mentee_id: str) -> list[OutgoingMessage]:
    """The program's pairing notice to both partners of a newly approved pair."""
    starts = mailer.date(CycleEvent.start_mentoring)
    ends = mailer.date(CycleEvent.end_mentoring)
    out: list[OutgoingMessage] = []
    for me, partner, role in ((mentor_id, mentee_id, "mentor"), (mentee_id, mentor_id, "mentee")):
        other = mailer.people.get(partner)
        message = mailer.to_member(
            K.pairing_notice,
            me,
            f"{role}-{partner}",
            role=role,
            partner_name=mailer.name(partner),
            partner_email=other.email if other else "",
            partner_institution=other.institution if other else "",
            mentoring_starts_on=starts,
            mentoring_ends_on=ends,
        )
        if message is not None:
            out.append(message)
    return out


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
