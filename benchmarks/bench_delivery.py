"""Benchmark of mail delivery at transport level: building messages, the .eml folder, and
SMTP with one connection per message (the peer) against our pool, side by side in one run.

Run ``python benchmarks/bench_delivery.py [--messages N] [--eml 1250,10000]`` from the
repository root. Not a test: with the default 1,250 messages it takes about three
minutes, most of it the peer (10,000 take about twenty). The outbox's database work is not
included here: these are the transports alone.

- building: CPU time per message of the ``email`` package (``build_email`` then
  ``as_bytes``, what the transports did before) and of ``MessageWriter`` (what they do now).
- .eml folder: ``EmlFolderTransport`` writing N messages to a fresh temporary folder.

A local aiosmtpd server (``tests/smtp_server.py``) on 127.0.0.1 waits ``--delay`` (10 ms)
before each reply, like a relay's round trip. It runs in its own process, so the server's
event loop and our client threads do not share one interpreter lock; its CPU time is
printed so a saturated server shows (on 2 cores, server CPU close to the wall time).

- peer: what ``prefect-email``'s ``email_send_message`` task does, once per message: build
  a MIMEMultipart, ``smtplib.SMTP(host, port)`` (connect, greeting), ``send_message``
  (EHLO, MAIL, RCPT, DATA) and QUIT on leaving the ``with`` block. Prefect's own per-task
  overhead is left out, which flatters the peer.
- ours: ``SmtpTransport`` with 1 reused connection, then pools of 4, 8 and 16. The pool
  of 4 (the default) is checked against its targets: at least 80 % of its ideal rate and
  at least 5x the peer.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import multiprocessing as mp
import platform
import shutil
import smtplib
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from multiprocessing.connection import Connection
from pathlib import Path

from domain.notifications import OutgoingMessage
from infra.mail import SMTP_POLICY, DeliveryResult, MailSettings, build_email
from infra.mail_eml import EmlFolderTransport
from infra.mail_mime import MessageWriter
from infra.mail_smtp import SmtpTransport

ROUND_TRIPS_REUSED = 4  # MAIL, RCPT, DATA, end of data
ROUND_TRIPS_PEER = 7  # connect/greeting, EHLO, MAIL, RCPT, DATA, end of data, QUIT
SENDER = "Core Mentoring Program <mentoring@core.example.org>"
DOMAIN = "core.example.org"


def _repository_on_path() -> None:
    """The benchmark borrows the test suite's helpers (its SMTP server, its messages)."""
    repo = str(Path(__file__).resolve().parents[1])
    if repo not in sys.path:
        sys.path.insert(0, repo)


def serve(conn: Connection, delay: float) -> None:
    """The server process: start, report the port, answer "stats" until "stop"."""
    _repository_on_path()
    from tests.smtp_server import SmtpTestServer

    logging.disable(logging.INFO)
    server = SmtpTestServer(delay=delay, record=False)
    server.start()
    conn.send(server.port)
    while (command := conn.recv()) != "stop":
        if command == "stats":
            handler = server.handler
            with handler.lock:
                conn.send((handler.accepted, handler.connections, time.process_time()))
    server.stop()


def make_messages(count: int) -> list[OutgoingMessage]:
    _repository_on_path()
    from tests.builders import checkin_reminders

    return checkin_reminders(count)


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
        try:
            results: list[DeliveryResult] = []
            cpu, start = time.process_time(), time.perf_counter()
            report = EmlFolderTransport(folder, SENDER).deliver(messages, results.append)
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        finally:
            shutil.rmtree(folder)
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


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=1_250, help="messages sent by SMTP")
    parser.add_argument("--delay", type=float, default=0.010, help="seconds before each reply")
    parser.add_argument("--pools", default="4,8,16", help="pool sizes, comma-separated")
    parser.add_argument("--eml", default="1250,10000", help=".eml run sizes ('' to skip)")
    parser.add_argument("--no-smtp", action="store_true", help="skip the SMTP runs")
    args = parser.parse_args(argv)
    pools = [int(size) for size in args.pools.split(",") if size]
    eml_counts = [int(count) for count in args.eml.split(",") if count]

    print(f"# Delivery benchmark, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {platform.machine()}, {mp.cpu_count()} cores, Python "
        f"{platform.python_version()}; load average {_load()}\n"
    )
    messages = make_messages(args.messages)
    bench_building(messages)
    if eml_counts:
        bench_eml(eml_counts)
    if not args.no_smtp:
        bench_smtp(messages, args.delay, pools)


def _load() -> str:
    """The 1, 5 and 15 minute load averages (the machine may be shared)."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def bench_smtp(messages: Sequence[OutgoingMessage], delay: float, pools: Sequence[int]) -> None:
    """The peer and our pools against aiosmtpd answering after ``delay``, side by side."""
    count = len(messages)
    ours_end, theirs_end = mp.Pipe()
    process = mp.get_context("spawn").Process(target=serve, args=(theirs_end, delay))
    process.start()
    port = ours_end.recv()
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
            ours_end,
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
                ours_end,
                count,
            )
        )
    ours_end.send("stop")
    process.join()

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
    default = next((row for row in rows[1:] if row["connections"] == 4), None)
    if default is not None:
        share = float(default["rate"]) / (4 / (ROUND_TRIPS_REUSED * delay))
        speedup = float(default["rate"]) / peer_rate
        verdict = "met" if share >= 0.8 and speedup >= 5 else "NOT met"
        print(
            f"pool of 4: {share:.0%} of its ideal (target 80 %), {speedup:.1f}x the peer "
            f"(target 5x): {verdict}"
        )


if __name__ == "__main__":
    main()
