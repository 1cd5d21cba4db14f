"""The approved pairs as a CSV file for the committee's records."""

import csv
from dataclasses import dataclass
from pathlib import Path

from domain.errors import DomainError
from domain.members import Member
from infra.uow import UnitOfWork

EXPORT_COLUMNS = (
    "mentor_id",
    "mentor_name",
    "mentor_email",
    "mentor_institution",
    "mentee_id",
    "mentee_name",
    "mentee_email",
    "mentee_institution",
    "score",
    "explanation",
)


@dataclass(frozen=True)
class PairingExport:
    """How many approved pairs were written, and where."""

    year: int
    path: Path
    pairs: int


def export(uow: UnitOfWork, year: int, path: Path) -> PairingExport:
    """Write the approved set's active pairs, by mentor then mentee, with each partner's
    name, address and institution (blank for someone no longer on the roster)."""
    with uow:
        pairs = uow.pairings.approved_pairs(year)
        if not pairs:
            raise DomainError(f"cycle {year} has no approved pairing set to export")
        people = uow.members.by_id()
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(EXPORT_COLUMNS)
        for p in pairs:
            writer.writerow(
                [
                    p.mentor_id,
                    *_person(people.get(p.mentor_id)),
                    p.mentee_id,
                    *_person(people.get(p.mentee_id)),
                    p.score,
                    p.explanation,
                ]
            )
    return PairingExport(year, path, len(pairs))


def _person(member: Member | None) -> list[str]:
    if member is None:
        return ["", "", ""]
    return [f"{member.first_name} {member.last_name}".strip(), member.email, member.institution]
