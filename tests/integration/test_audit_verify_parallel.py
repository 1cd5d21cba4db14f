"""``audit verify`` on a long log runs its parts in worker processes; joined, they find
exactly what one pass in one process finds, in the same order (forced here on a short
log by a threshold of one record)."""

import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, text, update

from domain.audit import Anchor
from flows.usecases import cycles
from infra import audit_verify, db
from infra.seal_book import SealProblem
from infra.tables import AuditHeadRow, AuditRow, SealEntryRow
from infra.uow import UnitOfWork
from tests.builders import paired_cycle
from tests.integration.test_audit_anchor import history

EVERYTHING = 10**9  # a threshold no test log reaches: one process


class CountedPool(ProcessPoolExecutor):
    """The real pool, counted, so a test knows the workers ran."""

    made = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        CountedPool.made += 1
        super().__init__(*args, **kwargs)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> type[CountedPool]:
    monkeypatch.setattr(CountedPool, "made", 0)
    monkeypatch.setattr(audit_verify, "ProcessPoolExecutor", CountedPool)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    return CountedPool


def both_ways(uow: UnitOfWork, anchors: list[Anchor]) -> tuple[list[Any], list[Any]]:
    with uow:
        alone = uow.audit.verify(anchors, parallel_from=EVERYTHING)
    with uow:
        parted = uow.audit.verify(anchors, parallel_from=1)
    return alone, parted


def hash_of(uow: UnitOfWork, seq: int) -> str:
    with uow:
        return str(uow.session.scalar(select(AuditRow.hash).where(AuditRow.seq == seq)))


def test_an_intact_log_verifies_in_workers(uow: UnitOfWork, counted: type[CountedPool]) -> None:
    paired_cycle(uow)
    history(uow, range(2027, 2031))
    with uow:
        head = uow.audit.head()
    assert head is not None
    alone, parted = both_ways(uow, [Anchor(*head), Anchor(3, hash_of(uow, 3))])
    assert alone == parted == []
    assert counted.made == 1


def test_workers_find_the_same_problems_in_the_same_order(
    uow: UnitOfWork, database_url: str, counted: type[CountedPool]
) -> None:
    paired_cycle(uow)
    history(uow, range(2027, 2033))
    with uow:
        head = uow.audit.head()
        sealed = uow.session.scalars(select(SealEntryRow.seq).distinct()).all()
    assert head is not None and head[0] >= 16
    anchors = [Anchor(*head), Anchor(4, hash_of(uow, 4)), Anchor(head[0] - 2, "0" * 64)]
    with db.engine_for(database_url).begin() as conn:
        conn.execute(update(AuditRow).where(AuditRow.seq == 3).values(actor="mallory"))
        conn.execute(delete(AuditRow).where(AuditRow.seq == head[0] - 5))
        conn.execute(
            delete(SealEntryRow).where(
                SealEntryRow.id
                == select(SealEntryRow.id)
                .where(SealEntryRow.seq == sealed[1])
                .limit(1)
                .scalar_subquery()
            )
        )
        conn.execute(insert(SealEntryRow).values(seq=head[0] + 7, facet="cycles", row_key="[1]"))
        conn.execute(text("UPDATE messages SET to_address = 'evil@attacker.example'"))
        conn.execute(text("DELETE FROM tasks WHERE id = (SELECT MIN(id) FROM tasks)"))
        conn.execute(text("UPDATE members SET email = 'evil@attacker.example'"))
    cycles.create_cycle(uow, 2040, timezone="America/Chicago", milestones={}, actor="chair")
    with db.engine_for(database_url).begin() as conn:
        conn.execute(update(AuditHeadRow).values(hash="f" * 64))
        conn.execute(
            text(
                "INSERT INTO cycle_settings (cycle_year, settings) "
                'VALUES (2040, \'{"call_list_address": "evil@attacker.example"}\')'
            )
        )

    alone, parted = both_ways(uow, anchors)

    assert counted.made == 1
    assert [str(p) for p in parted] == [str(p) for p in alone]
    assert parted == alone
    said = [str(p) for p in alone]
    assert said[0] == "audit record 3: contents were altered after it was written"
    assert f"audit record {head[0] - 5}: record missing (found {head[0] - 4} next)" in said
    assert any("the log no longer replays to anchor 4:" in p for p in said), said
    assert any("but the head says" in p for p in said), said
    facets = [p.facet for p in alone if isinstance(p, SealProblem)]
    assert facets[:2] == ["seal_entries", "seal_entries"], said
    assert {"members", "messages", "tasks", "cycle_settings"} <= set(facets), said
    assert facets.index("members") < facets.index("messages") < facets.index("tasks"), said
