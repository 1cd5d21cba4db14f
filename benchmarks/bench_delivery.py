"""Benchmark of mail delivery: building messages, the .eml folder and SMTP at transport
level, then ``notifications deliver`` end to end as a committee runs it, side by side in
one run.

Run ``python benchmarks/bench_delivery.py`` from the repository root; ``--quick`` keeps
the 1,250-message runs only, ``--help`` lists the rest. Not a test: the full run takes
about seven minutes, most of it the one-connection-per-message peer.

Transport level (no database):

- building: CPU time per message of the ``email`` package (``build_email`` then
  ``as_bytes``, what the transports did before) and of ``MessageWriter`` (what they do now).
- .eml folder: ``EmlFolderTransport`` writing N messages to a fresh temporary folder.
- SMTP: a local aiosmtpd server (``tests/smtp_server.py``) on 127.0.0.1 waits ``--delay``
  (10 ms) before each reply, like a relay's round trip. It runs in its own process, so the
  server's event loop and our client threads do not share one interpreter lock; its CPU
  time is printed so a saturated server shows. The peer does what ``prefect-email``'s
  ``email_send_message`` task does, once per message: build a MIMEMultipart,
  ``smtplib.SMTP(host, port)`` (connect, greeting), ``send_message`` (EHLO, MAIL, RCPT,
  DATA) and QUIT (Prefect's own per-task overhead is left out, which flatters the peer).
  Ours: ``SmtpTransport`` with 1 reused connection, then pools of 4, 8 and 16.

End to end (issue 11's speed targets), each run on a fresh installation: a new
MENTORING_HOME with its SQLite database (the embedded default) or a scratch PostgreSQL
database (created on the ``--postgres-url`` server, dropped after), ``mentoring db
upgrade``, a cycle, and N rendered check-in reminders queued through
``UnitOfWork.outbox.enqueue`` in one transaction (none of that timed). Then
``python -m flows.cli notifications deliver --json`` is timed as a subprocess, process
start included, with nothing of ours in its environment but the installation's variables:

- to the .eml folder, N = 1,250 and 10,000 on each database: target 1,000 messages/s,
  judged by the median of ``--runs`` (3) runs, each on its own fresh installation: single
  runs of the same code vary by half on a shared machine. Runs on the empty outbox first
  show what starting the program costs. Nothing the runs wrote is deleted until every run
  is measured (:data:`AFTERWARDS`).
- by SMTP to the same aiosmtpd, N = ``--messages``, the default pool of 4
  (``MENTORING_SMTP_HOST``/``PORT`` only): target 80 % of the pool's ideal and 5x the peer
  measured in the same run.
- every run checks that exactly N went out and none twice: the JSON counts, every row
  ``sent`` after one attempt, and N files with N distinct Message-IDs in the folder, or N
  messages with N distinct Message-IDs at the server.
- memory: the peak resident set of each deliver process (``ru_maxrss`` from ``os.wait4``
  in a small parent process, since a child's ``ru_maxrss`` starts from the resident set of
  the process it was forked from): flat in N.
- statements: an in-process ``deliver`` of N messages to the .eml folder with a
  ``before_cursor_execute`` listener on the engine counts the SQL statements (and commits)
  per 100 messages: flat in N when results are recorded a batch at a time.
  ``--profile DIR`` writes a cProfile of those runs to DIR (statement counts still hold;
  their times then do not).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import functools
import itertools
import json
import logging
import multiprocessing as mp
import os
import platform
import pstats
import re
import shutil
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy import case, create_engine, event, func, make_url, select, text

from domain.notifications import OutgoingMessage
from flows.usecases import cycles as cycle_cases
from flows.usecases import notifications as notification_cases
from infra import db
from infra.mail import SMTP_POLICY, DeliveryResult, MailSettings, build_email
from infra.mail_eml import EmlFolderTransport
from infra.mail_mime import MessageWriter
from infra.mail_smtp import SmtpTransport
from infra.tables import MessageRow
from infra.uow import UnitOfWork

ROUND_TRIPS_REUSED = 4  # MAIL, RCPT, DATA, end of data
ROUND_TRIPS_PEER = 7  # connect/greeting, EHLO, MAIL, RCPT, DATA, end of data, QUIT
SENDER = "Core Mentoring Program <mentoring@core.example.org>"
DOMAIN = "core.example.org"
REPOSITORY = Path(__file__).resolve().parents[1]
POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
YEAR = 2026
DEFAULT_POOL = 4
EML_TARGET = 1_000  # messages/s end to end
MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]*>)", re.IGNORECASE | re.MULTILINE)
_scratch_numbers = itertools.count(1)
AFTERWARDS = contextlib.ExitStack()
"""Removals of what the runs wrote (folders, scratch databases), done once every run is
measured: deleting thousands of files can slow the file creations of the next run on this
disk, which would charge the benchmark's own clean-up to the program measured after it."""


