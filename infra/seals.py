"""Digests of the audited tables, so ``audit verify`` catches rows changed behind its back.

The hash chain protects the audit records themselves. The program's other tables
(applications, pairs, messages, tasks, survey answers …) change through use cases that
each append an audit record; that record carries a digest of every audited table the use
case touched, for that cycle, as it stood at commit. ``verify`` recomputes the digests and
names any table whose rows no longer match the last digest the program recorded.
"""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Select, inspect, select
from sqlalchemy.orm import Session

from infra.tables import (
    ApplicationRow,
    AssessmentResponseRow,
    CycleRow,
    CycleSettingsRow,
    MessageRow,
    MilestoneRow,
    PairingRuleRow,
    PairingSetRow,
    PairRow,
    RepairingOfferRow,
    TaskRow,
)

# Message bodies are left out: they are rendered from the audited data, and hashing
# 10,000 bodies on every delivery would cost more than it protects.
_AUDITED: dict[str, tuple[object, ...]] = {
    "cycles": (CycleRow.year, CycleRow.state, CycleRow.timezone, CycleRow.cancel_reason),
    "milestones": (MilestoneRow.event, MilestoneRow.due_at),
    "applications": tuple(ApplicationRow.__table__.c),
    "pairing_sets": tuple(PairingSetRow.__table__.c),
    "pairs": tuple(PairRow.__table__.c),
    "pairing_rules": tuple(PairingRuleRow.__table__.c),
    "messages": (
        MessageRow.key,
        MessageRow.to_address,
        MessageRow.subject,
        MessageRow.status,
        MessageRow.sent_at,
    ),
    "tasks": (TaskRow.key, TaskRow.title, TaskRow.due_at, TaskRow.done_at, TaskRow.done_by),
    "assessment_responses": tuple(AssessmentResponseRow.__table__.c),
    "repairing_offers": tuple(RepairingOfferRow.__table__.c),
    "cycle_settings": (CycleSettingsRow.cycle_year, CycleSettingsRow.settings),
}
AUDITED_TABLES = tuple(_AUDITED)


def _query(table: str, year: int) -> Select[tuple[object, ...]]:
    columns = _AUDITED[table]
    query: Select[tuple[object, ...]] = select(*columns)  # type: ignore[call-overload]
    if table == "cycles":
        return query.where(CycleRow.year == year)
    if table == "pairs":
        return (
            query.join(PairingSetRow, PairingSetRow.id == PairRow.set_id)
            .where(PairingSetRow.cycle_year == year)
            .order_by(PairRow.id)
        )
    model = {
        "milestones": MilestoneRow,
        "applications": ApplicationRow,
        "pairing_sets": PairingSetRow,
        "pairing_rules": PairingRuleRow,
        "messages": MessageRow,
        "tasks": TaskRow,
        "assessment_responses": AssessmentResponseRow,
        "repairing_offers": RepairingOfferRow,
        "cycle_settings": CycleSettingsRow,
    }[table]
    return query.where(model.__table__.c.cycle_year == year).order_by(*inspect(model).primary_key)


def digest(session: Session, table: str, year: int) -> str:
    """SHA-256 of the table's rows for one cycle, in primary-key order."""
    hasher = hashlib.sha256()
    for row in session.execute(_query(table, year)):
        hasher.update(json.dumps(list(row), default=str, separators=(",", ":")).encode())
        hasher.update(b"\n")
    return hasher.hexdigest()


def digests(session: Session, tables: Iterable[str], year: int) -> dict[str, str]:
    session.flush()
    return {t: digest(session, t, year) for t in tables}


@dataclass(frozen=True)
class TableProblem:
    table: str
    year: int
    seq: int

    def __str__(self) -> str:
        return (
            f"table {self.table} (cycle {self.year}) was changed outside the program "
            f"after audit record {self.seq}"
        )
