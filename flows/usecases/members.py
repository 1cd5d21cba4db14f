"""Loading the Core membership roster: insert new members, update changed ones."""

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from domain.errors import DomainError
from domain.members import ROSTER_FIELDS, InvalidMember, Member, parse_roster_row
from flows.usecases.clock import utcnow
from infra import audit_log
from infra.form_mapping import read_rows
from infra.tables import MemberRow
from infra.uow import UnitOfWork


@dataclass
class RosterImport:
    """What a roster import did; ``rejected`` names each refused line and why."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def member_of(row: MemberRow) -> Member:
    return Member(
        row.member_id,
        row.first_name,
        row.last_name,
        row.email,
        row.institution,
        row.membership_expires,
    )


def import_roster(
    uow: UnitOfWork,
    path: Path,
    *,
    actor: str,
    dry_run: bool = False,
    now: datetime | None = None,
) -> RosterImport:
    """Refresh the roster from a CSV export; the valid lines go in together, or none do."""
    now = now or utcnow()
    result = RosterImport(dry_run=dry_run)
    parsed: dict[str, Member] = {}
    for line, raw in read_rows(path, None, fields=ROSTER_FIELDS):
        try:
            member = parse_roster_row(raw)
        except InvalidMember as bad:
            result.rejected.append({"line": line, "reason": bad.reason})
            continue
        parsed[member.member_id] = member
    if not parsed and result.rejected:
        raise DomainError(
            f"{path}: no valid roster line (first problem: line "
            f"{result.rejected[0]['line']}: {result.rejected[0]['reason']})"
        )
    with uow:
        session = uow.session
        existing = {r.member_id: r for r in session.scalars(select(MemberRow))}
        for member_id, member in parsed.items():
            row = existing.get(member_id)
            if row is None:
                session.add(MemberRow(**asdict(member), updated_at=now))
                result.added += 1
            elif member_of(row) != member:
                for name, value in asdict(member).items():
                    setattr(row, name, value)
                row.updated_at = now
                result.updated += 1
            else:
                result.unchanged += 1
        if dry_run:
            return result
        audit_log.append(
            session,
            kind="roster_imported",
            cycle_year=None,
            at=now,
            actor=actor,
            fields={
                "file": path.name,
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                "added": result.added,
                "updated": result.updated,
                "rejected": result.rejected,
            },
        )
        uow.commit()
    return result
