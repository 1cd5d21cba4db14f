"""Benchmark of queueing a transition's mail: 10,000 messages in one ``fire_event`` call.

Run ``python benchmarks/bench_queueing.py`` from the repository root: SQLite in a temporary
folder, and PostgreSQL too when ``--postgres-url`` names a scratch database (it is emptied
first; the script refuses one that holds cycles unless ``--wipe``). Not a test.

Setup (not timed) bypasses the use cases: the roster of 10,000 members and the 5,000
one-to-one pairs go in bulk, their approved set and cycle 2026's ``applications_closed``
state through the repositories. Then three transitions fire in turn, each through
``fire_event`` exactly as the CLI and the flows call it, each queueing one message to each of
the 10,000 participants: ``announce_pairings`` (pairing notices, the issue's target),
``start_orientation`` (with an ICS attachment) and ``start_mentoring`` (also 40,000 follow-up
tasks).

Each transition runs in a fresh process (templates not compiled yet, as in a CLI call or
a new flow run), which reports the wall time, the growth of its peak resident set during
the call (``VmHWM`` reset before it), and where the time went. Then, in the same process,
the transition's effects run a second time in a transaction that is rolled back: every key
is already stored, so 0 messages and 0 tasks are added; that is what idempotency costs.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import text

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_rows import bulk, wipe
from domain.calendar import CycleCalendar
from domain.cycle_states import CycleEvent, CycleState, Trigger
from domain.matching import PairingProposal
from domain.pairing_status import PairStatus
from flows.usecases import audit as audit_cases
from flows.usecases import cycles as cycle_cases
from flows.usecases import effects
from infra import db
from infra.repositories.audit import AuditLog
from infra.repositories.outbox import Outbox
from infra.repositories.tasks import TaskRepository
from infra.tables import MemberRow, PairRow
from infra.uow import UnitOfWork

YEAR = 2026
EVENTS = (CycleEvent.announce_pairings, CycleEvent.start_orientation, CycleEvent.start_mentoring)
_FIRST = ("Avery", "Jordan", "Morgan", "Riley", "Casey", "Quinn", "Harper", "Rowan", "Emery")
_LAST = ("Okafor", "Lindqvist", "Martínez", "Nakamura", "O'Brien", "Kowalski", "Haddad", "Nguyen")
_PLACES = (
    "University of Illinois Urbana-Champaign Library",
    "Denver Public Library",
    "Smithsonian Libraries and Archives",
    "Multnomah County Library",
    "Texas A&M University Libraries",
)

F = TypeVar("F", bound=Callable[..., Any])


def members(count: int, now: datetime) -> Iterator[dict[str, Any]]:
    for n in range(count):
        member_id = f"{'M' if n % 2 == 0 else 'E'}{n // 2:05d}"
        first, last = _FIRST[n % len(_FIRST)], _LAST[n % len(_LAST)]
        yield {
            "member_id": member_id,
            "first_name": first,
            "last_name": last,
            "email": f"{first.lower()}.{member_id.lower()}@library.example.org",
            "institution": _PLACES[n % len(_PLACES)],
            "membership_expires": date(YEAR + 1, 12, 31),
            "updated_at": now,
        }


def build(url: str, pairs: int) -> str:
    """Roster, cycle in ``applications_closed``, approved one-to-one pairs; a summary."""
    uow = UnitOfWork(db.session_factory(url))
    now = datetime(YEAR, 10, 1, 12, tzinfo=UTC)
    cycle_cases.create_cycle(
        uow, YEAR, timezone="America/Chicago", milestones={}, actor="bench", now=now
    )
    people = bulk(uow, MemberRow, members(2 * pairs, now))
    with uow:
        empty = PairingProposal(pairs=[], unmatched=[], total_score=0.0)
        set_id = uow.pairings.store_proposal(YEAR, empty, {}, now).id
        uow.pairings.approve(set_id, "bench", now)
        cycle = uow.cycles.get(YEAR, for_update=True)
        uow.cycles.save_state(replace(cycle, state=CycleState.applications_closed), now)
        uow.commit()
    made = bulk(
        uow,
        PairRow,
        (
            {
                "set_id": set_id,
                "mentor_id": f"M{n:05d}",
                "mentee_id": f"E{n:05d}",
                "score": 60.0,
                "explanation": "shared area; career step",
                "status": PairStatus.active,
            }
            for n in range(pairs)
        ),
    )
    # The bulk rows went in beside the program: seal them as they stand, as `db upgrade`
    # does for rows from before seals, so the transition reads them as the program's own.
    sealed = audit_cases.seal_existing(uow, "0005", now)
    return (
        f"{people:,} members, {made:,} approved pairs, cycle {YEAR} in applications_closed "
        f"({sealed:,} rows sealed)"
    )


class Timers:
    """Seconds spent in the functions a transition's effects call, summed per label."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, label: str, fn: F) -> F:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - start

        return timed  # type: ignore[return-value]

    def take(self) -> dict[str, float]:
        taken, self.seconds = self.seconds, {}
        return taken


