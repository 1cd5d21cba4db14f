"""Benchmark of mail delivery: one connection per message (the peer) against our pool.

Run ``python benchmarks/bench_delivery.py [--messages N]`` from the repository root. Not a
test: with the default 10,000 messages it takes about twenty minutes, most of it the peer.

A local aiosmtpd server (``tests/smtp_server.py``) on 127.0.0.1 waits ``--delay`` (10 ms)
before each reply, like a relay's round trip. It runs in its own process, so the server's
event loop and our client threads do not share one interpreter lock; its CPU time is
printed so a saturated server shows (on 2 cores, server CPU close to the wall time).

- peer: what ``prefect-email``'s ``email_send_message`` task does, once per message: build
  a MIMEMultipart, ``smtplib.SMTP(host, port)`` (connect, greeting), ``send_message``
  (EHLO, MAIL, RCPT, DATA) and QUIT on leaving the ``with`` block. Prefect's own per-task
  overhead is left out, which flatters the peer.
- ours: ``SmtpTransport`` with 1 reused connection, then pools of 4, 8 and 16.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import multiprocessing as mp
import platform
import smtplib
import sys
import time
from collections.abc import Callable, Sequence
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from multiprocessing.connection import Connection
from pathlib import Path

from domain.notifications import OutgoingMessage
from infra.mail import DeliveryResult, MailSettings
from infra.mail_smtp import SmtpTransport

ROUND_TRIPS_REUSED = 4  # MAIL, RCPT, DATA, end of data
ROUND_TRIPS_PEER = 7  # connect/greeting, EHLO, MAIL, RCPT, DATA, end of data, QUIT


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
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--delay", type=float, default=0.010, help="seconds before each reply")
    parser.add_argument("--pools", default="4,8,16", help="pool sizes, comma-separated")
    args = parser.parse_args(argv)
    pools = [int(size) for size in args.pools.split(",") if size]

    ours_end, theirs_end = mp.Pipe()
    process = mp.get_context("spawn").Process(target=serve, args=(theirs_end, args.delay))
    process.start()
    port = ours_end.recv()
    host = "127.0.0.1"
    sender = "Core Mentoring Program <mentoring@core.example.org>"
    print(f"# Delivery benchmark, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {platform.machine()}, {mp.cpu_count()} cores, Python "
        f"{platform.python_version()}; server: aiosmtpd on {host}:{port} in its own process, "
        f"{args.delay * 1000:.0f} ms before each reply"
    )
    print(f"messages: {args.messages:,} rendered check-in reminders (multipart text + html)\n")
    messages = make_messages(args.messages)

    def settings(connections: int) -> MailSettings:
        return MailSettings(host=host, port=port, mail_from=sender, connections=connections)

    rows = [
        measure(
            "peer (1 per message)",
            1,
            lambda: peer_send(messages, host, port, sender),
            ours_end,
            args.messages,
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
                args.messages,
            )
        )
    ours_end.send("stop")
    process.join()

    peer_rate = float(rows[0]["rate"])
    print("\n| way | connections | total time (s) | messages/s | speed-up | ideal msg/s |")
    print("|---|---:|---:|---:|---:|---:|")
    for row in rows:
        trips = ROUND_TRIPS_PEER if row is rows[0] else ROUND_TRIPS_REUSED
        ideal = int(row["connections"]) / (trips * args.delay)
        print(
            f"| {row['name']} | {row['connections']} | {float(row['seconds']):.1f} | "
            f"{float(row['rate']):.1f} | {float(row['rate']) / peer_rate:.1f}x | {ideal:.0f} |"
        )
    print(
        "\nideal = connections / (round trips per message x delay): "
        f"{ROUND_TRIPS_PEER} round trips for the peer, {ROUND_TRIPS_REUSED} on a reused one."
    )


if __name__ == "__main__":
    main()
