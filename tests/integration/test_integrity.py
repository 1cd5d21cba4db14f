"""``audit verify`` catches a change made behind the program's back in any audited table."""

import pytest
from sqlalchemy import text

from flows.usecases import audit, notifications, program
from infra import db
from infra.mail_eml import EmlFolderTransport
from infra.seals import AUDITED_TABLES
from infra.uow import UnitOfWork
from tests.builders import paired_cycle

TAMPERING = {
    "cycles": "UPDATE cycles SET state = 'active'",
    "milestones": "UPDATE milestones SET due_at = due_at WHERE 1 = 0; "
    "DELETE FROM milestones WHERE event = 'end_mentoring'",
    "applications": "UPDATE applications SET goals = 'rewritten' WHERE id = "
    "(SELECT MIN(id) FROM applications)",
    "pairing_sets": "UPDATE pairing_sets SET approved_by = 'someone else'",
    "pairs": "DELETE FROM pairs WHERE id = (SELECT MIN(id) FROM pairs)",
    "messages": "UPDATE messages SET status = 'pending' WHERE id = (SELECT MIN(id) FROM messages)",
    "tasks": "UPDATE tasks SET done_by = 'nobody', done_at = due_at",
    "pairing_rules": "UPDATE pairing_rules SET kind = 'block'",
    "cycle_settings": "DELETE FROM cycle_settings",
}
# Sealed tables a paired cycle has no rows in yet; their own tests tamper with them.
ELSEWHERE = {
    "assessment_responses": "tests/integration/test_assessment_import.py",
    "repairing_offers": "tests/integration/test_withdrawal.py",
}


def test_every_sealed_table_is_tampered_with_by_a_test() -> None:
    assert set(TAMPERING) | set(ELSEWHERE) == set(AUDITED_TABLES)


@pytest.mark.parametrize("table", sorted(TAMPERING))
def test_tampering_with_an_audited_table_is_named(
    uow: UnitOfWork, database_url: str, table: str, tmp_path: object
) -> None:
    paired_cycle(uow, fixed=(("C100002", "C100001"),))
    program.set_details(uow, 2026, {"orientation_minutes": 60}, actor="chair")
    notifications.deliver(uow, EmlFolderTransport(str(tmp_path)))
    assert audit.verify(uow).problems == []
    with db.engine_for(database_url).begin() as conn:
        for statement in TAMPERING[table].split("; "):
            conn.execute(text(statement))
    problems = [str(p) for p in audit.verify(uow).problems]
    assert any(f"table {table} (cycle 2026)" in p for p in problems), problems
