"""Benchmark of ``mentoring audit``: a large cycle's story, ``--as-of``, and ``audit verify``.

Run ``python benchmarks/bench_audit.py`` from the repository root (SQLite in a temporary
folder), or add ``--database-url postgresql+psycopg://…/scratch`` for PostgreSQL (that
database is emptied first; the script refuses one that holds cycles unless ``--wipe``).

Setup writes rows in bulk, not through the CLI: cycle 2026 with 10,000 participants (6,000
pairs), its outbox (~155,000 messages with bodies of realistic size), tasks, survey answers
and 100,000 audit records; before it, nine earlier cycles of 100,000 records each, so the
log holds 1,000,000 records chained with :func:`domain.audit.seal`. Each measurement then
runs in a fresh subprocess, so its peak memory (``ru_maxrss``) is its own; ``audit verify``
is measured as it runs, with an anchor at the head, and the chain alone (without the table
digests). ``--reuse`` measures a database built earlier (by older code, too). Not a test.
"""

import argparse
import json
import multiprocessing.forkserver as forkserver
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_rows import BATCH, bulk, wipe
from domain.audit import GENESIS, Anchor, seal, verify_rows
from domain.calendar import CycleCalendar
from domain.cycle import Cycle
from domain.cycle_states import TARGET_OF, CycleEvent, CycleState
from domain.followups import TaskAudience
from domain.notifications import MessageStatus
from domain.pairing_status import PairingSetStatus, PairStatus
from flows.usecases import audit as audit_cases
from flows.usecases import followups
from flows.usecases.audit_story import story
from infra import db, seal_book
from infra.repositories.audit import HEAD_ID
from infra.repositories.cycles import CycleRepository
from infra.tables import (
    AssessmentResponseRow,
    AuditHeadRow,
    AuditRow,
    MessageRow,
    PairingSetRow,
    PairRow,
    SealEntryRow,
    TaskRow,
)
from infra.uow import UnitOfWork

YEAR = 2026
SMALL_YEAR = 2027  # a small cycle beside it: an audited change must cost the same in both
SMALL_PARTICIPANTS = 80
MEASURES = (
    "story",
    "as-of",
    "verify",
    "verify-anchor",
    "verify-alone",
    "chain",
    "change-large",
    "change-small",
)
AS_OF = datetime(2027, 3, 15, 12, tzinfo=UTC)
_BODY = (
    "Dear {name},\n\nThis is a message from the Core Mentoring Program about your "
    "participation in the {year}\u2013{next} cycle. Your partner is {partner}. Please meet "
    "at least once a month and record your check-in with the form linked below; the "
    "committee reads every check-in and follows up where a pair needs help. If your "
    "circumstances change, write to the committee at mentoring@core.example.org and we "
    "will find a way forward together.\n\nCheck-in form: https://core.example.org/"
    "mentoring/check-in\nProgram guide: https://core.example.org/mentoring/guide\n\n"
    "With thanks,\nThe Core Leadership Development and Mentoring Committee\n"
)
_HTML = (
    '<!DOCTYPE html><html><body style="font-family: sans-serif; color: #222;"><p>Dear '
    "{name},</p><p>This is a message from the <b>Core Mentoring Program</b> about your "
    "participation in the {year}&ndash;{next} cycle. Your partner is {partner}.</p><p>"
    "Please meet at least once a month and record your check-in with the "
    '<a href="https://core.example.org/mentoring/check-in">check-in form</a>; the committee '
    "reads every check-in and follows up where a pair needs help.</p><p>If your "
    "circumstances change, write to the committee at "
    '<a href="mailto:mentoring@core.example.org">mentoring@core.example.org</a>.</p>'
    '<p style="color: #555; font-size: 90%;">With thanks,<br>The Core Leadership '
    "Development and Mentoring Committee</p></body></html>"
)