def _repository_on_path() -> None:
    """The benchmark borrows the test suite's helpers (its SMTP server, its messages)."""
    if str(REPOSITORY) not in sys.path:
        sys.path.insert(0, str(REPOSITORY))


def serve(conn: Connection, delay: float) -> None:
    """The server process: start, report the port, answer "stats" and "ids" until "stop"."""
    _repository_on_path()
    from tests.smtp_server import SmtpTestServer

    logging.disable(logging.INFO)
    server = SmtpTestServer(delay=delay, record=False)
    handler = server.handler
    ids = count_message_ids(handler)
    server.start()
    conn.send(server.port)
    while (command := conn.recv()) != "stop":
        if command == "stats":
            with handler.lock:
                conn.send((handler.accepted, handler.connections, time.process_time()))
        elif command == "ids":
            with handler.lock:
                conn.send((sum(ids.values()), len(ids), max(ids.values(), default=0)))
                ids.clear()
    server.stop()


def count_message_ids(handler: Any) -> Counter[bytes]:
    """Count the Message-ID of every message the server accepts.

    A pattern on the raw bytes, not the handler's own recording: parsing each message
    would cost the server's event loop about a millisecond a message and slow every
    connection it serves.
    """
    ids: Counter[bytes] = Counter()
    accept = handler.handle_DATA

    async def handle_data(server: Any, session: Any, envelope: Any) -> str:
        answer: str = await accept(server, session, envelope)
        if answer.startswith("250"):
            found = MESSAGE_ID.search(envelope.original_content or b"")
            with handler.lock:
                ids[found.group(1) if found else b""] += 1
        return answer

    handler.handle_DATA = handle_data
    return ids


@contextlib.contextmanager
def smtp_server(delay: float) -> Iterator[tuple[Connection, int]]:
    """The aiosmtpd server in its own process: the pipe to it and its port."""
    ours_end, theirs_end = mp.Pipe()
    process = mp.get_context("spawn").Process(target=serve, args=(theirs_end, delay))
    process.start()
    try:
        yield ours_end, int(ours_end.recv())
    finally:
        ours_end.send("stop")
        process.join()


@functools.cache
def make_messages(count: int) -> tuple[OutgoingMessage, ...]:
    """Rendered check-in reminders, rendered once per size in a run."""
    _repository_on_path()
    from tests.builders import checkin_reminders

    return tuple(checkin_reminders(count))


def peer_send(messages: Sequence[OutgoingMessage], host: str, port: int, sender: str) -> None:
    """One connection per message, as prefect-email's task does for each call."""
    for msg in messages:
        message = MIMEMultipart()
        message["Subject"] = msg.subject
        message["From"] = sender
        message["To"] = msg.to_address
        message.attach(MIMEText(msg.text_body, "plain"))
        message.attach(MIMEText(msg.html_body, "html"))
        with smtplib.SMTP(host, port) as server:
            server.send_message(message)


def ours_send(messages: Sequence[OutgoingMessage], settings: MailSettings) -> None:
    results: list[DeliveryResult] = []
    report = SmtpTransport(settings).deliver(messages, results.append)
    if report.sent != len(messages):
        raise SystemExit(f"only {report.sent} of {len(messages)} sent: {report}")


