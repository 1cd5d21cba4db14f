"""Benchmark of ``mentoring pairs health YEAR`` over 5,000 pairs with 30,000 logged meetings
on PostgreSQL (issue 15: under 1 s in the CLI), beside the peer way: the same figures read
pair by pair (one query per pair for its meetings and one for its check-ins), as a view
built on the per-pair reads the site uses would do.

Run ``python benchmarks/bench_health.py`` from the repository root, with PostgreSQL at
127.0.0.1:5432 (user postgres, trust auth; ``--postgres-url`` names another server).
``--pairs`` (5,000), ``--meetings`` (30,000), ``--runs`` (5), ``--database`` (the scratch
database's name, ``bench_health``) and ``--keep``. Not a test.

What it does: a scratch database ``bench_health`` (dropped first, dropped after unless
``--keep``), migrated; the cycle is created through the program (``create_cycle``), and
the bulk of the data (2 × pairs members, one approved set of pairs, the meetings spread
over December–June, one check-in per pair and month for December–March) is inserted
directly, since only reading it is measured. Then, each ``--runs`` times: the whole
command in a fresh process (``mentoring pairs health YEAR --json``, Python's start and
imports included), the use case in this process (``program_health``), the peer, and the
floor any command pays (``mentoring cycle show YEAR --json``: start, imports, one read).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, make_url, text

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))

from domain.engagement import pair_reasons  # noqa: E402
from flows.usecases import cycles, pair_health  # noqa: E402
from infra import db  # noqa: E402
from infra.tables import (  # noqa: E402
    CheckInRow,
    MeetingRow,
    MemberRow,
    PairingSetRow,
    PairRow,
)
from infra.uow import UnitOfWork  # noqa: E402

POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DATABASE = "bench_health"
YEAR = 2026
TARGET_SECONDS = 1.0
NOW = datetime(2027, 4, 15, 12, tzinfo=UTC)


def scratch_database(admin: str, name: str) -> str:
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin).set(database=name).render_as_string(hide_password=False)


def drop_database(admin: str, name: str) -> None:
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def fill(url: str, pairs: int, meetings: int) -> None:
    """The cycle through the program; members, pairs, meetings and check-ins in bulk."""
    uow = UnitOfWork(db.session_factory(url))
    cycles.create_cycle(uow, YEAR, timezone="America/Chicago", milestones={}, actor="bench")
    rng = random.Random(15)
    at = datetime(2026, 11, 1, tzinfo=UTC)
    with db.engine_for(url).begin() as conn:
        conn.execute(
            insert(MemberRow),
            [
                {
                    "member_id": f"C{n:06d}",
                    "first_name": f"First{n}",
                    "last_name": f"Last{n}",
                    "email": f"m{n}@example.org",
                    "institution": f"Library {n % 700}",
                    "membership_expires": date(2030, 1, 1),
                    "updated_at": at,
                }
                for n in range(2 * pairs)
            ],
        )
        set_id = conn.execute(
            insert(PairingSetRow)
            .values(cycle_year=YEAR, status="approved", proposed_at=at, approved_by="b")
            .returning(PairingSetRow.id)
        ).scalar_one()
        pair_ids = (
            conn.execute(
                insert(PairRow).returning(PairRow.id),
                [
                    {
                        "set_id": set_id,
                        "mentor_id": f"C{n:06d}",
                        "mentee_id": f"C{pairs + n:06d}",
                        "score": 10.0,
                        "explanation": "bench",
                        "status": "active",
                    }
                    for n in range(pairs)
                ],
            )
            .scalars()
            .all()
        )
        first = date(2026, 12, 1)
        conn.execute(
            insert(MeetingRow),
            [
                {
                    "cycle_year": YEAR,
                    "pair_id": rng.choice(pair_ids),
                    "logged_by": "C000000",
                    "met_on": first + timedelta(days=rng.randrange(135)),
                    "minutes": 60,
                    "mode": "video",
                    "note": "a private note that health never reads",
                    "logged_at": at,
                }
                for _ in range(meetings)
            ],
        )
        conn.execute(
            insert(CheckInRow),
            [
                {
                    "cycle_year": YEAR,
                    "pair_id": pair_id,
                    "member_id": f"C{pairs + k:06d}",
                    "month": month,
                    "met": rng.random() < 0.8,
                    "score": rng.choice((1, 2, 3, 4, 4, 5, 5, 5)),
                    "contact_committee": rng.random() < 0.02,
                    "answered_at": datetime.fromisoformat(f"{month}-20T15:00+00:00"),
                }
                for k, pair_id in enumerate(pair_ids)
                for month in ("2026-12", "2027-01", "2027-02", "2027-03")
            ],
        )


def analyze(url: str) -> None:
    """Fresh planner statistics after the bulk insert, as autovacuum would gather them."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()