def pairs_of(participants: int) -> list[tuple[str, str]]:
    """Two mentees for every mentor in three, one for the others: 40% mentors, 60% mentees."""
    mentors = [f"M{n:05d}" for n in range(participants * 2 // 5)]
    mentees = [f"E{n:05d}" for n in range(participants - len(mentors))]
    return [(mentors[n % len(mentors)], mentee) for n, mentee in enumerate(mentees)]


def spread(rng: random.Random, start: datetime, end: datetime) -> datetime:
    return start + timedelta(seconds=rng.randrange(int((end - start).total_seconds())))


def cycle_events(
    year: int, pairs: list[tuple[str, str]], records: int, rng: random.Random
) -> list[tuple[datetime, str, str, dict[str, Any]]]:
    """A year's audit records (at, kind, actor, fields), in time order."""
    utc = {e: at.astimezone(UTC) for e, at in CycleCalendar.default(year).milestones.items()}
    created = utc[CycleEvent.open_call] - timedelta(days=30)
    out: list[tuple[datetime, str, str, dict[str, Any]]] = [
        (created, "cycle_created", "chair", {"timezone": "America/Chicago"})
    ]
    source = CycleState.planned
    for event in (e for e in CycleEvent if e is not CycleEvent.cancel):
        target = TARGET_OF[event]
        fields: dict[str, Any] = {
            "event": str(event),
            "source": str(source),
            "target": str(target),
            "trigger": "schedule",
            "reason": None,
            "flow_run_id": f"00000000-0000-4000-8000-{year:04d}{event.value[:8]:0>8}",
            "early": False,
            "messages": len(pairs),
            "tasks": 0,
        }
        out.append((utc[event] + timedelta(hours=7), "transition", "scheduler", fields))
        source = target
    opens, closes = utc[CycleEvent.open_call], utc[CycleEvent.close_applications]
    for _ in range(5):
        out.append((spread(rng, created, opens), "calendar_changed", "chair", {"changes": {}}))
        out.append((spread(rng, opens, closes), "matching_settings", "chair", {"weights": {}}))
    for n in range(200):
        rejected = [
            {"line": 2 + k, "member_id": f"X{n:03d}{k}", "reason": "not on the Core roster"}
            for k in range(5)
        ]
        fields = {
            "file": f"applications-{n:03d}.csv",
            "imported": 50,
            "replaced": [],
            "rejected": rejected,
            "late_override": False,
        }
        out.append((spread(rng, opens, closes), "applications_imported", "chair", fields))
    review = utc[CycleEvent.announce_pairings] - timedelta(days=20)
    for n in range(50):
        fields = {"set_id": n + 1, "pairs": len(pairs), "unmatched": 12, "total_score": 1e5}
        fields |= {"fixed": [], "blocked": []}
        out.append((review + timedelta(hours=3 * n), "pairings_proposed", "Pat Chair", fields))
    for n in range(records // 20):
        mentor, mentee = rng.choice(pairs)
        fields = {"edit": "block", "mentor_id": mentor, "mentee_id": mentee}
        out.append((review + timedelta(seconds=30 * n), "pairing_edited", "Sam Member", fields))
    pair_list = sorted([m, e] for m, e in pairs)
    for n in range(3):
        fields = {"set_id": 48 + n, "pairs": len(pairs), "pair_list": pair_list}
        at = review + timedelta(days=7 + n)
        out.append((at, "pairings_approved", "Pat Chair", fields))
    ends = utc[CycleEvent.complete_assessment]
    for n in range(365):
        at = opens + timedelta(days=n, hours=12)
        out.append((at, "reminders_queued", "scheduler", {"messages": 40}))
    for _ in range(20):
        at = spread(rng, utc[CycleEvent.end_mentoring], ends)
        fields = {"file": "survey.csv", "imported": 300, "replaced": 3, "rejected": []}
        out.append((at, "assessment_imported", "chair", fields))
    for n in range(records // 2):
        at = opens + timedelta(minutes=10 * n)
        out.append((at, "mail_delivered", "mail delivery", {"sent": 4, "failed": 0}))
    begins = utc[CycleEvent.start_mentoring]
    for n in range(records - len(out)):
        mentor, mentee = pairs[n % len(pairs)]
        key = f"{year}/start_mentoring/check-in/{n // len(pairs)}/{mentor}/{mentee}"
        fields = {"task": key, "title": f"check-in of {mentor} and {mentee}"}
        out.append((spread(rng, begins, ends), "task_done", mentee, fields))
    out.sort(key=lambda r: r[0])
    return out


class Chain:
    """Appends sealed audit records in bulk, keeping the head as it goes."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow, self.seq, self.prev = uow, 0, GENESIS

    def write(self, year: int, events: list[tuple[datetime, str, str, dict[str, Any]]]) -> None:
        rows: list[dict[str, Any]] = []
        for at, kind, actor, fields in events:
            self.seq += 1
            digest = seal(self.seq, kind, year, at, actor, fields, self.prev)
            rows.append(
                {
                    "seq": self.seq,
                    "kind": kind,
                    "cycle_year": year,
                    "at": at,
                    "actor": actor,
                    "fields": fields,
                    "prev_hash": self.prev,
                    "hash": digest,
                }
            )
            self.prev = digest
            if len(rows) == BATCH:
                self._flush(rows)
                rows = []
        self._flush(rows)

    def _flush(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        with self.uow:
            self.uow.session.execute(insert(AuditRow), rows)
            head = self.uow.session.get(AuditHeadRow, HEAD_ID)
            if head is None:
                self.uow.session.add(AuditHeadRow(id=HEAD_ID, seq=self.seq, hash=self.prev))
            else:
                head.seq, head.hash = self.seq, self.prev
            self.uow.commit()


MESSAGE_PLAN = (  # kind, per pair side (True) or per participant (False), copies, share sent
    ("application_received", False, 1, 1.0),
    ("pairing_notice", True, 1, 1.0),
    ("orientation_invitation", False, 1, 1.0),
    ("mentoring_begins", True, 1, 1.0),
    ("checkin_reminder", True, 6, 0.995),
    ("midpoint_check", True, 1, 0.995),
    ("mentoring_ends", True, 1, 0.995),
    ("assessment_invitation", False, 1, 0.99),
    ("assessment_reminder", False, 1, 0.0),
)


def messages(
    year: int, pairs: list[tuple[str, str]], rng: random.Random
) -> Iterator[dict[str, Any]]:
    opens = datetime(year, 8, 1, 12, tzinfo=UTC)
    people = sorted({m for pair in pairs for m in pair})
    sides = [(m, e) for m, e in pairs] + [(e, m) for m, e in pairs]
    for step, (kind, per_side, copies, sent_share) in enumerate(MESSAGE_PLAN):
        targets = sides if per_side else [(p, "") for p in people]
        for copy in range(copies):
            queued = opens + timedelta(days=40 * step + 30 * copy)
            for me, partner in targets:
                roll = rng.random()
                status = (
                    MessageStatus.sent
                    if roll < sent_share
                    else (MessageStatus.failed if roll < 0.999 else MessageStatus.pending)
                )
                if sent_share == 0.0:
                    status = MessageStatus.pending
                context = {"name": me, "partner": partner, "year": year, "next": year + 1}
                yield {
                    "key": f"{year}/{kind}/{me}/{partner}/{copy}",
                    "cycle_year": year,
                    "kind": kind,
                    "to_address": f"{me.lower()}@example.org",
                    "to_name": me,
                    "subject": f"Core Mentoring Program: {kind.replace('_', ' ')}",
                    "text_body": _BODY.format(**context),
                    "html_body": _HTML.format(**context),
                    "attachments": [],
                    "status": status,
                    "attempts": 1,
                    "last_error": "550 mailbox unavailable"
                    if status is MessageStatus.failed
                    else None,
                    "queued_at": queued,
                    "sent_at": queued + timedelta(minutes=5)
                    if status is MessageStatus.sent
                    else None,
                }


def tasks(year: int, pairs: list[tuple[str, str]], done: int) -> Iterator[dict[str, Any]]:
    """Each pair's first meeting and seven check-ins, and each participant's survey; the
    first ``done`` of them done (as many as the log has ``task_done`` records for)."""
    begins = datetime(year, 12, 1, 12, tzinfo=UTC)
    survey_due = datetime(year + 1, 8, 1, 5, tzinfo=UTC)
    specs = [
        (f"check-in/{month}/{mentor}/{mentee}", mentee, begins + timedelta(days=14 + 30 * month))
        for month in range(8)
        for mentor, mentee in pairs
    ]
    specs += [
        (f"survey/{member}", member, survey_due)
        for member in sorted({m for pair in pairs for m in pair})
    ]
    for made, (key, member, due) in enumerate(specs):
        title = (
            "Answer the program assessment survey"
            if key.startswith("survey")
            else (
                f"{'First meeting' if key.startswith('check-in/0/') else 'Check-in'} of "
                + key.split("/", 2)[2].replace("/", " and ")
            )
        )
        yield {
            "key": f"{year}/{key}",
            "cycle_year": year,
            "audience": TaskAudience.participant,
            "member_id": member,
            "title": title,
            "due_at": due,
            "created_at": begins,
            "done_at": due - timedelta(days=2) if made < done else None,
            "done_by": member if made < done else None,
        }


def answers(
    year: int, pairs: list[tuple[str, str]], rng: random.Random
) -> Iterator[dict[str, Any]]:
    at = datetime(year + 1, 7, 10, tzinfo=UTC)
    places = sorted({(m, "mentor") for m, _ in pairs} | {(e, "mentee") for _, e in pairs})
    for member, role in places:
        if rng.random() < 0.65:
            yield {
                "cycle_year": year,
                "member_id": member,
                "role": role,
                "submitted_at": at,
                "overall": rng.choice((3, 4, 4, 5)),
                "goals_met": rng.choice((2, 3, 4, 5)),
                "would_recommend": rng.random() < 0.9,
                "will_continue": rng.random() < 0.6,
                "comments": "",
            }


def build(
    url: str, participants: int, records: int, history: int, say: Callable[[str], None]
) -> None:
    rng = random.Random(2026)
    uow = UnitOfWork(db.session_factory(url))
    pairs = pairs_of(participants)
    chain = Chain(uow)
    started = time.perf_counter()
    for year in range(YEAR - history, YEAR):
        chain.write(year, cycle_events(year, pairs, records, rng))
        say(
            f"  history: cycle {year}, {chain.seq:,} records "
            f"({time.perf_counter() - started:.0f} s)"
        )
    set_id = _cycle_rows(url, YEAR)
    _pairs_and_mail(uow, set_id, YEAR, pairs, rng)
    sent = uow_count(uow, MessageRow, YEAR)
    say(f"  cycle {YEAR}: {sent:,} messages ({time.perf_counter() - started:.0f} s)")
    events = cycle_events(YEAR, pairs, records, rng)
    done = sum(kind == "task_done" for _, kind, _, _ in events)
    made = bulk(uow, TaskRow, tasks(YEAR, pairs, done))
    done = min(done, made)
    made_answers = bulk(uow, AssessmentResponseRow, answers(YEAR, pairs, rng))
    small = pairs_of(SMALL_PARTICIPANTS)
    _pairs_and_mail(uow, _cycle_rows(url, SMALL_YEAR), SMALL_YEAR, small, rng)
    bulk(uow, TaskRow, tasks(SMALL_YEAR, small, 0))
    say(
        f"  cycle {SMALL_YEAR}: {uow_count(uow, MessageRow, SMALL_YEAR):,} messages "
        f"({time.perf_counter() - started:.0f} s)"
    )
    sealed = seal_everything(url, chain.seq + len(events))
    at, kind, actor, fields = events[-1]
    events[-1] = (at, kind, actor, {**fields, "seals": sealed})
    chain.write(YEAR, events)
    say(
        f"  cycle {YEAR}: {len(pairs):,} pairs, {made:,} tasks ({done:,} done), "
        f"{made_answers:,} survey answers, {len(events):,} audit records; log holds "
        f"{chain.seq:,} records ({time.perf_counter() - started:.0f} s)"
    )


def _cycle_rows(url: str, year: int) -> int:
    """The cycle and its approved pairing set, written without the unit of work (whose
    commit would seal and audit them between the bulk-written records)."""
    with db.session_factory(url)() as session:
        CycleRepository(session).add(
            Cycle(year, CycleCalendar.default(year), state=CycleState.assessed), datetime.now(UTC)
        )
        pairing = PairingSetRow(
            cycle_year=year,
            status=PairingSetStatus.approved,
            proposed_at=datetime(year, 10, 15, tzinfo=UTC),
        )
        session.add(pairing)
        session.commit()
        return pairing.id


def _pairs_and_mail(
    uow: UnitOfWork, set_id: int, year: int, pairs: list[tuple[str, str]], rng: random.Random
) -> None:
    bulk(
        uow,
        PairRow,
        (
            {
                "set_id": set_id,
                "mentor_id": m,
                "mentee_id": e,
                "score": 60.0,
                "explanation": "shared area; career step",
                "status": PairStatus.active if n % 97 else PairStatus.ended,
            }
            for n, (m, e) in enumerate(pairs)
        ),
    )
    bulk(uow, MessageRow, messages(year, pairs, rng))


def uow_count(uow: UnitOfWork, model: type[MessageRow], year: int) -> int:
    with uow:
        return int(
            uow.session.scalar(
                select(func.count()).select_from(model).where(model.cycle_year == year)
            )
            or 0
        )


def seal_everything(url: str, seq: int) -> dict[str, object]:
    """Seal every row as it stands, under audit record ``seq`` (the program seals each row
    under the record of the change that wrote it; verify reads the same entries either
    way, so its cost is the same), and return what that record commits to."""
    listing: list[tuple[str, str, str | None]] = []
    with db.session_factory(url)() as session:
        for facet in seal_book.FACETS:
            rows = list(seal_book.stored_rows(session, facet))
            listing.extend((facet.name, key, digest) for key, digest in rows)
        for start in range(0, len(listing), BATCH):
            session.execute(
                insert(SealEntryRow),
                [
                    {"seq": seq, "facet": facet, "row_key": key, "row_hash": digest}
                    for facet, key, digest in listing[start : start + BATCH]
                ],
            )
        session.commit()
    return {"rows": len(listing), "digest": seal_book.entries_digest(listing)}


def one_change(uow: UnitOfWork, year: int) -> str:
    """An audited change in cycle ``year``: its first open task marked done."""
    with uow:
        task_id = uow.session.scalar(
            select(func.min(TaskRow.id)).where(
                TaskRow.cycle_year == year, TaskRow.done_at.is_(None)
            )
        )
    if task_id is None:
        raise SystemExit(f"cycle {year} has no open task left to mark done")
    return followups.mark_done(uow, int(task_id), actor="benchmark")


def measure(url: str, what: str, repeat: int) -> dict[str, Any]:
    """Run one operation ``repeat`` times in this (fresh) process; times and peak memory."""
    uow = UnitOfWork(db.session_factory(url))
    times, cpu, size, detail = [], [], 0, ""
    load = os.getloadavg()[0]
    for _ in range(repeat):
        start, used = time.perf_counter(), cpu_seconds()
        if what in VERIFYING:
            check = audit_cases.verify(uow, head_anchor(uow) if what == "verify-anchor" else ())
            detail = f"{check.records:,} records, {len(check.problems)} problem(s)"
        elif what in CHANGES:
            one_change(uow, CHANGES[what])
        elif what == "verify-alone":
            with uow:
                found = uow.audit.verify(parallel_from=sys.maxsize)
            detail = f"{len(found)} problem(s)"
        elif what == "chain":
            with uow:
                problems = verify_rows(uow.audit.chain_rows(), uow.audit.head())
            detail = f"{len(problems)} problem(s)"
        else:
            told = story(uow, YEAR, AS_OF if what == "as-of" else None)
            size = len(json.dumps(told.as_dict(), indent=2, default=str))
            detail = (
                f"state {told.state}, {len(told.transitions)} transitions, "
                f"{len(told.pairing_decisions):,} pairing decisions, "
                f"{told.messages['total']['queued']:,} messages, "
                f"{told.tasks['total']['created']:,} tasks, JSON {size / 1e6:.1f} MB"
            )
        times.append(time.perf_counter() - start)
        cpu.append(cpu_seconds() - used)
    if what in CHANGES:
        detail = f"{uow_count(uow, MessageRow, CHANGES[what]):,} messages in the cycle"
    return {
        "what": what,
        "times": times,
        "cpu": cpu,
        "load": [load, os.getloadavg()[0]],
        "peak_mb": peak_mb(),
        "detail": detail,
    }


def cpu_seconds() -> float:
    """CPU time of this process and every process it started, ``audit verify``'s workers
    too: they are forked by multiprocessing's fork server, which reaps them, so their time
    is in the server's children (``/proc``), not in this process's."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    server = getattr(forkserver._forkserver, "_forkserver_pid", None)
    stat = Path(f"/proc/{server}/stat")
    if server and stat.exists():
        fields = stat.read_text().rsplit(")", 1)[1].split()
        total += sum(int(n) for n in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return total


VERIFYING = ("verify", "verify-anchor")
CHANGES = {"change-large": YEAR, "change-small": SMALL_YEAR}


def head_anchor(uow: UnitOfWork) -> list[Anchor]:
    """The head as ``audit anchor`` gives it, for ``verify --anchor`` to replay the whole
    chain up to (the anchor furthest from the genesis there can be)."""
    with uow:
        head = uow.audit.head()
    return [] if head is None else [Anchor(*head)]


def peak_mb() -> float:
    """This process's peak resident set. ``VmHWM`` rather than ``ru_maxrss``: the latter
    survives fork and exec, so a child would report the builder's peak."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def in_subprocess(url: str, what: str, repeat: int) -> dict[str, Any]:
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--database-url",
            url,
            "--measure",
            what,
            "--repeat",
            str(repeat),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


_WHOLE_COMMAND = """
import sys
from datetime import datetime
import flows.cli.app
from flows.cli.audit import print_story
from flows.usecases.audit_story import story
from infra.uow import UnitOfWork
as_of = datetime.fromisoformat(sys.argv[1]) if len(sys.argv) > 1 else None
print_story(story(UnitOfWork.from_settings(), %d, as_of), "json")
"""


def whole_command(url: str, as_of: datetime | None) -> float:
    """Seconds for a fresh interpreter to import the CLI, tell the story and print its JSON:
    what ``mentoring audit YEAR --json`` costs once ``flows/cli/audit.py`` calls ``story``."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", _WHOLE_COMMAND % YEAR, *([as_of.isoformat()] if as_of else [])],
        env={**os.environ, "MENTORING_DATABASE_URL": url},
        cwd=Path(__file__).resolve().parents[1],
        stdout=subprocess.DEVNULL,
        check=True,
    )
    return time.perf_counter() - start


def machine() -> str:
    cores = os.cpu_count()
    with open("/proc/meminfo") as info:
        total_kb = int(info.readline().split()[1])
    return (
        f"{platform.system()} {platform.machine()}, {cores} cores, "
        f"{total_kb / 1024 / 1024:.0f} GB RAM; Python {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: SQLite in a temporary folder")
    parser.add_argument("--wipe", action="store_true", help="empty a database that holds cycles")
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--records", type=int, default=100_000, help="audit records per cycle")
    parser.add_argument("--history", type=int, default=9, help="earlier cycles in the log")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--reuse", action="store_true", help="measure a database an earlier run built"
    )
    parser.add_argument("--measure", choices=MEASURES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.database_url, args.measure, args.repeat)))
        return
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'audit.db'}"
        print(f"# Audit benchmark\n\nRun {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}.")
        print(f"Database: {db.engine_for(url).dialect.name} ({db.redacted(url)}).\n")
        if args.reuse:
            print("Setup: reused the database an earlier run built.")
        else:
            print("Setup (bulk inserts, not timed below):")
            wipe(url, args.wipe)
            build(url, args.participants, args.records, args.history, print)
        if url.startswith("sqlite:///"):
            size = Path(url.removeprefix("sqlite:///")).stat().st_size
            print(f"  database file: {size / 1e6:,.0f} MB")
        print(
            "\nEach row: a fresh process, the operation run "
            f"{args.repeat} times (first = cold process, then warm); peak = that process's "
            "maximum resident set (VmHWM).\n"
        )
        print(
            "CPU s: this process and every process it started (`audit verify`'s workers "
            "too; not the PostgreSQL server's); load: the 1-minute load average before and "
            "after, on "
            f"{os.cpu_count()} cores.\n"
        )
        print("| operation | first s | median s | CPU s | load | peak MB | what it returned |")
        print("|---|---:|---:|---:|---|---:|---|")
        labels = {
            "story": f"`audit {YEAR} --json` (story + JSON)",
            "as-of": f"`audit {YEAR} --as-of {AS_OF:%Y-%m-%dT%H:%M}Z --json`",
            "verify": "`audit verify` (chain + row seals)",
            "verify-anchor": "`audit verify --anchor HEAD` (the same, replayed to the head)",
            "verify-alone": "`audit verify` in one process (no workers), for comparison",
            "chain": "the chain alone (plain columns in batches, no row seals)",
            "change-large": f"one audited change (a task done) in cycle {YEAR}",
            "change-small": f"one audited change (a task done) in cycle {SMALL_YEAR}",
        }
        for what in MEASURES:
            repeat = 1 if what in (*VERIFYING, "verify-alone", "chain") else args.repeat
            r = in_subprocess(url, what, repeat)
            print(
                f"| {labels[what]} | {r['times'][0]:.2f} | {statistics.median(r['times']):.2f} "
                f"| {statistics.median(r['cpu']):.2f} | {r['load'][0]:.1f}–{r['load'][1]:.1f} "
                f"| {r['peak_mb']:.0f} | {r['detail']} |",
                flush=True,
            )
        for label, as_of in (("story", None), ("--as-of", AS_OF)):
            seconds = whole_command(url, as_of)
            print(
                f"| whole process, {label}: start Python, import the CLI, print the JSON "
                f"| {seconds:.2f} | | | | | |",
                flush=True,
            )


if __name__ == "__main__":
    main()