def bench_building(messages: Sequence[OutgoingMessage]) -> None:
    """CPU time per message: the ``email`` package against ``MessageWriter``."""
    sample = messages[:500]
    start = time.process_time()
    for msg in sample:
        build_email(msg, SENDER, DOMAIN).as_bytes(policy=SMTP_POLICY)
    package = (time.process_time() - start) / len(sample)
    writer = MessageWriter(SENDER, DOMAIN)
    start = time.process_time()
    for msg in messages:
        writer.write(msg)
    ours = (time.process_time() - start) / len(messages)
    print("## Building a message (CPU time per message)\n")
    print("| way | messages | ms per message |\n|---|---:|---:|")
    print(f"| email package: build_email + as_bytes | {len(sample):,} | {package * 1000:.3f} |")
    print(f"| MessageWriter.write | {len(messages):,} | {ours * 1000:.3f} |")
    print(f"\nMessageWriter is {package / ours:.0f}x faster.\n", flush=True)


def bench_eml(counts: Sequence[int]) -> None:
    """The .eml folder alone, into a fresh temporary folder under var/ (the disk in use)."""
    print("## .eml folder (transport alone)\n")
    print("| messages | total time (s) | messages/s | CPU ms per message |\n|---:|---:|---:|---:|")
    root = Path("var")
    root.mkdir(exist_ok=True)
    for count in counts:
        messages = make_messages(count)
        folder = Path(tempfile.mkdtemp(prefix="bench-eml-", dir=root))
        AFTERWARDS.callback(shutil.rmtree, folder)
        results: list[DeliveryResult] = []
        cpu, start = time.process_time(), time.perf_counter()
        report = EmlFolderTransport(folder, SENDER).deliver(messages, results.append)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        if report.sent != count:
            raise SystemExit(f".eml: only {report.sent} of {count} written: {report}")
        print(f"| {count:,} | {elapsed:.2f} | {count / elapsed:,.0f} | {cpu / count * 1000:.3f} |")
    print(flush=True)


def measure(
    name: str, connections: int, run: Callable[[], None], server: Connection, count: int
) -> dict[str, float | str | int]:
    server.send("stats")
    accepted0, opened0, cpu0 = server.recv()
    client_cpu0, start = time.process_time(), time.perf_counter()
    run()
    elapsed = time.perf_counter() - start
    client_cpu = time.process_time() - client_cpu0
    server.send("stats")
    accepted1, opened1, cpu1 = server.recv()
    if accepted1 - accepted0 != count:
        raise SystemExit(f"{name}: the server accepted {accepted1 - accepted0} of {count}")
    row: dict[str, float | str | int] = {
        "name": name,
        "connections": connections,
        "seconds": elapsed,
        "rate": count / elapsed,
        "opened": opened1 - opened0,
        "server_cpu": cpu1 - cpu0,
        "client_cpu": client_cpu,
    }
    print(
        f"  {name:<22} {elapsed:8.1f} s {count / elapsed:8.1f} msg/s  "
        f"connections opened {opened1 - opened0:>6}  "
        f"server CPU {cpu1 - cpu0:6.1f} s  client CPU {client_cpu:6.1f} s",
        flush=True,
    )
    return row


