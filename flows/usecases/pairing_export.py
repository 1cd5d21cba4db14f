"""The approved pairs as a CSV file for the committee's records.

The file is opened in a spreadsheet, so it is written through :func:`infra.csv_export.write_csv`:
a name or an explanation that starts like a formula (``=``, ``+``, ``-``, ``@``) is kept
whole, quoted and prefixed so it shows as text instead of running.
"""

from dataclasses import dataclass
from pathlib import Path

from domain.errors import DomainError
from domain.members import Member
from infra.csv_export import write_csv
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
    name, address and institution (blank for someone no longer on the roster); a file that
    cannot be written (a missing folder, a folder, a full device) is refused naming it."""
    with uow:
        pairs = uow.pairings.approved_pairs(year)
        if not pairs:
            raise DomainError(f"cycle {year} has no approved pairing set to export")
        people = uow.members.by_id()
    rows = (
        [
            p.mentor_id,
            *_person(people.get(p.mentor_id)),
            p.mentee_id,
            *_person(people.get(p.mentee_id)),
            p.score,
            p.explanation,
        ]
        for p in pairs
    )
    try:
        write_csv(path, EXPORT_COLUMNS, rows)
    except OSError as error:
        raise DomainError(f"cannot write {path}: {error.strerror or error}") from None
    return PairingExport(year, path, len(pairs))


def _person(member: Member | None) -> list[str]:
    if member is None:
        return ["", "", ""]
    return [f"{member.first_name} {member.last_name}".strip(), member.email, member.institution]
