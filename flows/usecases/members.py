"""Loading the Core membership roster: insert new members, update changed ones."""

import hashlib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from domain.cycle_states import Trigger
from domain.errors import DomainError
from domain.members import ROSTER_FIELDS, InvalidMember, Member, parse_roster_row
from domain.values import InvalidValue, actor_name, valid_member_id
from flows.usecases.audit import way_in
from flows.usecases.clock import utcnow
from infra.form_mapping import read_records
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
    trigger: Trigger | None = None,
    flow_run_id: str | None = None,
) -> RosterImport:
    """Refresh the roster from a CSV export; the valid lines go in together, or none do.

    A roster lists each member once: when a member id comes back on a later line, the
    later line is used and each earlier one is reported as refused, naming the line used.
    A refused line names its member where it gives a usable member id. ``trigger`` and
    ``flow_run_id``, when given, say through what the import came (a run started from a
    form), as a transition's record does; the command line gives neither.
    """
    now = now or utcnow()
    actor = actor_name(actor)
    read = read_records(path, None, fields=ROSTER_FIELDS)
    rejected: list[dict[str, Any]] = [problem.as_rejection() for problem in read.problems]
    parsed: dict[str, Member] = {}
    lines: dict[str, list[int]] = defaultdict(list)
    for line, raw in read.rows:
        try:
            member = parse_roster_row(raw)
        except InvalidMember as bad:
            rejected.append({"line": line, **member_named(raw), "reason": bad.reason})
            continue
        parsed[member.member_id] = member
        lines[member.member_id].append(line)
    for member_id, listed in lines.items():
        rejected += _listed_again(member_id, listed)
    rejected.sort(key=lambda r: r["line"])
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
                **way_in(trigger, flow_run_id),
            },
        )
        uow.commit()
    return result


def member_named(raw: Mapping[str, str]) -> dict[str, str]:
    """The member id a refused line of an import gives, if it is one, for the page's member
    column (a malformed id is the reason's business, not the member column's)."""
    given = (raw.get("member_id") or "").strip()
    try:
        return {"member_id": valid_member_id(given)} if given else {}
    except InvalidValue:
        return {}


def _listed_again(member_id: str, lines: list[int]) -> list[dict[str, Any]]:
    """The earlier lines of a member the roster lists more than once; the last one is used."""
    *earlier, used = lines
    return [
        {
            "line": line,
            "member_id": member_id,
            "reason": f"member {member_id} is listed again on line {used}; a roster lists "
            "each member once, and the later line was used",
        }
        for line in earlier
    ]