def bench_smtp(
    messages: Sequence[OutgoingMessage],
    delay: float,
    pools: Sequence[int],
    server: Connection,
    port: int,
) -> float:
    """The peer and our pools against aiosmtpd answering after ``delay``, side by side;
    returns the peer's rate, the yardstick of the end-to-end SMTP run."""
    count = len(messages)
    host, sender = "127.0.0.1", SENDER
    print("## SMTP (transport alone)\n")
    print(
        f"server: aiosmtpd on {host}:{port} in its own process, "
        f"{delay * 1000:.0f} ms before each reply; messages: {count:,} rendered "
        "check-in reminders (multipart text + html)\n"
    )

    def settings(connections: int) -> MailSettings:
        return MailSettings(host=host, port=port, mail_from=sender, connections=connections)

    rows = [
        measure(
            "peer (1 per message)",
            1,
            lambda: peer_send(messages, host, port, sender),
            server,
            count,
        )
    ]
    for size in [1, *pools]:
        label = "ours, 1 reused" if size == 1 else f"ours, pool of {size}"
        rows.append(
            measure(
                label,
                size,
                lambda size=size: ours_send(messages, settings(size)),  # type: ignore[misc]
                server,
                count,
            )
        )

    peer_rate = float(rows[0]["rate"])
    print(
        "\n| way | connections | total time (s) | messages/s | speed-up | ideal msg/s "
        "| % of ideal |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        trips = ROUND_TRIPS_PEER if row is rows[0] else ROUND_TRIPS_REUSED
        ideal = int(row["connections"]) / (trips * delay)
        print(
            f"| {row['name']} | {row['connections']} | {float(row['seconds']):.1f} | "
            f"{float(row['rate']):.1f} | {float(row['rate']) / peer_rate:.1f}x | {ideal:.0f} "
            f"| {float(row['rate']) / ideal:.0%} |"
        )
    print(
        "\nideal = connections / (round trips per message x delay): "
        f"{ROUND_TRIPS_PEER} round trips for the peer, {ROUND_TRIPS_REUSED} on a reused one."
    )
    default = next((row for row in rows[1:] if row["connections"] == DEFAULT_POOL), None)
    if default is not None:
        share = float(default["rate"]) / pool_ideal(DEFAULT_POOL, delay)
        speedup = float(default["rate"]) / peer_rate
        verdict = "met" if share >= 0.8 and speedup >= 5 else "NOT met"
        print(
            f"pool of 4: {share:.0%} of its ideal (target 80 %), {speedup:.1f}x the peer "
            f"(target 5x): {verdict}"
        )
    print(flush=True)
    return peer_rate


def pool_ideal(connections: int, delay: float) -> float:
    """Messages per second of ``connections`` reused connections bound by round trips."""
    return connections / (ROUND_TRIPS_REUSED * delay)


@dataclass(frozen=True)
class Scratch:
    """A fresh installation: its home folder, its database, and the environment the
    program runs in there (none of our own ``MENTORING_*`` variables)."""

    backend: str
    url: str
    home: Path
    env: dict[str, str]

    @property
    def mail_dir(self) -> Path:
        return self.home / "mail"

    def with_env(self, **variables: str) -> dict[str, str]:
        return {**self.env, **variables}


def _admin(admin_url: str, statement: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def _cli(env: Mapping[str, str], *args: str) -> str:
    """Run ``mentoring ARGS`` as a committee member would; its output, or stop here."""
    done = subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        env=dict(env),
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"mentoring {' '.join(args)} exited {done.returncode}: {done.stderr}")
    return done.stdout


@contextlib.contextmanager
def scratch_install(backend: str, admin_url: str) -> Iterator[Scratch]:
    """A new MENTORING_HOME under var/ (the disk in use) and, for PostgreSQL, a new
    database; migrated with ``mentoring db upgrade``; all of it removed at the end
    (:data:`AFTERWARDS`)."""
    root = REPOSITORY / "var"
    root.mkdir(exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="bench-home-", dir=root))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MENTORING_")}
    env["MENTORING_HOME"] = str(home)
    database = None
    if backend == "sqlite":
        url = f"sqlite:///{home / 'mentoring.db'}"
    else:
        database = f"mentoring_bench_{os.getpid()}_{next(_scratch_numbers)}"
        _admin(admin_url, f'CREATE DATABASE "{database}"')
        url = make_url(admin_url).set(database=database).render_as_string(hide_password=False)
        env["MENTORING_DATABASE_URL"] = url
    AFTERWARDS.callback(shutil.rmtree, home)
    if database is not None:
        AFTERWARDS.callback(_admin, admin_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    try:
        _cli(env, "db", "upgrade")
        yield Scratch(backend, url, home, env)
    finally:
        db.engine_for(url).dispose()


def queue(scratch: Scratch, count: int) -> None:
    """A cycle and ``count`` rendered messages in its outbox, queued in one transaction."""
    uow = UnitOfWork(db.session_factory(scratch.url))
    cycle_cases.create_cycle(
        uow, YEAR, timezone="America/Chicago", milestones={}, actor="benchmark"
    )
    messages = make_messages(count)
    with uow:
        added = uow.outbox.enqueue(messages, dt.datetime.now(dt.UTC))
        uow.commit()
    if added != count:
        raise SystemExit(f"queued {added} of {count} messages")


@dataclass(frozen=True)
class DeliverRun:
    """One ``notifications deliver --json`` process: its wall time, peak memory, counts."""

    seconds: float
    peak_rss_mib: float
    counts: dict[str, int]


# A small parent between us and the deliver process: Linux carries the resident set a
# process had when it forked into its child's ``ru_maxrss``, so spawned straight from this
# benchmark (which holds the rendered messages) the child would seem to grow with N.
_RUNNER = """\
import json, os, subprocess, sys, time
start = time.perf_counter()
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
child.returncode = os.waitstatus_to_exitcode(status)
seconds = time.perf_counter() - start
with open(sys.argv[1], "w") as report:
    json.dump([seconds, child.returncode, usage.ru_maxrss], report)
"""


def timed_deliver(env: Mapping[str, str]) -> DeliverRun:
    """Time ``python -m flows.cli notifications deliver --json`` from spawn to exit, and
    take its own peak resident set."""
    command = [sys.executable, "-m", "flows.cli", "notifications", "deliver", "--json"]
    with (
        tempfile.TemporaryDirectory() as folder,
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as errors,
    ):
        report = Path(folder) / "run.json"
        runner = [sys.executable, "-I", "-S", "-c", _RUNNER, str(report), *command]
        subprocess.run(runner, env=dict(env), cwd=REPOSITORY, stdout=out, stderr=errors, check=True)
        seconds, returncode, peak_kib = json.loads(report.read_text())
        out.seek(0)
        errors.seek(0)
        if returncode != 0:
            said = errors.read().decode(errors="replace")[-3000:]
            raise SystemExit(f"deliver exited {returncode}: {said}")
        counts = json.loads(out.read())
    return DeliverRun(float(seconds), peak_kib / 1024, counts)


def outbox_state(url: str) -> tuple[int, int, int]:
    """Rows in the outbox, how many are sent, and the most attempts any of them took."""
    query = select(
        func.count(),
        func.sum(case((MessageRow.status == "sent", 1), else_=0)),
        func.max(MessageRow.attempts),
    )
    with db.engine_for(url).connect() as conn:
        rows, sent, attempts = conn.execute(query).one()
    return int(rows), int(sent or 0), int(attempts or 0)


def folder_ids(folder: Path) -> tuple[int, int]:
    """.eml files in the folder and the distinct Message-IDs among them."""
    files = list(folder.glob("*.eml"))
    ids = set()
    for path in files:
        found = MESSAGE_ID.search(path.read_bytes())
        ids.add(found.group(1) if found else b"")
    return len(files), len(ids)


def check_delivered(
    label: str, count: int, run: DeliverRun, url: str, delivered: tuple[int, int]
) -> str:
    """Exactly ``count`` out and none twice, or stop the benchmark saying what differs."""
    rows, sent, attempts = outbox_state(url)
    arrived, distinct = delivered
    problems = []
    if run.counts != {"sent": count, "failed": 0, "pending": 0}:
        problems.append(f"deliver said {run.counts}")
    if (rows, sent) != (count, count) or attempts != 1:
        problems.append(f"{sent} of {rows} rows sent, up to {attempts} attempts")
    if (arrived, distinct) != (count, count):
        problems.append(f"{arrived} delivered, {distinct} distinct Message-IDs")
    if problems:
        raise SystemExit(f"{label}: expected {count:,} delivered once: " + "; ".join(problems))
    return f"{count:,} once"


def bench_end_to_end_eml(
    backends: Sequence[str],
    counts: Sequence[int],
    admin_url: str,
    runs: int,
    verdicts: list[str],
) -> None:
    """``notifications deliver`` to the .eml folder, process start and database included;
    each case ``runs`` times, each on a fresh installation, judged by the median."""
    print("## End to end: `notifications deliver --json` to the .eml folder\n")
    print(
        "A fresh installation per run (`mentoring db upgrade`, a cycle, N check-in reminders "
        "queued in one transaction, not timed); the deliver process is timed from spawn to "
        f"exit; each case {runs} times, the median judged. The 0-message runs are what "
        "starting the program and finding nothing costs.\n"
    )
    print(
        "| database | messages | median time (s) | each run (s) | messages/s (median) "
        "| peak RSS (MiB) | delivered |"
    )
    print("|---|---:|---:|---|---:|---:|---|")
    for backend in backends:
        peaks: dict[int, float] = {}
        for index, count in enumerate(counts):
            timed: list[DeliverRun] = []
            said = ""
            for attempt in range(runs):
                with scratch_install(backend, admin_url) as scratch:
                    if index == 0 and attempt == 0:
                        _print_runs(backend, 0, [timed_deliver(scratch.env) for _ in range(runs)])
                    queue(scratch, count)
                    run = timed_deliver(scratch.env)
                    said = check_delivered(
                        f"{backend} .eml", count, run, scratch.url, folder_ids(scratch.mail_dir)
                    )
                timed.append(run)
            median = _print_runs(backend, count, timed, said)
            peaks[count] = max(run.peak_rss_mib for run in timed)
            rate = count / median
            verdicts.append(
                f".eml end to end, {backend}, {count:,}: {rate:,.0f} msg/s, the median of "
                f"{runs} (target {EML_TARGET:,}): {'met' if rate >= EML_TARGET else 'NOT met'}"
            )
        if len(peaks) > 1:
            low, high = min(peaks), max(peaks)
            growth = peaks[high] / peaks[low]
            verdicts.append(
                f"memory, {backend}: peak RSS {peaks[low]:.0f} MiB for {low:,}, "
                f"{peaks[high]:.0f} MiB for {high:,} ({growth:.2f}x; flat means within 1.2x): "
                f"{'met' if growth <= 1.2 else 'NOT met'}"
            )
    print(flush=True)


def _print_runs(backend: str, count: int, timed: Sequence[DeliverRun], said: str = "") -> float:
    """One table row for a case's runs; its median time."""
    median = statistics.median(run.seconds for run in timed)
    each = ", ".join(f"{run.seconds:.2f}" for run in timed)
    rate = f"{count / median:,.0f}" if count else ""
    peak = max(run.peak_rss_mib for run in timed)
    print(
        f"| {backend} | {count:,} | {median:.2f} | {each} | {rate} | {peak:.0f} | "
        f"{said or '(start only)'} |",
        flush=True,
    )
    return median


@contextlib.contextmanager
def environment(variables: Mapping[str, str]) -> Iterator[None]:
    """Our process's ``MENTORING_*`` variables replaced by an installation's, for a while."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("MENTORING_")}
    for name in saved:
        del os.environ[name]
    wanted = {k: v for k, v in variables.items() if k.startswith("MENTORING_")}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name in wanted:
            os.environ.pop(name, None)
        os.environ.update(saved)


def bench_statements(
    backends: Sequence[str],
    counts: Sequence[int],
    admin_url: str,
    profile_dir: Path | None,
    verdicts: list[str],
) -> None:
    """SQL statements and commits of an in-process ``deliver`` to the .eml folder."""
    print("## Statements of an in-process `deliver` (.eml folder)\n")
    print(
        "Counted by a `before_cursor_execute` listener on the engine (an `executemany` "
        "counts once); commits by a `commit` listener. The whole call: finding, claiming, "
        "recording, the audit record.\n"
    )
    print("| database | messages | time (s) | statements | per 100 messages | commits | by kind |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for backend in backends:
        per_100: dict[int, float] = {}
        for count in counts:
            with scratch_install(backend, admin_url) as scratch:
                queue(scratch, count)
                kinds, commits, seconds = _count_statements(scratch, count, profile_dir)
            total = sum(kinds.values())
            per_100[count] = total * 100 / count
            by_kind = ", ".join(f"{kind} {n:,}" for kind, n in kinds.most_common())
            shown = "(profiled)" if profile_dir else f"{seconds:.2f}"
            print(
                f"| {backend} | {count:,} | {shown} | {total:,} | {per_100[count]:.1f} | "
                f"{commits:,} | {by_kind} |",
                flush=True,
            )
        if len(per_100) > 1:
            low, high = min(per_100), max(per_100)
            flat = per_100[high] <= per_100[low] * 1.1
            verdicts.append(
                f"statements, {backend}: {per_100[low]:.1f} per 100 messages for {low:,}, "
                f"{per_100[high]:.1f} for {high:,} (flat means not growing past 1.1x): "
                f"{'met' if flat else 'NOT met'}"
            )
    print(flush=True)


def _count_statements(
    scratch: Scratch, count: int, profile_dir: Path | None
) -> tuple[Counter[str], int, float]:
    kinds: Counter[str] = Counter()
    commits = 0

    def on_statement(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        kinds[statement.lstrip().split(None, 1)[0].upper()] += 1

    def on_commit(conn: Any) -> None:
        nonlocal commits
        commits += 1

    engine = db.engine_for(scratch.url)
    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "commit", on_commit)
    profiler = cProfile.Profile() if profile_dir else None
    try:
        with environment(scratch.env):
            uow = UnitOfWork(db.session_factory(scratch.url))
            start = time.perf_counter()
            if profiler:
                profiler.enable()
            counts = notification_cases.deliver(uow)
            if profiler:
                profiler.disable()
            seconds = time.perf_counter() - start
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(engine, "commit", on_commit)
    if counts.sent != count:
        raise SystemExit(f"in-process deliver on {scratch.backend}: {counts} of {count}")
    if profiler and profile_dir:
        _write_profile(profiler, profile_dir / f"deliver-{scratch.backend}-{count}.txt")
    return kinds, commits, seconds


def _write_profile(profiler: cProfile.Profile, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as out:
        stats = pstats.Stats(profiler, stream=out).strip_dirs()
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(30)
    print(f"(profile written to {path})", file=sys.stderr)


def bench_end_to_end_smtp(
    backends: Sequence[str],
    count: int,
    admin_url: str,
    server: Connection,
    port: int,
    delay: float,
    peer_rate: float,
    verdicts: list[str],
) -> None:
    """``notifications deliver`` by SMTP with the default pool, beside the peer above."""
    ideal = pool_ideal(DEFAULT_POOL, delay)
    print("## End to end: `notifications deliver --json` by SMTP, default pool of 4\n")
    print(
        f"The same aiosmtpd ({delay * 1000:.0f} ms before each reply); only "
        "MENTORING_SMTP_HOST and MENTORING_SMTP_PORT set. The peer is the transport-level "
        f"run above ({peer_rate:.1f} msg/s, no database, no process start). "
        f"Ideal for 4 reused connections: {ideal:.0f} msg/s.\n"
    )
    print(
        "| database | messages | total time (s) | messages/s | % of ideal | x peer "
        "| peak RSS (MiB) | delivered |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for backend in backends:
        with scratch_install(backend, admin_url) as scratch:
            queue(scratch, count)
            server.send("ids")
            server.recv()
            run = timed_deliver(
                scratch.with_env(MENTORING_SMTP_HOST="127.0.0.1", MENTORING_SMTP_PORT=str(port))
            )
            server.send("ids")
            accepted, distinct, most = server.recv()
            said = check_delivered(f"{backend} SMTP", count, run, scratch.url, (accepted, distinct))
        rate = count / run.seconds
        share, speedup = rate / ideal, rate / peer_rate
        print(
            f"| {backend} | {count:,} | {run.seconds:.1f} | {rate:.1f} | {share:.0%} | "
            f"{speedup:.1f}x | {run.peak_rss_mib:.0f} | {said} (max {most} per ID) |",
            flush=True,
        )
        verdicts.append(
            f"SMTP end to end, {backend}, {count:,}, pool of 4: {share:.0%} of ideal "
            f"(target 80 %), {speedup:.1f}x the peer (target 5x): "
            f"{'met' if share >= 0.8 and speedup >= 5 else 'NOT met'}"
        )
    print(flush=True)


def _load() -> str:
    """The 1, 5 and 15 minute load averages (the machine may be shared)."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def _counts(raw: str) -> list[int]:
    return [int(part) for part in raw.split(",") if part]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=1_250, help="messages sent by SMTP")
    parser.add_argument("--delay", type=float, default=0.010, help="seconds before each reply")
    parser.add_argument("--pools", default="4,8,16", help="pool sizes, comma-separated")
    parser.add_argument("--eml", default="1250,10000", help=".eml transport sizes ('' skips)")
    parser.add_argument(
        "--end-to-end", default="1250,10000", help="end-to-end .eml sizes ('' skips)"
    )
    parser.add_argument(
        "--databases", default="sqlite,postgresql", help="end-to-end databases, comma-separated"
    )
    parser.add_argument(
        "--postgres-url", default=POSTGRES_ADMIN, help="server for scratch databases"
    )
    parser.add_argument(
        "--runs", type=int, default=3, help="runs of each end-to-end .eml case (median judged)"
    )
    parser.add_argument("--no-smtp", action="store_true", help="skip the SMTP runs")
    parser.add_argument("--quick", action="store_true", help="1,250 messages only, pool of 4 only")
    parser.add_argument("--profile", type=Path, help="write cProfile text of in-process runs")
    args = parser.parse_args(argv)
    pools = [4] if args.quick else _counts(args.pools)
    eml_counts = [1_250] if args.quick else _counts(args.eml)
    e2e_counts = [1_250] if args.quick else _counts(args.end_to_end)
    backends = [name for name in args.databases.split(",") if name]
    unknown = set(backends) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown databases: {', '.join(sorted(unknown))}")
    if args.runs < 1:
        parser.error(f"--runs must be 1 or more, not {args.runs}")
    print(f"# Delivery benchmark, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {platform.machine()}, {mp.cpu_count()} cores, Python "
        f"{platform.python_version()}; load average {_load()}\n"
    )
    with AFTERWARDS:
        _measure(args, pools, eml_counts, e2e_counts, backends)


def _measure(
    args: argparse.Namespace,
    pools: Sequence[int],
    eml_counts: Sequence[int],
    e2e_counts: Sequence[int],
    backends: Sequence[str],
) -> None:
    """Every run the command line asked for, in order, and the verdicts on the targets."""
    verdicts: list[str] = []
    messages = make_messages(args.messages)
    bench_building(messages)
    if eml_counts:
        bench_eml(eml_counts)
    if e2e_counts and backends:
        bench_end_to_end_eml(backends, e2e_counts, args.postgres_url, args.runs, verdicts)
        bench_statements(backends, e2e_counts, args.postgres_url, args.profile, verdicts)
    if not args.no_smtp:
        with smtp_server(args.delay) as (server, port):
            peer_rate = bench_smtp(messages, args.delay, pools, server, port)
            if backends:
                bench_end_to_end_smtp(
                    backends,
                    args.messages,
                    args.postgres_url,
                    server,
                    port,
                    args.delay,
                    peer_rate,
                    verdicts,
                )
    if verdicts:
        print(f"## Targets (load average now {_load()})\n")
        print("\n".join(f"- {line}" for line in verdicts))


if __name__ == "__main__":
    main()