def instrument(timers: Timers) -> None:
    """Time each part of a transition where it is looked up at call time (module and class
    attributes), so the code measured is the code that runs.

    render: every message composed (templates, key); insert messages/tasks: the outbox and
    task repositories' inserts (key lookups and each new row's seal hash included); load:
    the roster (checked against its seals), the program details and the approved pairs;
    task specs: the follow-up tasks computed; audit: the audit record, with the seal
    entries of every row the transition wrote.
    """
    owners: tuple[tuple[object, str, str], ...] = (
        (effects, "compose_message", "render"),
        (Outbox, "enqueue", "insert messages"),
        (TaskRepository, "add", "insert tasks"),
        (effects.Mailer, "__init__", "load"),
        (effects, "pair_list", "load"),
        (effects, "tasks_for", "task specs"),
        (AuditLog, "append", "audit"),
        (UnitOfWork, "commit", "commit"),
    )
    for owner, name, label in owners:
        setattr(owner, name, timers.wrap(label, getattr(owner, name)))


def _status(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def reset_peak() -> float:
    """Reset this process's peak resident set to the current one (Linux); returns it, MB.

    Where the kernel refuses, the peak stays the process's own, still a bound from above.
    """
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
    return _status("VmRSS")


def measure(url: str, event: CycleEvent) -> dict[str, Any]:
    """Fire ``event`` once (timed), then rerun its effects (rolled back) and the event."""
    timers = Timers()
    instrument(timers)
    uow = UnitOfWork(db.session_factory(url))
    with uow:  # connect before timing; the pool keeps the connection
        uow.cycles.exists(YEAR)
    due = CycleCalendar.default(YEAR).due_at(event)
    assert due is not None
    now = due.astimezone(UTC)
    rss = reset_peak()
    start = time.perf_counter()
    result = cycle_cases.fire_event(
        uow, YEAR, event, actor="bench", trigger=Trigger.schedule, now=now
    )
    wall = time.perf_counter() - start
    peak = _status("VmHWM") - rss
    first = timers.take()
    assert result.changed, result.message

    with uow:  # not committed: leaving the block rolls the rerun back
        cycle = uow.cycles.get(YEAR, for_update=True)
        start = time.perf_counter()
        again = effects.on_transition(uow, cycle, event, now)
        rerun = time.perf_counter() - start
    second = timers.take()
    start = time.perf_counter()
    noop = cycle_cases.fire_event(
        uow, YEAR, event, actor="bench", trigger=Trigger.schedule, now=now
    )
    repeated = time.perf_counter() - start
    assert not noop.changed
    return {
        "event": str(event),
        "wall": wall,
        "peak_mb": peak,
        "messages": result.messages,
        "tasks": result.tasks,
        "parts": first,
        "rerun": rerun,
        "rerun_parts": second,
        "rerun_added": again,
        "repeated_event": repeated,
    }


def in_subprocess(url: str, event: CycleEvent) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--measure", str(event), "--database-url", url],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        sys.exit(f"measuring {event} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def machine() -> str:
    with open("/proc/meminfo") as info:
        total_kb = int(info.readline().split()[1])
    cpu = platform.processor() or platform.machine()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return (
        f"{platform.system()} {platform.machine()} ({cpu}), {os.cpu_count()} cores, "
        f"{total_kb / 1024 / 1024:.0f} GB RAM; Python {platform.python_version()}; "
        f"load average {os.getloadavg()[0]:.1f}"
    )


def server_version(url: str) -> str:
    engine = db.engine_for(url)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            return "PostgreSQL " + str(conn.scalar(text("SHOW server_version"))).split()[0]
        return "SQLite " + str(conn.scalar(text("select sqlite_version()")))


PARTS = (
    "render",
    "insert messages",
    "insert tasks",
    "load",
    "task specs",
    "audit",
    "commit",
)
SHORT = {"insert messages": "msg ins", "insert tasks": "task ins", "task specs": "specs"}


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median wall time, so its parts still add up to its wall."""
    ordered = sorted(runs, key=lambda r: float(r["wall"]))
    return {**ordered[(len(ordered) - 1) // 2], "walls": [r["wall"] for r in ordered]}


def report(backend: str, rows: list[dict[str, Any]], markdown: bool) -> None:
    """The figures for one database: the timed call, its breakdown, the duplicate run."""
    if markdown:
        print(
            f"\n### {backend}, median of {len(rows[0]['walls'])} runs\n\n"
            "| transition | messages | tasks | wall s | range s | peak MB | "
            + " | ".join(f"{p} s" for p in PARTS)
            + " | other s | rerun effects s (added) | no-op s |"
        )
        print("|---|---:|---:|---:|---|---:|" + "---:|" * (len(PARTS) + 3))
    else:
        print(f"\n{backend}, median of {len(rows[0]['walls'])} runs:")
        print(
            f"  {'transition':<18}{'msgs':>7}{'tasks':>7}{'wall s':>8}{'range s':>12}"
            f"{'peak MB':>8}"
            + "".join(f"{SHORT.get(p, p):>9}" for p in PARTS)
            + f"{'other':>7}{'rerun s':>8}{'added':>6}{'no-op s':>8}"
        )
    for r in rows:
        parts = [r["parts"].get(p, 0.0) for p in PARTS]
        other = r["wall"] - sum(parts)
        added = r["rerun_added"]["messages"] + r["rerun_added"]["tasks"]
        spread = f"{min(r['walls']):.2f}-{max(r['walls']):.2f}"
        if markdown:
            print(
                f"| {r['event']} | {r['messages']:,} | {r['tasks']:,} | **{r['wall']:.2f}** "
                f"| {spread} | {r['peak_mb']:.0f} | "
                + " | ".join(f"{p:.2f}" for p in parts)
                + f" | {other:.2f} | {r['rerun']:.2f} ({added}) | {r['repeated_event']:.3f} |"
            )
        else:
            print(
                f"  {r['event']:<18}{r['messages']:>7,}{r['tasks']:>7,}{r['wall']:>8.2f}"
                f"{spread:>12}{r['peak_mb']:>8.0f}"
                + "".join(f"{p:>9.2f}" for p in parts)
                + f"{other:>7.2f}{r['rerun']:>8.2f}{added:>6}{r['repeated_event']:>8.3f}"
            )
    print()
    for r in rows:
        split = ", ".join(
            f"{SHORT.get(p, p)} {r['rerun_parts'][p]:.2f}" for p in PARTS if p in r["rerun_parts"]
        )
        print(f"{'- ' if markdown else '  '}rerun of {r['event']}'s effects: {split} s")


def run(url_of: Callable[[int], str], pairs: int, runs: int, markdown: bool) -> None:
    """Build and measure ``runs`` times, each from an empty database; report the medians."""
    results: dict[CycleEvent, list[dict[str, Any]]] = {event: [] for event in EVENTS}
    backend = ""
    for n in range(runs):
        url = url_of(n)
        wipe(url, allowed=True)
        started = time.perf_counter()
        summary = build(url, pairs)
        if n == 0:
            backend = f"{server_version(url)} ({db.redacted(url)})"
            print(f"\nSetup on {backend}: {summary} ({time.perf_counter() - started:.1f} s).")
        for event in EVENTS:
            results[event].append(in_subprocess(url, event))
    report(backend, [median_run(results[event]) for event in EVENTS], markdown)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5_000, help="one-to-one approved pairs")
    parser.add_argument("--postgres-url", help="a scratch PostgreSQL database (emptied)")
    parser.add_argument("--no-sqlite", action="store_true", help="measure PostgreSQL only")
    parser.add_argument("--wipe", action="store_true", help="empty a database that holds cycles")
    parser.add_argument("--runs", type=int, default=3, help="builds and measurements per database")
    parser.add_argument("--markdown", action="store_true", help="Markdown tables")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.database_url, CycleEvent(args.measure))))
        return
    print(f"# Queueing benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n")
    print(f"Machine: {machine()}.")
    print(
        textwrap.fill(
            f"Each transition: one fire_event call in a fresh process, {2 * args.pairs:,} "
            "participants; peak MB = growth of the peak resident set during the call; load = "
            "roster (checked against its seals) and approved pairs; msg ins and task ins "
            "include hashing each new row for its seal; specs = follow-up tasks computed; "
            "audit = the audit record, writing the seal entries of every row written; other "
            "= wall minus the parts (row lock, state machine, flushes). rerun = the same "
            "effects again with every key already stored (rolled back), added = rows it "
            "added; no-op = firing the event again.",
            width=100,
        )
    )
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory(prefix="bench-queueing-") as folder:
            run(
                lambda n: f"sqlite:///{Path(folder) / f'queueing-{n}.db'}",
                args.pairs,
                args.runs,
                args.markdown,
            )
    if args.postgres_url:
        url: str = args.postgres_url
        wipe(url, args.wipe)
        run(lambda n: url, args.pairs, args.runs, args.markdown)


if __name__ == "__main__":
    main()