def peer(uow: UnitOfWork) -> int:
    """The same figures read pair by pair; returns how many pairs are flagged."""

    with uow:
        tz = uow.cycles.get(YEAR).calendar.tz
        flagged = 0
        for pair in uow.pairings.approved_pairs(YEAR):
            days = uow.engagement.meeting_days(pair.id)
            flagged += bool(pair_reasons(uow.engagement.check_ins(pair.id, tz), days))
        return flagged


def timed(runs: int, what: object) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of ``runs`` calls of ``what``; the CPU is this process's and
    that of the children it waited for (a command's own process: its start, imports and
    exit included), not PostgreSQL's."""
    assert callable(what)
    walls, cpus = [], []
    for _ in range(runs):
        cpu = _cpu_seconds()
        start = time.perf_counter()
        what()
        walls.append(time.perf_counter() - start)
        cpus.append(_cpu_seconds() - cpu)
    return walls, cpus


def _cpu_seconds() -> float:
    mine = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres-url", default=POSTGRES_ADMIN)
    parser.add_argument("--pairs", type=int, default=5_000)
    parser.add_argument("--meetings", type=int, default=30_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database", default=DATABASE, help="The scratch database's name.")
    parser.add_argument("--keep", action="store_true", help="Keep the scratch database.")
    args = parser.parse_args()
    url = scratch_database(args.postgres_url, args.database)
    try:
        db.upgrade(url)
        fill(url, args.pairs, args.meetings)
        analyze(url)
        load_before = os.getloadavg()[0]
        uow = UnitOfWork(db.session_factory(url))
        env = {**os.environ, "MENTORING_DATABASE_URL": url}

        def command() -> None:
            done = subprocess.run(
                [sys.executable, "-m", "flows.cli", "pairs", "health", str(YEAR), "--json"],
                cwd=REPOSITORY, env=env, capture_output=True, check=True,
            )  # fmt: skip
            assert done.stdout.startswith(b"[")

        def floor() -> None:
            subprocess.run(
                [sys.executable, "-m", "flows.cli", "cycle", "show", str(YEAR), "--json"],
                cwd=REPOSITORY, env=env, capture_output=True, check=True,
            )  # fmt: skip

        cli = timed(args.runs, command)
        start_up = timed(args.runs, floor)
        in_process = timed(args.runs, lambda: pair_health.program_health(uow, YEAR, now=NOW))
        slow = timed(max(1, args.runs // 2), lambda: peer(uow))
        health = pair_health.program_health(uow, YEAR, now=NOW)
        flagged = sum(p.flagged for p in health.pairs)
        assert flagged == peer(uow), "the peer reads the same flags"
        print(
            f"pairs health, {args.pairs:,} pairs, {args.meetings:,} meetings, "
            f"{4 * args.pairs:,} check-ins, PostgreSQL ({flagged:,} flagged)"
        )
        print(f"{'way':<44}{'median':>9}{'best':>9}{'CPU':>9}")
        for name, (walls, cpus) in (
            ("`mentoring pairs health --json` (process)", cli),
            ("program_health() in process", in_process),
            ("floor: `mentoring cycle show --json`", start_up),
            ("peer: pair by pair, 2 queries per pair", slow),
        ):
            print(
                f"{name:<44}{statistics.median(walls):>8.3f}s{min(walls):>8.3f}s"
                f"{statistics.median(cpus):>8.3f}s"
            )
        verdict = "met" if statistics.median(cli[0]) < TARGET_SECONDS else "MISSED"
        print(f"target: the command under {TARGET_SECONDS:.0f} s: {verdict}")
        print(
            f"load average while measured: {load_before:.1f} before, "
            f"{os.getloadavg()[0]:.1f} after, on {os.cpu_count()} CPUs"
        )
        print("CPU: median user + system seconds of the process (PostgreSQL's not counted)")
    finally:
        db.engine_for(url).dispose()
        if not args.keep:
            drop_database(args.postgres_url, args.database)


if __name__ == "__main__":
    main()
