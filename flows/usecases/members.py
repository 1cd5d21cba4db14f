"""Loading the Core membership roster: insert new members, update changed ones."""

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from domain.errors import DomainError
from domain.members import ROSTER_FIELDS, InvalidMember, Member, parse_roster_row
from flows.usecases.clock import utcnow
from infra.form_mapping import read_rows
from infra.uow import UnitOfWork


@dataclass(frozen=True)
class RosterImport:
    """What a roster import did; ``rejected`` names each refused line and why."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


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
    rejected: list[dict[str, Any]] = []
    parsed: dict[str, Member] = {}
    for line, raw in read_rows(path, None, fields=ROSTER_FIELDS):
        try:
            member = parse_roster_row(raw)
        except InvalidMember as bad:
            rejected.append({"line": line, "reason": bad.reason})
            continue
        parsed[member.member_id] = member
    if not parsed and rejected:
        raise DomainError(
            f"{path}: no valid roster line (first problem: line "
            f"{rejected[0]['line']}: {rejected[0]['reason']})"
        )
    added = updated = unchanged = 0
    with uow:
        existing = uow.members.by_id()
        for member_id, member in parsed.items():
            stored = existing.get(member_id)
            if stored is None:
                uow.members.add(member, now)
                added += 1
            elif stored != member:
                uow.members.update(member, now)
                updated += 1
            else:
                unchanged += 1
        result = RosterImport(added, updated, unchanged, rejected, dry_run)
        if dry_run:
            return result
        uow.audit.append(
            kind="roster_imported",
            cycle_year=None,
            at=now,
            actor=actor,
            fields={
                "file": path.name,
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                "added": added,
                "updated": updated,
                "rejected": rejected,
            },
        )
        uow.commit()
    return result
