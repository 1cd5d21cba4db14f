"""``audit anchor`` and ``audit verify --anchor``: a head kept outside the database catches
an insider who rewrites the log and recomputes every hash and the head; and a log written
by the first version still verifies, read as plain columns on both databases."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select, text, update

from domain.audit import GENESIS, Anchor, seal
from domain.cycle_states import CycleEvent, Trigger
from flows.usecases import cycles
from infra import db
from infra.repositories.audit import HEAD_ID
from infra.tables import AuditHeadRow, AuditRow
from infra.uow import UnitOfWork
from tests.cli import Run, mentoring, mentoring_here
from tests.unit.test_audit_chain import first_seal

AUG_2 = datetime(2026, 8, 2, 12, tzinfo=UTC)


def history(uow: UnitOfWork, years: range) -> None:
    """Each year a cycle created and its call opened: two records a year."""
    for year in years:
        cycles.create_cycle(uow, year, timezone="America/Chicago", milestones={}, actor="chair")
        cycles.fire_event(
            uow,
            year,
            CycleEvent.open_call,
            actor="scheduler",
            trigger=Trigger.schedule,
            now=AUG_2.replace(year=year),
        )


def anchor_now() -> Anchor:
    run = mentoring_here("audit", "anchor", "--json")
    assert run.code == 0, run
    taken = run.json
    assert taken["anchor"] == f"{taken['seq']}:{taken['hash']}"
    return Anchor.parse(taken["anchor"])


def rewrite(
    database_url: str, seq: int, change: Callable[[AuditRow], None], *, head: bool = True
) -> None:
    """What an insider with write access and the program's code does: change record
    ``seq``, recompute every hash from it on so the chain holds together, and (``head``)
    move the head to the new last hash."""
    with db.session_factory(database_url)() as session:
        rows = session.scalars(
            select(AuditRow).where(AuditRow.seq >= seq).order_by(AuditRow.seq)
        ).all()
        prev = rows[0].prev_hash
        for row in rows:
            if row.seq == seq:
                change(row)
            row.prev_hash = prev
            row.hash = prev = seal(
                row.seq, row.kind, row.cycle_year, row.at, row.actor, row.fields, prev
            )
        if head:
            stored = session.get(AuditHeadRow, HEAD_ID)
            assert stored is not None
            stored.hash = prev
        session.commit()


def cancel_by_mallory(row: AuditRow) -> None:
    row.actor = "mallory"
    row.fields = {**row.fields, "event": "cancel", "target": "cancelled", "reason": "forged"}


def tampered(run: Run) -> list[str]:
    assert run.code == 1, run
    return [line for line in run.stdout.splitlines() if line.startswith("TAMPERED")]


def test_an_anchor_taken_today_still_holds_as_the_log_grows(uow: UnitOfWork) -> None:
    history(uow, range(2026, 2028))
    anchor = anchor_now()
    assert anchor.seq == 4
    history(uow, range(2028, 2030))
    run = mentoring_here("audit", "verify", "--anchor", str(anchor))
    assert run.code == 0, run
    assert f"audit log intact: 8 records; it extends anchor {anchor}" in run.stdout
    assert mentoring_here("audit", "verify", "--anchor", str(anchor), "--json").json == {
        "ok": True,
        "records": 8,
        "anchors": [str(anchor)],
        "problems": [],
    }


def test_a_forged_record_under_a_recomputed_chain_and_head_is_caught_by_the_anchor(
    uow: UnitOfWork, database_url: str
) -> None:
    history(uow, range(2026, 2028))
    early = anchor_now()
    history(uow, range(2028, 2030))
    late = anchor_now()
    history(uow, range(2030, 2031))
    rewrite(database_url, 6, cancel_by_mallory)  # 2028's open_call, now a cancel by mallory

    lines = tampered(mentoring_here("audit", "verify", "--anchor", str(late)))
    assert len(lines) == 1, lines
    assert lines[0].startswith("TAMPERED audit record 8: its hash is ")
    assert f"the anchor says {late.hash[:12]}…: records 1–8 were rewritten" in lines[0]

    both = ("--anchor", str(late), "--anchor", str(early))
    lines = tampered(mentoring_here("audit", "verify", *both))
    assert len(lines) == 1 and "records 5–8 were rewritten" in lines[0], lines
    assert "only an anchor taken between them could tell which" in lines[0]


def test_an_edit_without_recomputing_is_named_with_or_without_an_anchor(
    uow: UnitOfWork, database_url: str
) -> None:
    history(uow, range(2026, 2029))
    anchor = anchor_now()
    with db.engine_for(database_url).begin() as conn:
        conn.execute(update(AuditRow).where(AuditRow.seq == 3).values(actor="mallory"))
    lines = tampered(mentoring_here("audit", "verify", "--anchor", str(anchor)))
    assert lines[0] == "TAMPERED audit record 3: contents were altered after it was written"
    assert lines[-1].startswith("TAMPERED audit record 6: the log no longer replays to")
    assert "(see the records named above)" in lines[-1]


def test_a_rewrite_that_left_the_head_alone_is_caught_at_the_head(
    uow: UnitOfWork, database_url: str
) -> None:
    history(uow, range(2026, 2029))
    rewrite(database_url, 2, cancel_by_mallory, head=False)
    lines = tampered(mentoring_here("audit", "verify"))
    assert len(lines) == 1 and lines[0].startswith("TAMPERED audit record 6: its hash is")
    assert "records up to 6 were rewritten and their hashes recomputed" in lines[0]


def test_no_anchor_is_given_for_a_log_that_does_not_verify(
    uow: UnitOfWork, database_url: str
) -> None:
    history(uow, range(2026, 2028))
    with db.engine_for(database_url).begin() as conn:
        conn.execute(update(AuditRow).where(AuditRow.seq == 2).values(actor="mallory"))
    run = mentoring_here("audit", "anchor")
    assert tampered(run) == ["TAMPERED audit record 2: contents were altered after it was written"]
    assert "no anchor given" in run.stdout
    assert mentoring_here("audit", "anchor", "--json").json["anchor"] is None


def test_bad_anchors_are_refused_without_a_traceback(uow: UnitOfWork) -> None:
    run = mentoring("audit", "anchor")
    assert (run.code, run.stderr.strip()) == (
        1,
        "error: the audit log is empty: there is nothing to anchor yet",
    )
    history(uow, range(2026, 2027))
    digest = anchor_now().hash
    run = mentoring("audit", "verify", "--anchor", f"9:{digest}")
    assert run.code == 1 and "Traceback" not in run.stderr
    assert run.stderr.strip() == (
        f"error: anchor 9:{digest[:12]}… names record 9, but the log's last record is 2: "
        "either records 3–9 were deleted, or the anchor belongs to another database"
    )
    assert mentoring("audit", "verify", "--anchor", f"9:{digest}", "--json").json == {
        "error": run.stderr.strip(),
        "exit": 1,
    }
    for bad in ("2", f"2-{digest}", f"2:{digest[:-1]}", f"0:{digest}", "two:" + digest):
        run = mentoring_here("audit", "verify", "--anchor", bad)
        assert run.code == 2 and "Traceback" not in run.stderr, run
        assert "is not an anchor" in " ".join(run.stderr.replace("│", " ").split())
    run = mentoring_here("audit", "2026", "--anchor", f"2:{digest}")
    assert run.code == 2 and "only `audit verify` takes anchors" in run.stderr


# --- A log the first version wrote ----------------------------------------------------------


Written = tuple[str, int | None, datetime, str, dict[str, object]]
WRITTEN: list[Written] = [
    ("cycle_created", 2026, datetime(2026, 7, 1, 12, tzinfo=UTC), "chair", {"timezone": "UTC"}),
    (
        "transition",
        2026,
        datetime(2026, 8, 1, 7, 30, 15, 123456, tzinfo=timezone(timedelta(hours=-5))),
        "Zoë Ünïcode — chair",
        {"event": "open_call", "reason": None, "score": 1e5, "nested": {"b": [1, 2.5], "a": True}},
    ),
    ("members_imported", None, datetime(2026, 8, 2, 0, 0, 0, 1, tzinfo=UTC), "chair", {}),
    (
        "note",
        2026,
        datetime(2026, 8, 3, tzinfo=UTC),
        "chair",
        {"text": 'say "hi"\n\t\\ \U0001f600'},
    ),
]


def write_as_first_version(database_url: str) -> Anchor:
    """Records and head as the first version wrote them (its seal, the table's types)."""
    rows, prev = [], GENESIS
    for seq, (kind, year, at, actor, fields) in enumerate(WRITTEN, start=1):
        digest = first_seal(seq, kind, year, at, actor, fields, prev)
        rows.append(
            {
                "seq": seq,
                "kind": kind,
                "cycle_year": year,
                "at": at,
                "actor": actor,
                "fields": fields,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    with db.engine_for(database_url).begin() as conn:
        conn.execute(insert(AuditRow), rows)
        conn.execute(insert(AuditHeadRow).values(id=HEAD_ID, seq=len(rows), hash=prev))
    return Anchor(len(rows), prev)


def test_a_log_written_by_the_first_version_verifies_against_its_anchor(
    uow: UnitOfWork, database_url: str
) -> None:
    anchor = write_as_first_version(database_url)
    with uow:
        assert uow.audit.verify([anchor, Anchor(2, first_hash_of(2))]) == []
    run = mentoring_here("audit", "verify", "--anchor", str(anchor))
    assert run.code == 0 and "audit log intact: 4 records" in run.stdout, run


def first_hash_of(seq: int) -> str:
    prev = GENESIS
    for n, (kind, year, at, actor, fields) in enumerate(WRITTEN[:seq], start=1):
        prev = first_seal(n, kind, year, at, actor, fields, prev)
    return prev


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_times_kept_in_another_form_read_as_the_same_moment(
    uow: UnitOfWork, database_url: str
) -> None:
    anchor = write_as_first_version(database_url)
    with db.engine_for(database_url).begin() as conn:
        conn.execute(text("UPDATE audit_log SET at = '2026-07-01 12:00:00' WHERE seq = 1"))
        conn.execute(text("UPDATE audit_log SET at = '2026-08-03T00:00:00' WHERE seq = 4"))
    with uow:
        assert uow.audit.verify([anchor]) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_fields_that_are_not_json_are_named_not_a_crash(
    uow: UnitOfWork, database_url: str
) -> None:
    write_as_first_version(database_url)
    with db.engine_for(database_url).begin() as conn:
        conn.execute(text("UPDATE audit_log SET fields = '{\"event\": ' WHERE seq = 2"))
        conn.execute(text("UPDATE audit_log SET at = 'yesterday' WHERE seq = 3"))
    lines = tampered(mentoring_here("audit", "verify"))
    assert lines == [
        "TAMPERED audit record 2: contents were altered after it was written",
        "TAMPERED audit record 3: contents were altered after it was written",
    ]
